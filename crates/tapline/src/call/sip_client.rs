//! A small blocking driver around the sans-IO endpoint for the simulator: one UDP socket or one
//! TCP connection to the SRS, and a loop that feeds it bytes and timeouts.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tapline_sip::{
    ClientTxId, Endpoint, EndpointConfig, Event, Message, Output, Peer, Request, Response,
    StreamFramer, Transport,
};

enum Link {
    Udp(UdpSocket),
    Tcp(TcpStream, StreamFramer),
}

/// The SIP side of the simulator.
pub(crate) struct SipClient {
    endpoint: Endpoint,
    link: Link,
    pub(crate) peer: Peer,
    pub(crate) local: SocketAddr,
    /// Responses seen, in order, for callers that wait on them.
    events: Vec<Event>,
}

impl SipClient {
    pub(crate) fn connect(
        srs: SocketAddr,
        transport: Transport,
        local_ip: std::net::IpAddr,
    ) -> anyhow::Result<SipClient> {
        let (link, local) = match transport {
            Transport::Udp => {
                let s = UdpSocket::bind(SocketAddr::new(local_ip, 0))
                    .context("binding the SIP UDP socket")?;
                let local = s.local_addr()?;
                (Link::Udp(s), local)
            }
            Transport::Tcp => {
                let s = TcpStream::connect_timeout(&srs, Duration::from_secs(5))
                    .with_context(|| format!("connecting to {srs} over TCP"))?;
                s.set_nodelay(true)?;
                let local = s.local_addr()?;
                (Link::Tcp(s, StreamFramer::new()), local)
            }
        };
        Ok(SipClient {
            endpoint: Endpoint::new(EndpointConfig::default()),
            link,
            peer: Peer {
                transport,
                addr: srs,
                conn: 1,
            },
            local,
            events: Vec::new(),
        })
    }

    pub(crate) fn send_request(&mut self, req: Request) -> anyhow::Result<ClientTxId> {
        let tx = self.endpoint.send_request(Instant::now(), self.peer, req);
        self.flush()?;
        Ok(tx)
    }

    pub(crate) fn send_stateless(&mut self, msg: Message) -> anyhow::Result<()> {
        self.endpoint.send_stateless(self.peer, msg);
        self.flush()
    }

    /// Wait for the final response of `tx`; provisional ones are skipped.
    pub(crate) fn wait_final(
        &mut self,
        tx: ClientTxId,
        limit: Duration,
    ) -> anyhow::Result<Response> {
        let deadline = Instant::now() + limit;
        loop {
            let mut found = None;
            self.events.retain(|e| match e {
                Event::Response { tx: t, response }
                    if *t == tx && response.status >= 200 && found.is_none() =>
                {
                    found = Some(Ok(response.clone()));
                    false
                }
                Event::ClientTimeout { tx: t } if *t == tx => {
                    found = Some(Err(()));
                    false
                }
                _ => true,
            });
            match found {
                Some(Ok(r)) => return Ok(r),
                Some(Err(())) => bail!("no final response (transaction timed out)"),
                None => {}
            }
            if Instant::now() >= deadline {
                bail!("no final response within {limit:?}");
            }
            self.pump(deadline.min(Instant::now() + Duration::from_millis(50)))?;
        }
    }

    /// Take events of interest collected so far (2xx retransmissions to re-ACK, requests).
    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Run IO and timers until `until`.
    pub(crate) fn pump(&mut self, until: Instant) -> anyhow::Result<()> {
        let mut buf = vec![0u8; 65_535];
        loop {
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            let mut wait = until - now;
            if let Some(t) = self.endpoint.poll_timeout() {
                wait = wait
                    .min(t.saturating_duration_since(now))
                    .max(Duration::from_millis(1));
            }
            let got = match &mut self.link {
                Link::Udp(s) => {
                    s.set_read_timeout(Some(wait))?;
                    match s.recv_from(&mut buf) {
                        Ok((n, _)) => Some(buf.get(..n).unwrap_or_default().to_vec()),
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            None
                        }
                        Err(e) if e.kind() == ErrorKind::ConnectionRefused => None,
                        Err(e) => return Err(e).context("receiving SIP"),
                    }
                }
                Link::Tcp(s, framer) => {
                    if let Some(msg) = framer.next_message() {
                        Some(msg.map_err(|e| anyhow::anyhow!("bad TCP framing from the SRS: {e}"))?)
                    } else {
                        s.set_read_timeout(Some(wait))?;
                        match s.read(&mut buf) {
                            Ok(0) => bail!("the SRS closed the TCP connection"),
                            Ok(n) => {
                                framer.push(buf.get(..n).unwrap_or_default());
                                framer.next_message().transpose().map_err(|e| {
                                    anyhow::anyhow!("bad TCP framing from the SRS: {e}")
                                })?
                            }
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    ErrorKind::WouldBlock | ErrorKind::TimedOut
                                ) =>
                            {
                                None
                            }
                            Err(e) => return Err(e).context("receiving SIP over TCP"),
                        }
                    }
                }
            };
            if let Some(bytes) = got {
                self.endpoint
                    .handle_input(Instant::now(), self.peer, &bytes);
            }
            self.endpoint.handle_timeout(Instant::now());
            self.flush()?;
        }
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        while let Some(out) = self.endpoint.poll_output() {
            match out {
                Output::Transmit { to, bytes } => match &mut self.link {
                    Link::Udp(s) => {
                        s.send_to(&bytes, to.addr).context("sending SIP")?;
                    }
                    Link::Tcp(s, _) => s.write_all(&bytes).context("sending SIP over TCP")?,
                },
                Output::Event(e) => self.events.push(e),
            }
        }
        Ok(())
    }
}

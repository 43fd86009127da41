//! SIP transports: one UDP socket and a TCP listener on the same address. They only move
//! bytes: datagrams and framed TCP messages go to the SIP core on one channel, and the core's
//! outgoing bytes come back through `Transports::send`.
//!
//! TCP connections are bounded (see `limits`): in number, in time without a message unless
//! a recording holds them (`Transports::hold`), in time for an unfinished message, and in
//! bytes waiting to be sent.

mod clock;
mod limits;
mod outbox;
mod tcp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tapline_sip::{Peer, Transport};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};

pub(crate) use limits::TcpLimits;
use outbox::Outbox;

/// Largest SIP datagram we accept (an INVITE may be up to 64 KB).
const MAX_DATAGRAM: usize = 65_535;

/// What the transports hand to the core.
pub(crate) enum Inbound {
    /// One SIP message (UDP datagram or framed TCP message).
    Message {
        peer: Peer,
        local: SocketAddr,
        bytes: Vec<u8>,
    },
    /// A TCP connection opened; what is sent on `conn` goes through `tx`.
    Connected { conn: u64, tx: ConnHandle },
    /// A TCP connection closed.
    Closed { conn: u64 },
}

/// The core's side of one TCP connection.
pub(crate) struct ConnHandle {
    /// Bounded outgoing queue.
    outbox: Arc<Outbox>,
    /// Recordings carried by the connection: while above 0 it is not closed for idleness.
    holds: watch::Sender<usize>,
}

/// The sending half, owned by the core.
pub(crate) struct Transports {
    udp: Arc<UdpSocket>,
    tcp: HashMap<u64, ConnHandle>,
}

impl Transports {
    pub(crate) fn connected(&mut self, conn: u64, tx: ConnHandle) {
        self.tcp.insert(conn, tx);
    }

    pub(crate) fn closed(&mut self, conn: u64) {
        self.tcp.remove(&conn);
    }

    /// A recording session now lives on `peer`'s connection: keep it open however long no
    /// SIP arrives on it (no-op for UDP or a connection already gone).
    pub(crate) fn hold(&mut self, peer: Peer) {
        if let Some(h) = self.tcp_of(peer) {
            h.holds.send_modify(|n| *n += 1);
        }
    }

    /// The recording session held by [`Transports::hold`] ended; the idle timeout starts
    /// again once no recording is left on the connection.
    pub(crate) fn release(&mut self, peer: Peer) {
        if let Some(h) = self.tcp_of(peer) {
            h.holds.send_modify(|n| *n = n.saturating_sub(1));
        }
    }

    fn tcp_of(&self, peer: Peer) -> Option<&ConnHandle> {
        match peer.transport {
            Transport::Tcp => self.tcp.get(&peer.conn),
            Transport::Udp => None,
        }
    }

    /// Send without waiting; a full socket buffer drops the datagram (SIP retransmits).
    pub(crate) fn send(&self, to: Peer, bytes: Vec<u8>) {
        match to.transport {
            Transport::Udp => {
                if let Err(e) = self.udp.try_send_to(&bytes, to.addr) {
                    tracing::warn!(to = %to.addr, error = %e, "UDP send failed");
                }
            }
            Transport::Tcp => match self.tcp.get(&to.conn) {
                Some(h) => {
                    // On overflow the connection's task logs it and closes the connection.
                    if let Err(e) = h.outbox.push(bytes) {
                        tracing::debug!(to = %to.addr, conn = to.conn, error = %e, "TCP message dropped");
                    }
                }
                None => {
                    tracing::warn!(to = %to.addr, conn = to.conn, "TCP connection gone; message dropped")
                }
            },
        }
    }
}

/// Bind UDP and TCP on `addr` and start the receive tasks.
pub(crate) async fn start(
    addr: SocketAddr,
    limits: TcpLimits,
    inbound: mpsc::Sender<Inbound>,
) -> anyhow::Result<(Transports, SocketAddr)> {
    let (udp, tcp) = bind_pair(addr).await?;
    let udp = Arc::new(udp);
    let bound = udp.local_addr()?;
    tokio::spawn(udp_loop(udp.clone(), bound, inbound.clone()));
    tokio::spawn(tcp::accept_loop(tcp, inbound, limits));
    Ok((
        Transports {
            udp,
            tcp: HashMap::new(),
        },
        bound,
    ))
}

/// UDP and TCP on the same address. With port 0 the OS picks the UDP port, and TCP takes the
/// same number; that number can be busy for TCP (an ephemeral TCP port of another
/// connection), so a few picks are tried before giving up.
async fn bind_pair(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    let attempts = if addr.port() == 0 { 20 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(addr).await?;
        let bound = udp.local_addr()?;
        match TcpListener::bind(bound).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && addr.port() == 0 => {
                last = Some(e)
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port free for both UDP and TCP")))
}

async fn udp_loop(udp: Arc<UdpSocket>, local: SocketAddr, inbound: mpsc::Sender<Inbound>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match udp.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let bytes = buf.get(..n).unwrap_or_default().to_vec();
                // Keep-alive CRLFs (RFC 5626 4.4.1 style) carry nothing for the core.
                if bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
                    continue;
                }
                let peer = Peer {
                    transport: Transport::Udp,
                    addr: from,
                    conn: 0,
                };
                if inbound
                    .send(Inbound::Message { peer, local, bytes })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(e) => {
                // ICMP port unreachable from an earlier send shows up here on Linux: ignore.
                tracing::debug!(error = %e, "UDP receive error");
            }
        }
    }
}

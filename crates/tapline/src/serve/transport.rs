//! SIP transports: one UDP socket and a TCP listener on the same address. They only move
//! bytes: datagrams and framed TCP messages go to the SIP core on one channel, and the core's
//! outgoing bytes come back through `Transports::send`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tapline_sip::{Peer, StreamFramer, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

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
    /// A TCP connection opened; responses for `conn` go to `tx`.
    Connected {
        conn: u64,
        tx: mpsc::UnboundedSender<Vec<u8>>,
    },
    /// A TCP connection closed.
    Closed { conn: u64 },
}

/// The sending half, owned by the core.
pub(crate) struct Transports {
    udp: Arc<UdpSocket>,
    tcp: HashMap<u64, mpsc::UnboundedSender<Vec<u8>>>,
}

impl Transports {
    pub(crate) fn connected(&mut self, conn: u64, tx: mpsc::UnboundedSender<Vec<u8>>) {
        self.tcp.insert(conn, tx);
    }

    pub(crate) fn closed(&mut self, conn: u64) {
        self.tcp.remove(&conn);
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
                Some(tx) => {
                    let _ = tx.send(bytes);
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
    inbound: mpsc::Sender<Inbound>,
) -> anyhow::Result<(Transports, SocketAddr)> {
    let (udp, tcp) = bind_pair(addr).await?;
    let udp = Arc::new(udp);
    let bound = udp.local_addr()?;
    tokio::spawn(udp_loop(udp.clone(), bound, inbound.clone()));
    tokio::spawn(tcp_accept(tcp, inbound));
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

async fn tcp_accept(listener: TcpListener, inbound: mpsc::Sender<Inbound>) {
    let mut next_conn: u64 = 1;
    loop {
        match listener.accept().await {
            Ok((stream, from)) => {
                let conn = next_conn;
                next_conn += 1;
                tokio::spawn(tcp_connection(stream, from, conn, inbound.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn tcp_connection(
    stream: TcpStream,
    from: SocketAddr,
    conn: u64,
    inbound: mpsc::Sender<Inbound>,
) {
    let local = match stream.local_addr() {
        Ok(a) => a,
        Err(_) => return,
    };
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    if inbound
        .send(Inbound::Connected {
            conn,
            tx: tx.clone(),
        })
        .await
        .is_err()
    {
        return;
    }
    let write_task = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let peer = Peer {
        transport: Transport::Tcp,
        addr: from,
        conn,
    };
    let mut framer = StreamFramer::new();
    let mut buf = vec![0u8; 16 * 1024];
    'read: loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        framer.push(buf.get(..n).unwrap_or_default());
        loop {
            match framer.next_message() {
                None => break,
                Some(Ok(bytes)) => {
                    let msg = Inbound::Message { peer, local, bytes };
                    if inbound.send(msg).await.is_err() {
                        break 'read;
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(from = %from, error = %e, "closing TCP connection: bad framing");
                    break 'read;
                }
            }
        }
        // RFC 5626 4.4.1: answer each CRLFCRLF ping with a CRLF pong (the framer counts them
        // while it frames, so ask after the loop).
        for _ in 0..framer.take_keepalives() {
            let _ = tx.send(b"\r\n".to_vec());
        }
    }
    drop(tx);
    write_task.abort();
    let _ = inbound.send(Inbound::Closed { conn }).await;
}

//! Transport identity of the remote side of a message.

use std::net::SocketAddr;

/// Transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Unreliable datagrams: the transaction layer retransmits (RFC 3261 17).
    Udp,
    /// Reliable stream: no retransmissions, framed by Content-Length (RFC 3261 18.3).
    Tcp,
}

impl Transport {
    /// Token used in Via (`UDP` / `TCP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// True for transports that need SIP-level retransmission.
    pub fn is_unreliable(self) -> bool {
        self == Transport::Udp
    }
}

/// Where a message came from / goes to. `conn` is the TCP connection id chosen by the IO
/// layer (0 for UDP); responses go back on the same connection (RFC 3261 18.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Transport.
    pub transport: Transport,
    /// Remote address.
    pub addr: SocketAddr,
    /// Connection id (TCP), 0 for UDP.
    pub conn: u64,
}

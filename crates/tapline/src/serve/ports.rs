//! RTP/RTCP port pairs: an even RTP port and the odd RTCP port above it (RFC 3550 11),
//! handed out round-robin from the configured range and returned when a recording ends.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

use crate::config::PortRange;

/// A bound RTP/RTCP socket pair.
#[derive(Debug)]
pub(crate) struct BoundPair {
    pub(crate) rtp_port: u16,
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
}

/// Free even ports of the range. Ports whose bind fails (taken by another process) are put at
/// the back of the queue and the next one is tried.
#[derive(Debug)]
pub(crate) struct PortPool {
    free: VecDeque<u16>,
}

impl PortPool {
    pub(crate) fn new(range: PortRange) -> PortPool {
        let first = if range.low % 2 == 0 {
            range.low
        } else {
            range.low.saturating_add(1)
        };
        let free = (first..range.high)
            .step_by(2)
            .filter(|p| p.checked_add(1).is_some_and(|rtcp| rtcp <= range.high))
            .collect();
        PortPool { free }
    }

    /// Number of pairs not handed out.
    pub(crate) fn available(&self) -> usize {
        self.free.len()
    }

    /// Bind the next free pair on the unspecified address of `family`.
    pub(crate) fn allocate(&mut self, v6: bool) -> Option<BoundPair> {
        let attempts = self.free.len();
        for _ in 0..attempts {
            let port = self.free.pop_front()?;
            match bind_pair(port, v6) {
                Ok((rtp, rtcp)) => {
                    return Some(BoundPair {
                        rtp_port: port,
                        rtp,
                        rtcp,
                    });
                }
                Err(e) => {
                    tracing::debug!(port, error = %e, "RTP port busy, trying the next");
                    self.free.push_back(port);
                }
            }
        }
        None
    }

    /// Give a pair back (its sockets must have been dropped).
    pub(crate) fn release(&mut self, rtp_port: u16) {
        self.free.push_back(rtp_port);
    }
}

fn bind_pair(port: u16, v6: bool) -> std::io::Result<(UdpSocket, UdpSocket)> {
    let ip: IpAddr = if v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    let rtp = bind_one(SocketAddr::new(ip, port))?;
    let rtcp = bind_one(SocketAddr::new(ip, port + 1))?;
    Ok((rtp, rtcp))
}

fn bind_one(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // Accept IPv4-mapped traffic as well only when asked for v6 explicitly.
        socket.set_only_v6(false)?;
    }
    // A larger receive buffer absorbs bursts while the media thread is busy.
    let _ = socket.set_recv_buffer_size(256 * 1024);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_even_and_inside_the_range() {
        let mut pool = PortPool::new(PortRange {
            low: 41001,
            high: 41010,
        });
        assert_eq!(pool.available(), 4); // 41002, 41004, 41006, 41008 (41010 has no RTCP port)
        let a = pool.allocate(false).unwrap();
        assert_eq!(a.rtp_port % 2, 0);
        assert_eq!(a.rtcp.local_addr().unwrap().port(), a.rtp_port + 1);
        let port = a.rtp_port;
        drop(a);
        pool.release(port);
        assert_eq!(pool.available(), 4);
    }

    #[test]
    fn busy_ports_are_skipped_and_exhaustion_is_none() {
        let mut pool = PortPool::new(PortRange {
            low: 41100,
            high: 41103,
        });
        let _squatter = UdpSocket::bind("0.0.0.0:41100");
        let got = pool.allocate(false);
        match got {
            Some(p) => assert_eq!(p.rtp_port, 41102),
            None => panic!("the free pair was not found"),
        }
        assert!(pool.allocate(false).is_none());
    }
}

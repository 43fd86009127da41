//! RTP/RTCP port pairs: an even RTP port and the odd RTCP port above it (RFC 3550 11), handed
//! out in random order from the configured range (the next call's ports are not predictable)
//! and bound on the media address only.
//!
//! A pair is a lease: its port returns to the pool when the [`BoundPair`] (or the [`Lease`]
//! taken out of it) is dropped, on whatever path the session leaves by — a rejection, a
//! cancellation, a removed stream, the end of the recording. Nothing releases ports by hand.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex, PoisonError};

use socket2::{Domain, Protocol, Socket, Type};

use crate::config::PortRange;

/// Why no pair could be bound.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PortError {
    /// Every pair of the range is in use.
    #[error("no free RTP ports ({total} pairs, all in use)")]
    Exhausted { total: usize },
    /// The process is out of file descriptors (EMFILE/ENFILE): raise `ulimit -n`.
    #[error("out of file descriptors binding RTP sockets (raise the open-files limit): {0}")]
    Descriptors(std::io::Error),
    /// Every free pair failed to bind for another reason (ports used by another process, the
    /// media address not local).
    #[error("no RTP port pair could be bound: {0}")]
    Bind(std::io::Error),
}

/// Free even ports of the range, shared between the SIP core (which takes them) and the media
/// threads (whose dropped sockets give them back).
#[derive(Debug, Clone)]
pub(crate) struct PortPool {
    inner: Arc<Mutex<Free>>,
}

#[derive(Debug)]
struct Free {
    ports: Vec<u16>,
    total: usize,
    rng: fastrand::Rng,
}

/// One pair's claim on the pool: the port goes back when it is dropped. Keep it beside the
/// sockets, declared after them, so the port is free only once they are closed.
#[derive(Debug)]
pub(crate) struct Lease {
    port: u16,
    pool: PortPool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.lock().ports.push(self.port);
    }
}

/// A bound RTP/RTCP socket pair and its lease.
#[derive(Debug)]
pub(crate) struct BoundPair {
    pub(crate) rtp_port: u16,
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
    pub(crate) lease: Lease,
}

impl PortPool {
    pub(crate) fn new(range: PortRange) -> PortPool {
        let first = if range.low % 2 == 0 {
            range.low
        } else {
            range.low.saturating_add(1)
        };
        let ports: Vec<u16> = (first..range.high)
            .step_by(2)
            .filter(|p| p.checked_add(1).is_some_and(|rtcp| rtcp <= range.high))
            .collect();
        // The order must not be guessable from outside: seed from the OS generator.
        let seed = getrandom::u64().unwrap_or_else(|_| fastrand::u64(..));
        PortPool {
            inner: Arc::new(Mutex::new(Free {
                total: ports.len(),
                ports,
                rng: fastrand::Rng::with_seed(seed),
            })),
        }
    }

    /// The lock is taken a few times per call (never per packet).
    fn lock(&self) -> std::sync::MutexGuard<'_, Free> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Pairs not handed out.
    pub(crate) fn available(&self) -> usize {
        self.lock().ports.len()
    }

    /// Pairs in the range.
    pub(crate) fn total(&self) -> usize {
        self.lock().total
    }

    /// Bind a random free pair on `ip`. Ports whose bind fails (taken by another process) stay
    /// in the pool and another is tried.
    pub(crate) fn allocate(&self, ip: IpAddr) -> Result<BoundPair, PortError> {
        let mut last_error = None;
        // Pairs that failed stay out until the search ends, so none is tried twice.
        let mut failed = Vec::new();
        let attempts = self.available().min(64);
        for _ in 0..attempts {
            let Some(port) = self.take_random() else {
                break;
            };
            let lease = Lease {
                port,
                pool: self.clone(),
            };
            match bind_pair(port, ip) {
                Ok((rtp, rtcp)) => {
                    return Ok(BoundPair {
                        rtp_port: port,
                        rtp,
                        rtcp,
                        lease,
                    });
                }
                Err(e) if is_out_of_descriptors(&e) => return Err(PortError::Descriptors(e)),
                Err(e) => {
                    tracing::debug!(port, error = %e, "RTP port busy, trying another");
                    last_error = Some(e);
                    failed.push(lease);
                }
            }
        }
        Err(match last_error {
            Some(e) => PortError::Bind(e),
            None => PortError::Exhausted {
                total: self.total(),
            },
        })
    }

    fn take_random(&self) -> Option<u16> {
        let mut free = self.lock();
        if free.ports.is_empty() {
            return None;
        }
        let len = free.ports.len();
        let i = free.rng.usize(..len);
        Some(free.ports.swap_remove(i))
    }
}

fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == nix::libc::EMFILE || code == nix::libc::ENFILE
    )
}

/// The address RTP sockets bind: the configured media address when it is one of this host's
/// addresses (`local_media`, see [`is_local`]), otherwise (behind NAT, where the SDP carries a
/// public address) the local address facing the SRC. An offer in the other family than that
/// address gets the unspecified address of its family.
pub(crate) fn bind_address(local_media: Option<IpAddr>, facing: IpAddr, v6: bool) -> IpAddr {
    let ip = local_media.unwrap_or(facing);
    match (ip.is_ipv6(), v6) {
        (false, false) | (true, true) => ip,
        (_, true) => Ipv6Addr::UNSPECIFIED.into(),
        (_, false) => Ipv4Addr::UNSPECIFIED.into(),
    }
}

/// Whether `ip` can be bound here (one of this host's addresses).
pub(crate) fn is_local(ip: IpAddr) -> bool {
    UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

fn bind_pair(port: u16, ip: IpAddr) -> std::io::Result<(UdpSocket, UdpSocket)> {
    let rtp = bind_one(SocketAddr::new(ip, port))?;
    let rtcp = bind_one(SocketAddr::new(ip, port + 1))?;
    Ok((rtp, rtcp))
}

fn bind_one(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        // The unspecified v6 address also takes IPv4-mapped traffic.
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

    const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn pairs_are_even_inside_the_range_and_return_on_drop() {
        let pool = PortPool::new(PortRange {
            low: 41001,
            high: 41010,
        });
        assert_eq!(pool.available(), 4); // 41002, 41004, 41006, 41008 (41010 has no RTCP port)
        assert_eq!(pool.total(), 4);
        let a = pool.allocate(LO).unwrap();
        assert_eq!(a.rtp_port % 2, 0);
        assert!((41002..=41008).contains(&a.rtp_port));
        assert_eq!(a.rtcp.local_addr().unwrap().port(), a.rtp_port + 1);
        assert_eq!(
            a.rtp.local_addr().unwrap().ip(),
            LO,
            "bound on the media address"
        );
        assert_eq!(pool.available(), 3);
        drop(a);
        assert_eq!(pool.available(), 4);
    }

    #[test]
    fn a_lease_taken_apart_still_returns_its_port() {
        let pool = PortPool::new(PortRange {
            low: 41020,
            high: 41023,
        });
        let BoundPair {
            rtp, rtcp, lease, ..
        } = pool.allocate(LO).unwrap();
        drop((rtp, rtcp));
        assert_eq!(pool.available(), 1);
        drop(lease);
        assert_eq!(pool.available(), 2);
    }

    #[test]
    fn busy_ports_are_skipped_and_exhaustion_is_an_error() {
        let pool = PortPool::new(PortRange {
            low: 41100,
            high: 41103,
        });
        let _squatter = UdpSocket::bind("127.0.0.1:41100");
        let got = pool.allocate(LO).expect("the free pair was not found");
        assert_eq!(got.rtp_port, 41102);
        match pool.allocate(LO) {
            Err(PortError::Bind(_)) => {}
            other => panic!("expected a bind failure, got {other:?}"),
        }
        drop(_squatter);
        let again = pool.allocate(LO).unwrap();
        assert_eq!(again.rtp_port, 41100);
        match pool.allocate(LO) {
            Err(PortError::Exhausted { total: 2 }) => {}
            other => panic!("expected exhaustion, got {other:?}"),
        }
        drop((got, again));
        assert_eq!(pool.available(), 2);
    }

    #[test]
    fn the_order_is_not_sequential() {
        let pool = PortPool::new(PortRange {
            low: 42000,
            high: 42399,
        });
        let pairs: Vec<BoundPair> = (0..20).map(|_| pool.allocate(LO).unwrap()).collect();
        let ports: Vec<u16> = pairs.iter().map(|p| p.rtp_port).collect();
        let ascending = ports.windows(2).all(|w| w[1] == w[0] + 2);
        assert!(!ascending, "ports handed out in order: {ports:?}");
    }

    #[test]
    fn the_bind_address_is_the_media_address_when_local() {
        let facing: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(bind_address(Some(LO), facing, false), LO);
        let public: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(!is_local(public));
        assert!(is_local(LO));
        assert_eq!(bind_address(None, facing, false), facing);
        assert_eq!(
            bind_address(None, facing, true),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        );
    }
}

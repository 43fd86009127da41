//! Batched datagram reads: one `recvmmsg(2)` takes up to [`BATCH`] queued datagrams from a
//! socket into buffers allocated once per media thread.
//!
//! Why a short batch ends the drain without another call: mio registers sockets edge-triggered,
//! and Linux re-queues an edge-triggered socket on every datagram that arrives after
//! `epoll_wait` reported it. A batch shorter than [`BATCH`] means the queue was empty at the
//! end of the call, so anything later raises a new event. The `recv_from` loop it replaces
//! needed one extra call per event just to see `EWOULDBLOCK`.

use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};

/// Datagrams per `recvmmsg` call.
pub(crate) const BATCH: usize = 32;
/// Largest datagram kept whole; RTP on an Ethernet path fits well below it.
const DATAGRAM_MAX: usize = 2048;

/// Preallocated buffers and headers for one thread's batched reads.
pub(crate) struct RecvBatch {
    bufs: Box<[[u8; DATAGRAM_MAX]; BATCH]>,
    headers: MultiHeaders<SockaddrStorage>,
    /// Per received datagram: its length and sender.
    meta: [(usize, Option<SocketAddr>); BATCH],
}

/// How a drain went, for the shard's own accounting.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Drained {
    /// Datagrams handed to the callback.
    pub(crate) datagrams: usize,
    /// `recvmmsg` calls made.
    pub(crate) calls: usize,
}

impl RecvBatch {
    /// Allocate the buffers (once per media thread).
    pub(crate) fn new() -> RecvBatch {
        RecvBatch {
            bufs: Box::new([[0u8; DATAGRAM_MAX]; BATCH]),
            headers: MultiHeaders::preallocate(BATCH, None),
            meta: [(0, None); BATCH],
        }
    }

    /// Read every datagram queued on socket `fd` and call `f(datagram, sender)` for each. Errors
    /// other than "nothing queued" end the drain (they are logged at debug level: a UDP socket
    /// has nothing useful to report to the recording).
    pub(crate) fn drain(&mut self, fd: RawFd, mut f: impl FnMut(&[u8], SocketAddr)) -> Drained {
        let mut done = Drained::default();
        loop {
            let count = match self.read(fd) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => 0,
                Err(e) => {
                    tracing::debug!(error = %e, "RTP receive error");
                    0
                }
            };
            done.calls = done.calls.saturating_add(1);
            for (k, (len, from)) in self.meta.iter().take(count).enumerate() {
                let (Some(buf), Some(from)) = (self.bufs.get(k), from) else {
                    continue;
                };
                if let Some(datagram) = buf.get(..*len) {
                    done.datagrams = done.datagrams.saturating_add(1);
                    f(datagram, *from);
                }
            }
            if count < BATCH {
                return done;
            }
        }
    }

    /// One `recvmmsg` call; fills `meta` and returns how many datagrams arrived.
    fn read(&mut self, fd: RawFd) -> Result<usize, Errno> {
        let mut iov = self.bufs.each_mut().map(|b| [IoSliceMut::new(b)]);
        let results = recvmmsg(
            fd,
            &mut self.headers,
            iov.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )?;
        let mut count = 0;
        for (slot, msg) in self.meta.iter_mut().zip(results) {
            // A truncated datagram is not RTP we can trust; length 0 makes it foreign.
            let len = if msg.flags.contains(MsgFlags::MSG_TRUNC) {
                0
            } else {
                msg.bytes
            };
            *slot = (len, msg.address.as_ref().and_then(to_std));
            count += 1;
        }
        Ok(count)
    }
}

fn to_std(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::from(*v4));
    }
    a.as_sockaddr_in6().map(|v6| SocketAddr::from(*v6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    fn pair() -> (UdpSocket, UdpSocket) {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_nonblocking(true).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        (rx, tx)
    }

    #[test]
    fn drains_more_than_one_batch_in_order_with_senders() {
        let (rx, tx) = pair();
        let n = BATCH * 2 + 5;
        for i in 0..n {
            tx.send_to(&[i as u8; 12], rx.local_addr().unwrap())
                .unwrap();
        }
        let mut batch = RecvBatch::new();
        let mut seen = Vec::new();
        let d = batch.drain(rx.as_raw_fd(), |data, from| {
            assert_eq!(from, tx.local_addr().unwrap());
            assert_eq!(data.len(), 12);
            seen.push(data[0]);
        });
        assert_eq!(seen, (0..n).map(|i| i as u8).collect::<Vec<_>>());
        assert_eq!(d.datagrams, n);
        // Two full batches and one short one; no extra call to see EWOULDBLOCK.
        assert_eq!(d.calls, 3);
    }

    #[test]
    fn empty_socket_is_one_call_and_nothing() {
        let (rx, _tx) = pair();
        let d = RecvBatch::new().drain(rx.as_raw_fd(), |_, _| panic!("nothing was sent"));
        assert_eq!(
            d,
            Drained {
                datagrams: 0,
                calls: 1
            }
        );
    }

    #[test]
    fn oversized_datagram_is_reported_empty() {
        let (rx, tx) = pair();
        tx.send_to(&[7u8; DATAGRAM_MAX + 100], rx.local_addr().unwrap())
            .unwrap();
        tx.send_to(&[1u8; 20], rx.local_addr().unwrap()).unwrap();
        let mut lens = Vec::new();
        RecvBatch::new().drain(rx.as_raw_fd(), |data, _| lens.push(data.len()));
        assert_eq!(lens, vec![0, 20]);
    }

    #[test]
    fn a_short_batch_leaves_the_edge_triggered_socket_armed() {
        use mio::{Events, Interest, Poll, Token};
        use std::time::Duration;
        let (rx, tx) = pair();
        let to = rx.local_addr().unwrap();
        let mut rx = mio::net::UdpSocket::from_std(rx);
        let mut poll = Poll::new().unwrap();
        poll.registry()
            .register(&mut rx, Token(0), Interest::READABLE)
            .unwrap();
        let mut events = Events::with_capacity(4);
        let mut batch = RecvBatch::new();
        for round in 0..3u8 {
            tx.send_to(&[round; 3], to).unwrap();
            poll.poll(&mut events, Some(Duration::from_secs(5)))
                .unwrap();
            assert!(!events.is_empty(), "round {round}: no readable event");
            let mut got = Vec::new();
            let d = batch.drain(rx.as_raw_fd(), |data, _| got.push(data[0]));
            assert_eq!(got, vec![round]);
            assert_eq!(d.calls, 1, "stopped without waiting for EWOULDBLOCK");
        }
    }
}

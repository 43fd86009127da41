//! Up to 64 RTP packets for one socket, sent with one `sendmmsg(2)` call. Each packet is two
//! iovecs: its own 12-byte header and the shared pre-encoded payload, so nothing is copied.

use std::io::IoSlice;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;

use nix::sys::socket::{ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, sendmmsg};

use super::tone::Tones;

/// Packets per `sendmmsg` call.
pub(crate) const BATCH: usize = 64;

/// Packets queued for one socket.
pub(crate) struct Batch {
    headers: Vec<[u8; 12]>,
    /// (stream role, packet index): which tone frame is the payload.
    payloads: Vec<(usize, u64)>,
    addrs: Vec<Option<SockaddrStorage>>,
    /// The pacer's stream id of each packet, to credit successful sends.
    owners: Vec<u32>,
    headers_mm: MultiHeaders<SockaddrStorage>,
}

/// What one flush did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlushOutcome {
    pub(crate) syscalls: u64,
    pub(crate) errors: u64,
}

impl Batch {
    pub(crate) fn new() -> Batch {
        Batch {
            headers: Vec::with_capacity(BATCH),
            payloads: Vec::with_capacity(BATCH),
            addrs: Vec::with_capacity(BATCH),
            owners: Vec::with_capacity(BATCH),
            headers_mm: MultiHeaders::preallocate(BATCH, None),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.headers.len() >= BATCH
    }

    /// Queue one packet of stream `owner`.
    pub(crate) fn push(
        &mut self,
        owner: u32,
        header: [u8; 12],
        payload: (usize, u64),
        to: SockaddrStorage,
    ) {
        self.headers.push(header);
        self.payloads.push(payload);
        self.addrs.push(Some(to));
        self.owners.push(owner);
    }

    /// Send everything queued; `credit` is called with the owner of every packet the kernel
    /// took. A packet the kernel refuses is skipped (counted in `errors`) so one bad
    /// destination cannot wedge the pacer.
    pub(crate) fn flush(
        &mut self,
        sock: &UdpSocket,
        tones: &Tones,
        mut credit: impl FnMut(u32),
    ) -> FlushOutcome {
        let mut outcome = FlushOutcome::default();
        let iovs: Vec<[IoSlice<'_>; 2]> = self
            .headers
            .iter()
            .zip(&self.payloads)
            .map(|(h, &(role, n))| [IoSlice::new(h), IoSlice::new(tones.frame(role, n))])
            .collect();
        let fd = sock.as_raw_fd();
        let mut start = 0;
        while start < iovs.len() {
            let (Some(slices), Some(addrs)) = (iovs.get(start..), self.addrs.get(start..)) else {
                break;
            };
            outcome.syscalls += 1;
            let cmsgs: [ControlMessage<'_>; 0] = [];
            match sendmmsg(
                fd,
                &mut self.headers_mm,
                slices,
                addrs,
                cmsgs,
                MsgFlags::empty(),
            ) {
                Ok(results) => {
                    let sent = results.count();
                    for owner in self.owners.get(start..start + sent).unwrap_or_default() {
                        credit(*owner);
                    }
                    start += sent.max(1);
                    if sent == 0 {
                        outcome.errors += 1;
                    }
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => {
                    // The first message of the remainder failed: drop it, send the rest.
                    outcome.errors += 1;
                    start += 1;
                }
            }
        }
        drop(iovs);
        self.headers.clear();
        self.payloads.clear();
        self.addrs.clear();
        self.owners.clear();
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::CodecArg;

    #[test]
    fn one_flush_delivers_every_packet_with_its_header_and_payload() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let to = SockaddrStorage::from(rx.local_addr().unwrap());
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tones = Tones::new(CodecArg::Pcmu).unwrap();
        let mut b = Batch::new();
        for i in 0..BATCH as u32 + 6 {
            if b.is_full() {
                let o = b.flush(&tx, &tones, |_| {});
                assert_eq!(o.errors, 0);
            }
            let mut h = [0u8; 12];
            h[0] = 0x80;
            h[11] = i as u8;
            b.push(i, h, (1, u64::from(i)), to);
        }
        let mut credited = Vec::new();
        let o = b.flush(&tx, &tones, |s| credited.push(s));
        assert_eq!(
            o,
            FlushOutcome {
                syscalls: 1,
                errors: 0
            }
        );
        assert_eq!(credited, (64..70).collect::<Vec<u32>>());
        let mut buf = [0u8; 2048];
        for i in 0..BATCH + 6 {
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(n, 12 + 160);
            assert_eq!(usize::from(buf[11]), i);
            assert_eq!(&buf[12..n], tones.frame(1, i as u64));
        }
    }
}

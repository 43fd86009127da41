//! Datagrams kept aside while `auto` waits to see whether the offered address sends (see
//! [`super::source`]): bounded in bytes and packets, allocated once, the first time a stream
//! needs it (streams whose source is the offered address never do).

use std::net::SocketAddr;
use std::time::Instant;

/// At most this many bytes of held datagrams per stream (a few seconds of G.711 at 20 ms).
const MAX_BYTES: usize = 96 * 1024;
/// At most this many held datagrams per stream.
const MAX_PACKETS: usize = 512;

/// Held datagrams with their arrival times, in arrival order, all from one source.
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// Where the held datagrams came from (`None` while nothing is held).
    from: Option<SocketAddr>,
    bytes: Vec<u8>,
    packets: Vec<(Instant, usize, usize)>,
    /// Datagrams that did not fit.
    overflow: u64,
}

impl Held {
    /// Keep `datagram` from `from`, arrived `at`; beyond the bounds it is counted, not kept.
    pub(crate) fn push(&mut self, at: Instant, from: SocketAddr, datagram: &[u8]) {
        self.from.get_or_insert(from);
        if self.bytes.capacity() == 0 {
            self.bytes.reserve_exact(MAX_BYTES);
            self.packets.reserve_exact(MAX_PACKETS);
        }
        let start = self.bytes.len();
        if self.packets.len() >= MAX_PACKETS || start + datagram.len() > MAX_BYTES {
            self.overflow = self.overflow.saturating_add(1);
            return;
        }
        self.bytes.extend_from_slice(datagram);
        self.packets.push((at, start, datagram.len()));
    }

    /// Datagrams received while holding (kept or not).
    pub(crate) fn count(&self) -> u64 {
        (self.packets.len() as u64).saturating_add(self.overflow)
    }

    /// Where the held datagrams came from.
    pub(crate) fn source(&self) -> Option<SocketAddr> {
        self.from
    }

    /// Forget everything (the memory stays for a later hold).
    pub(crate) fn clear(&mut self) {
        self.from = None;
        self.bytes.clear();
        self.packets.clear();
        self.overflow = 0;
    }

    /// Hand each kept datagram, in arrival order, to `f`, then clear.
    pub(crate) fn replay(&mut self, mut f: impl FnMut(Instant, &[u8])) {
        for &(at, start, len) in &self.packets {
            if let Some(d) = self.bytes.get(start..start + len) {
                f(at, d);
            }
        }
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_in_order_and_bounds_what_it_keeps() {
        let t0 = Instant::now();
        let from: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let mut h = Held::default();
        h.push(t0, from, b"one");
        h.push(t0, from, b"two");
        assert_eq!(h.source(), Some(from));
        let mut seen = Vec::new();
        h.replay(|_, d| seen.push(d.to_vec()));
        assert_eq!(seen, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(h.count(), 0);
        assert_eq!(h.source(), None);
        let big = vec![0u8; 1000];
        for _ in 0..200 {
            h.push(t0, from, &big);
        }
        assert_eq!(h.count(), 200);
        let mut kept = 0;
        h.replay(|_, _| kept += 1);
        assert_eq!(kept, MAX_BYTES / 1000);
    }
}

//! Per-source sequence bookkeeping: extension across wrap-around, duplicate detection,
//! loss and interarrival jitter (RFC 3550 appendix A.1, A.3, A.8).

/// A.1: a forward jump larger than this is not trusted until confirmed.
const MAX_DROPOUT: i64 = 3000;
/// A.1: a backward step larger than this is not a reordered packet.
const MAX_MISORDER: i64 = 100;
/// Duplicate window: the last 256 sequence numbers (4 x 64-bit words, 32 bytes).
const WINDOW_WORDS: usize = 4;
const WINDOW: i64 = 64 * WINDOW_WORDS as i64;

/// What the tracker made of a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqVerdict {
    /// Not seen before; `newest` when it advanced the highest sequence number.
    Fresh { ext: i64, newest: bool },
    /// Already received (inside the 256-packet window).
    Duplicate,
    /// A large jump held on probation (A.1 `bad_seq`); the packet is dropped.
    Probation,
    /// The jump was confirmed by the next packet: a new sequence epoch started.
    Restarted { ext: i64 },
}

/// Sequence state for one SSRC. Fixed size, no allocation.
#[derive(Debug, Clone)]
pub(crate) struct SeqTracker {
    started: bool,
    max_ext: i64,
    min_ext: i64,
    /// Bit i of the window = packet `max_ext - i` received.
    seen: [u64; WINDOW_WORDS],
    /// A.1 `bad_seq`: the sequence number that would confirm a jump.
    bad_seq: Option<u16>,
    /// Unique packets received in this epoch.
    received: u64,
    /// Loss of closed epochs (each clamped at 0).
    lost_closed: u64,
    /// Unique packets of closed epochs.
    received_closed: u64,
    /// A.8 jitter scaled by 16, and the previous transit time.
    jitter16: u64,
    last_transit: Option<i64>,
}

impl SeqTracker {
    pub(crate) fn new() -> Self {
        SeqTracker {
            started: false,
            max_ext: 0,
            min_ext: 0,
            seen: [0; WINDOW_WORDS],
            bad_seq: None,
            received: 0,
            lost_closed: 0,
            received_closed: 0,
            jitter16: 0,
            last_transit: None,
        }
    }

    /// Closes the current epoch (new SSRC or confirmed jump) keeping its loss count.
    pub(crate) fn restart(&mut self) {
        self.lost_closed = self.lost_closed.saturating_add(self.epoch_lost());
        self.received_closed = self.received_closed.saturating_add(self.received);
        self.received = 0;
        self.started = false;
        self.seen = [0; WINDOW_WORDS];
        self.bad_seq = None;
        self.last_transit = None;
    }

    fn epoch_lost(&self) -> u64 {
        if !self.started {
            return 0;
        }
        let expected = (self.max_ext - self.min_ext + 1).max(0) as u64;
        expected.saturating_sub(self.received)
    }

    /// Classifies `seq` and, unless it is a duplicate or on probation, records it.
    pub(crate) fn observe(&mut self, seq: u16) -> SeqVerdict {
        if !self.started {
            self.begin(seq);
            return SeqVerdict::Fresh {
                ext: self.max_ext,
                newest: true,
            };
        }
        // Nearest extension: the 16-bit difference read as signed handles 65535 -> 0.
        let delta = i64::from(seq.wrapping_sub(self.max_ext as u16) as i16);
        if !(-MAX_MISORDER..=MAX_DROPOUT).contains(&delta) {
            if self.bad_seq == Some(seq) {
                self.restart();
                self.begin(seq);
                return SeqVerdict::Restarted { ext: self.max_ext };
            }
            self.bad_seq = Some(seq.wrapping_add(1));
            return SeqVerdict::Probation;
        }
        self.bad_seq = None;
        let ext = self.max_ext + delta;
        if delta > 0 {
            self.shift(delta);
            self.max_ext = ext;
            self.mark(0);
        } else {
            let age = -delta;
            if age < WINDOW && self.is_marked(age) {
                return SeqVerdict::Duplicate;
            }
            self.mark(age);
            self.min_ext = self.min_ext.min(ext);
        }
        self.received = self.received.saturating_add(1);
        SeqVerdict::Fresh {
            ext,
            newest: delta > 0,
        }
    }

    fn begin(&mut self, seq: u16) {
        // Start high so that reordered predecessors keep non-negative extended numbers.
        self.max_ext = i64::from(seq) + 65536;
        self.min_ext = self.max_ext;
        self.started = true;
        self.seen = [0; WINDOW_WORDS];
        self.mark(0);
        self.received = 1;
    }

    fn shift(&mut self, by: i64) {
        if by >= WINDOW {
            self.seen = [0; WINDOW_WORDS];
            return;
        }
        let words = (by / 64) as usize;
        let bits = (by % 64) as u32;
        for i in (0..WINDOW_WORDS).rev() {
            let src = i.checked_sub(words);
            let hi = src.and_then(|s| self.seen.get(s)).copied().unwrap_or(0);
            let lo = src
                .and_then(|s| s.checked_sub(1))
                .and_then(|s| self.seen.get(s))
                .copied()
                .unwrap_or(0);
            let v = if bits == 0 {
                hi
            } else {
                (hi << bits) | (lo >> (64 - bits))
            };
            if let Some(w) = self.seen.get_mut(i) {
                *w = v;
            }
        }
    }

    fn mark(&mut self, age: i64) {
        if (0..WINDOW).contains(&age)
            && let Some(w) = self.seen.get_mut((age / 64) as usize)
        {
            *w |= 1u64 << (age % 64);
        }
    }

    fn is_marked(&self, age: i64) -> bool {
        (0..WINDOW).contains(&age)
            && self
                .seen
                .get((age / 64) as usize)
                .is_some_and(|w| w & (1u64 << (age % 64)) != 0)
    }

    /// A.8 interarrival jitter update; `arrival` and `ext_ts` are in timestamp units.
    pub(crate) fn update_jitter(&mut self, arrival: i64, ext_ts: i64) {
        let transit = arrival.saturating_sub(ext_ts);
        if let Some(prev) = self.last_transit {
            let d = transit.saturating_sub(prev).unsigned_abs();
            // J += (|D| - J) / 16, kept scaled by 16 as in A.8.
            self.jitter16 = self
                .jitter16
                .saturating_add(d)
                .saturating_sub((self.jitter16 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    /// Forgets the transit reference (timestamps were re-based; the next D would be bogus).
    pub(crate) fn reset_transit(&mut self) {
        self.last_transit = None;
    }

    /// Current jitter estimate in timestamp units.
    pub(crate) fn jitter(&self) -> u32 {
        u32::try_from(self.jitter16 >> 4).unwrap_or(u32::MAX)
    }

    /// Unique packets received over all epochs.
    pub(crate) fn received(&self) -> u64 {
        self.received_closed.saturating_add(self.received)
    }

    /// Packets expected but never received, summed over epochs (A.3, clamped at 0).
    pub(crate) fn lost(&self) -> u64 {
        self.lost_closed.saturating_add(self.epoch_lost())
    }

    /// Lowest and highest sequence number of the current epoch.
    pub(crate) fn range(&self) -> Option<(u16, u16)> {
        self.started
            .then_some((self.min_ext as u16, self.max_ext as u16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(t: &mut SeqTracker, seq: u16) -> (i64, bool) {
        match t.observe(seq) {
            SeqVerdict::Fresh { ext, newest } => (ext, newest),
            other => panic!("seq {seq}: {other:?}"),
        }
    }

    #[test]
    fn wrap_is_extended() {
        let mut t = SeqTracker::new();
        let (a, _) = fresh(&mut t, 65534);
        let (b, _) = fresh(&mut t, 65535);
        let (c, newest) = fresh(&mut t, 0);
        assert_eq!((b - a, c - b), (1, 1));
        assert!(newest);
        assert_eq!(t.lost(), 0);
        assert_eq!(t.range(), Some((65534, 0)));
    }

    #[test]
    fn duplicates_detected_across_window_words() {
        let mut t = SeqTracker::new();
        for s in 0..200u16 {
            fresh(&mut t, s);
        }
        assert_eq!(t.observe(199), SeqVerdict::Duplicate);
        assert_eq!(t.observe(130), SeqVerdict::Duplicate);
        assert_eq!(t.observe(100), SeqVerdict::Duplicate); // 99 back: inside MAX_MISORDER
        assert_eq!(t.received(), 200);
    }

    #[test]
    fn loss_and_reorder() {
        let mut t = SeqTracker::new();
        fresh(&mut t, 10);
        fresh(&mut t, 12);
        assert_eq!(t.lost(), 1);
        let (_, newest) = fresh(&mut t, 11);
        assert!(!newest);
        assert_eq!(t.lost(), 0);
        fresh(&mut t, 9); // older than the first packet: extends expected, not lost
        assert_eq!(t.lost(), 0);
        assert_eq!(t.received(), 4);
    }

    #[test]
    fn big_jump_needs_confirmation() {
        let mut t = SeqTracker::new();
        fresh(&mut t, 1);
        fresh(&mut t, 2);
        assert_eq!(t.observe(40_000), SeqVerdict::Probation);
        assert!(matches!(t.observe(40_001), SeqVerdict::Restarted { .. }));
        fresh(&mut t, 40_002);
        assert_eq!(t.received(), 4);
        assert_eq!(t.lost(), 0);
        // A single stray jump does not restart.
        assert_eq!(t.observe(5), SeqVerdict::Probation);
        fresh(&mut t, 40_003);
        assert_eq!(t.range(), Some((40_001, 40_003)));
    }

    #[test]
    fn jitter_follows_a8() {
        let mut t = SeqTracker::new();
        // Constant transit: zero jitter.
        for i in 0..10 {
            t.update_jitter(1000 + i * 160, i * 160);
        }
        assert_eq!(t.jitter(), 0);
        // Alternating 80-sample lateness converges toward 80.
        for i in 10..400 {
            let wobble = if i % 2 == 0 { 80 } else { 0 };
            t.update_jitter(1000 + i * 160 + wobble, i * 160);
        }
        assert!((75..=80).contains(&t.jitter()), "jitter {}", t.jitter());
    }
}

//! A hashed timer wheel for the RTP pacer: entries hang in the slot of their due tick, and
//! advancing the wheel to `now` hands back every entry whose tick has passed. Insert and expiry
//! are O(1) per entry, so 4,000 streams cost the same per packet as 4 (no heap, no sort).
//!
//! The pacer uses 1 ms ticks and 20 slots: the wheel turns once per 20 ms packet time, so a
//! stream re-armed one packet later lands back in the same slot and streams keep the phase
//! their call started with (sends are spread over the 20 ms instead of one burst per period).

use std::time::{Duration, Instant};

/// Entries are opaque `u32` ids (the pacer's stream slab indices).
pub(crate) struct Wheel {
    origin: Instant,
    tick: Duration,
    /// (id, due tick); an entry stays in its slot until the wheel reaches its tick, so entries
    /// more than one turn ahead are kept for a later turn.
    slots: Vec<Vec<(u32, u64)>>,
    /// The next tick not yet expired.
    cursor: u64,
    len: usize,
}

impl Wheel {
    /// A wheel starting at `origin`, `slots` slots of `tick` each (both at least 1).
    pub(crate) fn new(origin: Instant, tick: Duration, slots: usize) -> Wheel {
        Wheel {
            origin,
            tick: tick.max(Duration::from_micros(1)),
            slots: (0..slots.max(1)).map(|_| Vec::new()).collect(),
            cursor: 0,
            len: 0,
        }
    }

    /// Tick index of `t`, rounded up so that an entry never fires before its due time.
    fn tick_of(&self, t: Instant) -> u64 {
        let since = t.saturating_duration_since(self.origin).as_nanos();
        let tick = self.tick.as_nanos().max(1);
        u64::try_from(since.div_ceil(tick)).unwrap_or(u64::MAX)
    }

    /// Completed ticks at `now` (rounded down).
    fn ticks_at(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(since / self.tick.as_nanos().max(1)).unwrap_or(u64::MAX)
    }

    fn slot_of(&self, tick: u64) -> usize {
        // len >= 1, so the remainder fits in usize.
        usize::try_from(tick % self.slots.len() as u64).unwrap_or(0)
    }

    /// Arm `id` for `due`; a due time already passed fires on the next `advance`.
    pub(crate) fn insert(&mut self, id: u32, due: Instant) {
        let tick = self.tick_of(due).max(self.cursor);
        let slot = self.slot_of(tick);
        if let Some(s) = self.slots.get_mut(slot) {
            s.push((id, tick));
            self.len += 1;
        }
    }

    /// Expire every tick up to `now` and append the ids due to `out`, in tick order.
    pub(crate) fn advance(&mut self, now: Instant, out: &mut Vec<u32>) {
        let until = self.ticks_at(now);
        // A long stall (debugger, overloaded host) would otherwise walk millions of ticks;
        // one full turn visits every slot once, and every entry due by now is in one of them.
        let turns = self.slots.len() as u64;
        if until >= self.cursor.saturating_add(turns) {
            self.cursor = until.saturating_sub(turns.saturating_sub(1));
        }
        while self.cursor <= until {
            let slot = self.slot_of(self.cursor);
            if let Some(s) = self.slots.get_mut(slot) {
                let before = s.len();
                s.retain(|&(id, tick)| {
                    if tick <= until {
                        out.push(id);
                        false
                    } else {
                        true
                    }
                });
                self.len = self.len.saturating_sub(before.saturating_sub(s.len()));
            }
            self.cursor = self.cursor.saturating_add(1);
        }
    }

    /// When the next tick starts (the pacer sleeps until then).
    pub(crate) fn next_tick(&self) -> Instant {
        let nanos = self.tick.as_nanos().saturating_mul(u128::from(self.cursor));
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
        self.origin + Duration::from_nanos(nanos)
    }

    /// Entries armed.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn entries_fire_at_their_tick_not_before() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0, MS, 20);
        w.insert(1, t0 + MS * 5);
        w.insert(2, t0 + MS * 3);
        let mut out = Vec::new();
        w.advance(t0 + MS * 2, &mut out);
        assert!(out.is_empty());
        w.advance(t0 + MS * 4, &mut out);
        assert_eq!(out, vec![2]);
        w.advance(t0 + MS * 5, &mut out);
        assert_eq!(out, vec![2, 1]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn a_due_time_between_ticks_rounds_up() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0, MS, 20);
        w.insert(7, t0 + Duration::from_micros(2_500));
        let mut out = Vec::new();
        w.advance(t0 + Duration::from_micros(2_900), &mut out);
        assert!(out.is_empty(), "fired 0.1 ms early");
        w.advance(t0 + MS * 3, &mut out);
        assert_eq!(out, vec![7]);
    }

    #[test]
    fn entries_more_than_a_turn_ahead_wait_for_their_turn() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0, MS, 20);
        w.insert(9, t0 + MS * 45); // same slot as tick 5 and 25
        let mut out = Vec::new();
        w.advance(t0 + MS * 30, &mut out);
        assert!(out.is_empty());
        assert_eq!(w.len(), 1);
        w.advance(t0 + MS * 45, &mut out);
        assert_eq!(out, vec![9]);
    }

    #[test]
    fn past_due_entries_and_long_stalls_fire_once() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0, MS, 20);
        let mut out = Vec::new();
        w.advance(t0 + MS * 10, &mut out);
        w.insert(1, t0); // already late
        for i in 0..100 {
            w.insert(100 + i, t0 + MS * (11 + i));
        }
        w.advance(t0 + Duration::from_secs(3600), &mut out);
        out.sort_unstable();
        let mut want: Vec<u32> = (100..200).collect();
        want.insert(0, 1);
        assert_eq!(out, want);
        assert_eq!(w.len(), 0);
        assert!(w.next_tick() > t0 + Duration::from_secs(3600));
    }

    #[test]
    fn rearming_one_period_later_keeps_the_slot() {
        let t0 = Instant::now();
        let mut w = Wheel::new(t0, MS, 20);
        let due = t0 + Duration::from_micros(7_300);
        w.insert(3, due);
        let mut out = Vec::new();
        for k in 0..5u32 {
            let at = due + MS * 20 * k;
            out.clear();
            w.advance(at - MS, &mut out);
            assert!(out.is_empty(), "early in period {k}");
            w.advance(at + MS, &mut out);
            assert_eq!(out, vec![3], "period {k}");
            w.insert(3, at + MS * 20);
        }
    }
}

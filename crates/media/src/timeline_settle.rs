//! Settling: where a stream's first epoch sits on the recording axis.
//!
//! Network delay only ever adds (RFC 3550 §6.4.1, A.8: the transit time is arrival minus
//! timestamp, and its variation is the jitter). Anchoring a stream at its first packet's
//! arrival keeps that packet's queueing delay as a constant offset for the whole call, so two
//! streams sent at the same instant end up as far apart as their first packets' jitter. The
//! lower envelope of the transit is the fixed path delay: for a settling period the timeline
//! places packets with the first packet's (provisional) anchor, remembers the lowest transit
//! seen and emits nothing; when settling ends, what is stored moves once to the anchor of the
//! lowest transit. Everything after that (late packets, re-anchors on jumps and new SSRCs) is
//! unchanged.

use super::StreamTimeline;

/// Settling state of the first epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Settling {
    /// Arrival position at which settling ends.
    pub(super) deadline: u64,
    /// Lowest `arrival - timestamp position` seen (the provisional anchor at first).
    pub(super) transit: i64,
    /// Lowest position a packet was placed at (its samples must never move before `emitted`).
    pub(super) low: u64,
}

impl StreamTimeline {
    /// Starts settling after the first packet was anchored at `at` (its position).
    pub(super) fn begin_settling(&mut self, arrival: u64, at: u64) {
        let cap = self.ring.len() as u64;
        // Leave a quarter of the ring for what arrives between settling and the next drain.
        let room = self.emitted.saturating_add(cap - cap / 4);
        let deadline = arrival
            .saturating_add(u64::from(self.config.settle))
            .min(room);
        self.settling = Some(Settling {
            deadline,
            transit: self.anchor.unwrap_or(0),
            low: at,
        });
    }

    /// Notes a packet's transit while settling; ends settling at the deadline, on a jump the
    /// normal path must re-anchor, or when the packet would not fit the ring.
    pub(super) fn observe_transit(&mut self, arrival: u64, ext_pos: i64, samples: u64) {
        let (Some(mut s), Some(anchor)) = (self.settling, self.anchor) else {
            return;
        };
        let arrival_i = i64::try_from(arrival).unwrap_or(i64::MAX);
        let transit = arrival_i.saturating_sub(ext_pos);
        let jump = transit.saturating_sub(anchor).unsigned_abs() > u64::from(self.config.max_jump);
        if !jump {
            s.transit = s.transit.min(transit);
            self.settling = Some(s);
        }
        let pos = u64::try_from(anchor.saturating_add(ext_pos)).unwrap_or(0);
        if jump || arrival >= s.deadline || !self.fits(pos, samples) {
            self.settle();
        }
    }

    /// Notes where a packet was placed while settling.
    pub(super) fn note_placed(&mut self, pos: u64) {
        if let Some(s) = self.settling.as_mut() {
            s.low = s.low.min(pos);
        }
    }

    /// How far settling now would move the stream earlier: down to the lowest transit, but
    /// never so far that placed samples would land before the emit point.
    fn settle_shift(&self) -> Option<u64> {
        let s = self.settling?;
        let anchor = self.anchor?;
        let want = u64::try_from(anchor.saturating_sub(s.transit)).unwrap_or(0);
        Some(want.min(s.low.saturating_sub(self.emitted)))
    }

    /// Ends settling if `now_pos` (the current time on the recording axis) is past its deadline.
    pub fn settle_if_due(&mut self, now_pos: u64) {
        if self.settling.is_some_and(|s| now_pos >= s.deadline) {
            self.settle();
        }
    }

    /// Ends settling now: moves what is stored to the lowest transit seen and fixes the
    /// placement of the first epoch. Does nothing once settled.
    pub fn settle(&mut self) {
        let Some(delta) = self.settle_shift() else {
            self.settling = None;
            return;
        };
        let low = self.settling.map_or(0, |s| s.low);
        self.settling = None;
        if delta > 0 {
            self.shift_down(delta);
            self.anchor = self
                .anchor
                .map(|a| a.saturating_sub(i64::try_from(delta).unwrap_or(i64::MAX)));
        }
        self.first_anchor = self.anchor;
        self.first_low = Some(low.saturating_sub(delta));
    }

    /// Moves ring positions `[emitted + delta, high)` to `[emitted, high - delta)`. Ascending
    /// order is safe: every destination is below its source, so it was already read.
    fn shift_down(&mut self, delta: u64) {
        let cap = self.ring.len() as u64;
        let from = self.emitted.saturating_add(delta);
        for pos in from..self.high {
            let (Ok(src), Ok(dst)) = (
                usize::try_from(pos % cap),
                usize::try_from((pos - delta) % cap),
            ) else {
                continue;
            };
            let v = self.ring.get(src).copied().unwrap_or(0);
            if let Some(slot) = self.ring.get_mut(dst) {
                *slot = v;
            }
        }
        let new_high = self.high.saturating_sub(delta).max(self.emitted);
        self.clear(new_high, self.high);
        self.high = new_high;
        self.newest_end = self.newest_end.saturating_sub(delta).max(self.emitted);
    }

    /// Whether the first epoch's placement may still move (nothing is emitted meanwhile).
    pub fn is_settling(&self) -> bool {
        self.settling.is_some()
    }

    /// Position of the first epoch's earliest packet: final once settled, else where it would
    /// land if settling ended now. `None` before the first packet.
    pub fn start_position(&self) -> Option<u64> {
        match (self.settling, self.settle_shift()) {
            (Some(s), Some(delta)) => Some(s.low.saturating_sub(delta)),
            _ => self.first_low,
        }
    }

    /// [`StreamTimeline::start_position`] once final (settling is over).
    pub fn settled_start(&self) -> Option<u64> {
        if self.settling.is_some() {
            return None;
        }
        self.first_low
    }

    /// Recording position of the first epoch's extended timestamp 0 (its first packet's
    /// timestamp), once settled.
    pub fn first_anchor(&self) -> Option<i64> {
        self.first_anchor
    }
}

//! N-channel frame assembly from per-channel contiguous runs (e.g. caller left, callee right).
//!
//! Each channel's timeline emits its own runs at its own pace; a frame is ready once every
//! channel has reached its position. Queues grow to the steady-state skew between
//! channels once and are then reused, so the steady state does not allocate.

use std::collections::VecDeque;

/// Interleaves per-channel sample runs into frames.
#[derive(Debug, Clone)]
pub struct Interleaver {
    queues: Vec<VecDeque<i16>>,
    /// Recording position of the front of every queue (= frames popped so far).
    base: u64,
}

impl Interleaver {
    /// Creates an interleaver for `channels` channels (at least 1).
    pub fn new(channels: u16) -> Self {
        Interleaver {
            queues: vec![VecDeque::new(); usize::from(channels.max(1))],
            base: 0,
        }
    }

    /// Number of channels.
    pub fn channels(&self) -> u16 {
        u16::try_from(self.queues.len()).unwrap_or(u16::MAX)
    }

    /// Frames handed out so far (the position of the next frame).
    pub fn position(&self) -> u64 {
        self.base
    }

    /// Adds a run of `channel` starting at `start_pos`. A gap before it is filled with
    /// zeros; samples at positions already queued or popped are ignored. An unknown
    /// channel is ignored.
    pub fn push(&mut self, channel: usize, start_pos: u64, samples: &[i16]) {
        let base = self.base;
        let Some(queue) = self.queues.get_mut(channel) else {
            return;
        };
        let end = base.saturating_add(queue.len() as u64);
        if start_pos > end {
            let gap = usize::try_from(start_pos - end).unwrap_or(usize::MAX);
            queue.extend(std::iter::repeat_n(0, gap));
        }
        let overlap = usize::try_from(end.saturating_sub(start_pos)).unwrap_or(usize::MAX);
        if let Some(fresh) = samples.get(overlap..) {
            queue.extend(fresh.iter().copied());
        }
    }

    /// Appends every frame all channels have reached to `out`; returns the frame count.
    pub fn pop_ready(&mut self, out: &mut Vec<i16>) -> usize {
        let ready = self.queues.iter().map(VecDeque::len).min().unwrap_or(0);
        self.pop(ready, out);
        ready
    }

    /// End of recording: pads shorter channels with silence to the longest and appends
    /// all remaining frames; returns the frame count.
    pub fn finish(&mut self, out: &mut Vec<i16>) -> usize {
        let longest = self.queues.iter().map(VecDeque::len).max().unwrap_or(0);
        for queue in &mut self.queues {
            queue.resize(longest, 0);
        }
        self.pop(longest, out);
        longest
    }

    fn pop(&mut self, frames: usize, out: &mut Vec<i16>) {
        out.reserve(frames.saturating_mul(self.queues.len()));
        for _ in 0..frames {
            for queue in &mut self.queues {
                out.push(queue.pop_front().unwrap_or(0));
            }
        }
        self.base = self.base.saturating_add(frames as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_wait_for_the_slowest_channel() {
        let mut il = Interleaver::new(2);
        let mut out = Vec::new();
        il.push(0, 0, &[1, 2, 3, 4]);
        assert_eq!(il.pop_ready(&mut out), 0);
        il.push(1, 0, &[10, 20]);
        assert_eq!(il.pop_ready(&mut out), 2);
        assert_eq!(out, [1, 10, 2, 20]);
        il.push(1, 2, &[30]);
        assert_eq!(il.pop_ready(&mut out), 1);
        assert_eq!(il.position(), 3);
        assert_eq!(il.finish(&mut out), 1);
        assert_eq!(out, [1, 10, 2, 20, 3, 30, 4, 0]);
    }

    #[test]
    fn gaps_are_zero_filled_and_overlaps_ignored() {
        let mut il = Interleaver::new(2);
        let mut out = Vec::new();
        il.push(0, 2, &[5, 6]); // positions 0..2 missing -> zeros
        il.push(1, 0, &[7, 8, 9]);
        il.push(1, 1, &[99, 99, 11]); // positions 1, 2 already queued
        il.push(5, 0, &[1]); // unknown channel
        assert_eq!(il.finish(&mut out), 4);
        assert_eq!(out, [0, 7, 0, 8, 5, 9, 6, 11]);
        assert_eq!(il.channels(), 2);
    }
}

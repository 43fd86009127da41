//! N-channel frame assembly from per-channel contiguous runs (e.g. caller left, callee right).
//!
//! Each channel's timeline emits its own runs at its own pace; a frame is ready once every
//! channel has reached its position. Lanes grow to the steady-state skew between
//! channels once and are then reused, so the steady state does not allocate.

/// One channel's pending samples: a `Vec` consumed from `head`, compacted once the
/// consumed prefix is at least as long as what remains (each sample is moved at most
/// once more on average), so the pending samples are always one contiguous slice and
/// frames are built by straight copies (the old per-sample `VecDeque::pop_front` loop led
/// the server's user-space profile).
#[derive(Debug, Clone, Default)]
struct Lane {
    buf: Vec<i16>,
    head: usize,
}

impl Lane {
    fn pending(&self) -> &[i16] {
        self.buf.get(self.head..).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.buf.len().saturating_sub(self.head)
    }

    fn consume(&mut self, n: usize) {
        self.head = self.head.saturating_add(n).min(self.buf.len());
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head >= self.len() {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }
}

/// Interleaves per-channel sample runs into frames.
#[derive(Debug, Clone)]
pub struct Interleaver {
    lanes: Vec<Lane>,
    /// Recording position of the front of every lane (= frames popped so far).
    base: u64,
}

impl Interleaver {
    /// Creates an interleaver for `channels` channels (at least 1).
    pub fn new(channels: u16) -> Self {
        Interleaver {
            lanes: vec![Lane::default(); usize::from(channels.max(1))],
            base: 0,
        }
    }

    /// Number of channels.
    pub fn channels(&self) -> u16 {
        u16::try_from(self.lanes.len()).unwrap_or(u16::MAX)
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
        let Some(lane) = self.lanes.get_mut(channel) else {
            return;
        };
        let end = base.saturating_add(lane.len() as u64);
        if start_pos > end {
            let gap = usize::try_from(start_pos - end).unwrap_or(usize::MAX);
            lane.buf.resize(lane.buf.len().saturating_add(gap), 0);
        }
        let overlap = usize::try_from(end.saturating_sub(start_pos)).unwrap_or(usize::MAX);
        if let Some(fresh) = samples.get(overlap..) {
            lane.buf.extend_from_slice(fresh);
        }
    }

    /// Appends every frame all channels have reached to `out`; returns the frame count.
    pub fn pop_ready(&mut self, out: &mut Vec<i16>) -> usize {
        let ready = self.lanes.iter().map(Lane::len).min().unwrap_or(0);
        self.pop(ready, out);
        ready
    }

    /// End of recording: pads shorter channels with silence to the longest and appends
    /// all remaining frames; returns the frame count.
    pub fn finish(&mut self, out: &mut Vec<i16>) -> usize {
        let longest = self.lanes.iter().map(Lane::len).max().unwrap_or(0);
        for lane in &mut self.lanes {
            lane.buf.resize(lane.head.saturating_add(longest), 0);
        }
        self.pop(longest, out);
        longest
    }

    /// Copies `frames` frames (every lane holds at least that many) into `out`.
    fn pop(&mut self, frames: usize, out: &mut Vec<i16>) {
        if frames == 0 {
            return;
        }
        let width = self.lanes.len();
        let start = out.len();
        out.resize(start.saturating_add(frames.saturating_mul(width)), 0);
        let dst = out.get_mut(start..).unwrap_or_default();
        match self.lanes.as_slice() {
            [mono] => {
                let src = mono.pending().get(..frames).unwrap_or_default();
                if let Some(d) = dst.get_mut(..src.len()) {
                    d.copy_from_slice(src);
                }
            }
            [left, right] => {
                let (l, r) = (left.pending(), right.pending());
                for ((d, &a), &b) in dst.chunks_exact_mut(2).zip(l).zip(r) {
                    if let [x, y] = d {
                        *x = a;
                        *y = b;
                    }
                }
            }
            lanes => {
                for (c, lane) in lanes.iter().enumerate() {
                    let frames_out = dst.chunks_exact_mut(width);
                    for (d, &v) in frames_out.zip(lane.pending()) {
                        if let Some(x) = d.get_mut(c) {
                            *x = v;
                        }
                    }
                }
            }
        }
        for lane in &mut self.lanes {
            lane.consume(frames);
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

    /// Naive model: a position is written by the first run reaching past the channel's
    /// end so far; anything before that end (queued, popped or zero-filled) is kept.
    fn reference(channels: usize, runs: &[(usize, u64, Vec<i16>)], frames: usize) -> Vec<i16> {
        let mut grid = vec![vec![0i16; frames]; channels];
        let mut end = vec![0usize; channels];
        for (c, start, samples) in runs {
            for (i, v) in samples.iter().enumerate() {
                let p = *start as usize + i;
                if p >= end[*c] && p < frames {
                    grid[*c][p] = *v;
                }
            }
            end[*c] = end[*c].max(*start as usize + samples.len());
        }
        (0..frames)
            .flat_map(|p| grid.iter().map(move |ch| ch[p]))
            .collect()
    }

    #[test]
    fn matches_reference_for_1_2_3_channels_with_skew_and_compaction() {
        for channels in 1..=3usize {
            let mut il = Interleaver::new(channels as u16);
            let mut out = Vec::new();
            let mut runs = Vec::new();
            let mut next = vec![0u64; channels];
            // Deterministic pseudo-random run lengths, gaps and overlaps per channel.
            let mut seed = 0x2545_f491_u32;
            for step in 0..2000u32 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let c = (seed as usize) % channels;
                let len = 1 + (seed >> 8) as usize % 200;
                let start = match (seed >> 20) % 8 {
                    0 => next[c] + 7,               // gap
                    1 => next[c].saturating_sub(5), // overlap
                    _ => next[c],
                };
                let samples: Vec<i16> = (0..len).map(|i| (step as i16) ^ (i as i16)).collect();
                il.push(c, start, &samples);
                next[c] = next[c].max(start + len as u64);
                runs.push((c, start, samples));
                if step % 3 == 0 {
                    il.pop_ready(&mut out);
                }
            }
            let total = il.position() as usize + {
                let mut tail = Vec::new();
                il.finish(&mut tail);
                out.extend_from_slice(&tail);
                tail.len() / channels
            };
            assert_eq!(out.len(), total * channels);
            assert_eq!(total as u64, *next.iter().max().unwrap());
            assert_eq!(
                out,
                reference(channels, &runs, total),
                "{channels} channels"
            );
        }
    }
}

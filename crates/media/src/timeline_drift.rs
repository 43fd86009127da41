//! Sender clock drift: keeping a settled stream on the lower envelope of its transit.
//!
//! RFC 3550 §5.1 timestamps run on the sender's clock, which may be off ours by hundreds of
//! ppm (an SBC crystal). Placed at `anchor + timestamp`, such a stream slowly slides against
//! the wall clock: later and later (packets end up late, then a re-anchor: a glitch) or earlier
//! (the ring fills, then a re-anchor). After settling, the timeline keeps taking the lowest
//! transit (`arrival - timestamp position`, §6.4.1: network delay only ever adds) over windows
//! of a few seconds, estimates the drift from successive window minima and moves the placement
//! towards that lower envelope by at most one sample per [`SAMPLES_PER_STEP`]: one sample is
//! repeated (placement later) or overwritten (earlier), an inaudible time-stretch. Every stream
//! corrects against the same arrival clock, so their relative alignment is kept. A few
//! counters per stream, no allocation.

use super::StreamTimeline;

/// Length of one envelope window, in milliseconds of arrival time.
const WINDOW_MS: u64 = 4000;
/// At most one sample of correction per this many samples of stream (500 ppm): well above a
/// real crystal's error, far too slow to hear.
const SAMPLES_PER_STEP: i64 = 2000;
/// Placement error (ms) tolerated before correcting: window minima of a jittery stream wander
/// by a few samples, which must not turn into a steady dither of a drift-free stream.
const DEADBAND_MS: u32 = 1;
/// A larger fitted drift is not a clock; the estimate is clamped to it.
const MAX_PPM: f64 = 1000.0;
/// Weight of the newest window pair in the smoothed drift estimate.
const PPM_SMOOTHING: f64 = 0.25;

/// Drift tracking state of the current epoch (all positions in samples).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Drift {
    /// Samples added to `anchor + ext_pos` for packets at or after `step_ext`.
    pub(super) correction: i64,
    /// Correction for packets before `step_ext` (a reordered packet keeps its neighbours').
    prev_correction: i64,
    /// Extended position (samples) of the packet at which `correction` last changed.
    step_ext: i64,
    /// Open window: arrival at which it started, lowest residual transit and its position.
    window_start: Option<u64>,
    window_min: Option<(i64, i64)>,
    /// Last closed window's (position, lowest residual): the envelope's latest point.
    last_min: Option<(i64, i64)>,
    /// Smoothed drift estimate, ppm (positive: sender clock faster than ours).
    pub(super) ppm: f64,
    /// Whether `ppm` has had at least one window pair.
    fitted: bool,
    /// Net samples stepped over the stream's life (+ later, - earlier); kept across epochs.
    pub(super) applied: i64,
}

impl Drift {
    /// Forgets the epoch (new anchor): no correction, no envelope. The estimate and the
    /// applied total are properties of the sender and the stream, so they stay.
    pub(super) fn restart(&mut self) {
        *self = Drift {
            ppm: self.ppm,
            fitted: self.fitted,
            applied: self.applied,
            ..Drift::default()
        };
    }

    /// Correction for a packet at extended position `ext_pos`.
    pub(super) fn correction_at(&self, ext_pos: i64) -> i64 {
        if ext_pos < self.step_ext {
            self.prev_correction
        } else {
            self.correction
        }
    }

    /// Whether the packet at `ext_pos` is the one where the placement last stepped later by
    /// one sample (its first sample is repeated into the hole before it).
    pub(super) fn repeats_at(&self, ext_pos: i64) -> bool {
        ext_pos == self.step_ext && self.correction > self.prev_correction
    }

    /// Notes a newest packet's residual transit (`arrival - ext_pos - anchor`); closes the
    /// window after [`WINDOW_MS`] of arrival time.
    fn observe(&mut self, arrival: u64, ext_pos: i64, residual: i64, window: u64) {
        let start = *self.window_start.get_or_insert(arrival);
        if arrival.saturating_sub(start) >= window {
            if let Some(closed) = self.window_min.take() {
                self.close(closed);
            }
            self.window_start = Some(arrival);
        }
        self.window_min = match self.window_min {
            Some((_, low)) if low <= residual => self.window_min,
            _ => Some((ext_pos, residual)),
        };
    }

    /// Updates the drift estimate from the previous window minimum to this one.
    fn close(&mut self, (x, y): (i64, i64)) {
        if let Some((px, py)) = self.last_min
            && x > px
        {
            // Residual falls when the sender's clock is fast (its timestamps run ahead).
            let ppm = (py.saturating_sub(y) as f64 / x.saturating_sub(px) as f64 * 1e6)
                .clamp(-MAX_PPM, MAX_PPM);
            self.ppm = if self.fitted {
                self.ppm + PPM_SMOOTHING * (ppm - self.ppm)
            } else {
                ppm
            };
            self.fitted = true;
        }
        self.last_min = Some((x, y));
    }

    /// Where the envelope is expected at `ext_pos`: the last window minimum, carried forward
    /// by the drift estimate. `None` until a window has closed.
    fn target(&self, ext_pos: i64) -> Option<i64> {
        let (x, y) = self.last_min?;
        let ahead = ext_pos.saturating_sub(x) as f64 * self.ppm / 1e6;
        Some(y.saturating_sub(ahead.round() as i64))
    }

    /// Moves the correction one sample towards the target at a newest packet, if it is off
    /// by more than `deadband` and the last step is far enough behind.
    fn step(&mut self, ext_pos: i64, deadband: i64) {
        let Some(target) = self.target(ext_pos) else {
            return;
        };
        let error = target.saturating_sub(self.correction);
        if error.unsigned_abs() <= deadband.unsigned_abs()
            || ext_pos.saturating_sub(self.step_ext) < SAMPLES_PER_STEP
        {
            return;
        }
        self.prev_correction = self.correction;
        self.correction = self.correction.saturating_add(error.signum());
        self.applied = self.applied.saturating_add(error.signum());
        self.step_ext = ext_pos;
    }
}

impl StreamTimeline {
    /// Position (possibly negative) where extended position `ext_pos` is placed.
    pub(super) fn placement(&self, ext_pos: i64) -> i64 {
        self.anchor
            .unwrap_or(0)
            .saturating_add(ext_pos)
            .saturating_add(self.drift.correction_at(ext_pos))
    }

    /// Tracks the transit of a newest packet of a settled epoch and steps the correction.
    pub(super) fn track_drift(&mut self, arrival: u64, ext_pos: i64) {
        let Some(anchor) = self.anchor else { return };
        if self.settling.is_some() {
            return;
        }
        let arrival_i = i64::try_from(arrival).unwrap_or(i64::MAX);
        let residual = arrival_i.saturating_sub(ext_pos).saturating_sub(anchor);
        let window = u64::from(self.config.clock_rate).saturating_mul(WINDOW_MS) / 1000;
        self.drift
            .observe(arrival, ext_pos, residual, window.max(1));
        let deadband = i64::from(self.config.clock_rate / 1000 * DEADBAND_MS);
        self.drift.step(ext_pos, deadband);
    }

    /// After a packet at `pos` (extended position `ext_pos`) was written: where the placement
    /// stepped later by one sample, fills the one-sample hole before it with the packet's first
    /// sample (never before the emit point).
    pub(super) fn repeat_into_hole(&mut self, ext_pos: i64, pos: u64) {
        if !self.drift.repeats_at(ext_pos) || pos == 0 || pos <= self.emitted {
            return;
        }
        let cap = self.ring.len() as u64;
        let (Ok(src), Ok(dst)) = (usize::try_from(pos % cap), usize::try_from((pos - 1) % cap))
        else {
            return;
        };
        if let Some(v) = self.ring.get(src).copied()
            && let Some(slot) = self.ring.get_mut(dst)
        {
            *slot = v;
        }
    }
}

//! Mapping RTP timestamps to the recording axis, robust to jitter and sender clock drift.
//!
//! RFC 3550 §5.1 gives timestamps only relative meaning and a sender clock may run off by
//! hundreds of ppm. We model `arrival = x + offset + slope * x` where `x` is the sender's
//! time (timestamp / clock rate, or the SR's NTP time) and fit the *lower envelope*:
//! network delay only ever adds, so per-window minima of `arrival - x` track the fixed
//! path delay plus the drift, and a line through them ignores jitter. With RTCP SRs
//! (§6.4.1) all streams of one SRC share the NTP clock, so one [`NtpSync`] fit places
//! them consistently against each other.

/// Window over which the minimum of `arrival - x` is taken, in seconds of sender time.
const WINDOW_S: f64 = 2.0;
/// Window minima kept for the fit (40 minutes of history).
const MAX_POINTS: usize = 1200;
/// Drift beyond this is not a clock, it is a bug elsewhere; clamp the fitted slope.
const MAX_SLOPE: f64 = 1e-3;
/// A packet this far (seconds) off the current mapping restarts the mapping.
const REANCHOR_S: f64 = 2.0;

/// Lower-envelope linear fit of `y = arrival - x` against `x` (both in seconds).
#[derive(Debug, Clone, Default)]
struct EnvelopeFit {
    /// Closed window minima (x, y).
    points: Vec<(f64, f64)>,
    /// Index and minimum of the open window.
    open: Option<(i64, f64, f64)>,
    /// Lowest y seen while fewer than two windows are closed.
    offset: f64,
    slope: f64,
    started: bool,
}

impl EnvelopeFit {
    fn observe(&mut self, x: f64, y: f64) {
        if !self.started {
            self.started = true;
            self.offset = y;
        }
        let bin = (x / WINDOW_S).floor() as i64;
        match self.open {
            Some((b, _, my)) if b == bin => {
                if y < my {
                    self.open = Some((bin, x, y));
                }
            }
            Some((b, mx, my)) if bin > b => {
                self.points.push((mx, my));
                if self.points.len() > MAX_POINTS {
                    self.points.remove(0);
                }
                self.open = Some((bin, x, y));
                self.refit();
            }
            Some(_) => {} // reordered packet of a closed window: its window is already fitted
            None => self.open = Some((bin, x, y)),
        }
        // Until the fit has two points, the running minimum is the best offset.
        if self.points.len() < 2 && y < self.predict_y(x) {
            self.offset = y - self.slope * x;
        }
    }

    fn predict_y(&self, x: f64) -> f64 {
        self.offset + self.slope * x
    }

    fn refit(&mut self) {
        if self.points.len() < 2 {
            if let Some(&(x, y)) = self.points.first() {
                self.offset = self.offset.min(y - self.slope * x);
            }
            return;
        }
        let Some((c, s)) = least_squares(self.points.iter().copied()) else {
            return;
        };
        // Keep the lower half (windows with a congestion spike lie above the envelope).
        let mut resid: Vec<f64> = self.points.iter().map(|&(x, y)| y - c - s * x).collect();
        resid.sort_by(f64::total_cmp);
        let median = resid.get(resid.len() / 2).copied().unwrap_or(0.0);
        let lower = self
            .points
            .iter()
            .copied()
            .filter(|&(x, y)| y - c - s * x <= median);
        let (c, s) = least_squares(lower).unwrap_or((c, s));
        let s = s.clamp(-MAX_SLOPE, MAX_SLOPE);
        // Shift down onto the lowest point: the envelope, not the mean of the minima.
        let low = self
            .points
            .iter()
            .map(|&(x, y)| y - c - s * x)
            .fold(f64::INFINITY, f64::min);
        self.offset = c + if low.is_finite() { low } else { 0.0 };
        self.slope = s;
    }
}

/// Ordinary least squares `y = c + s x`; `None` for fewer than two distinct x.
fn least_squares(pts: impl Iterator<Item = (f64, f64)>) -> Option<(f64, f64)> {
    let (mut n, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (x, y) in pts {
        n += 1.0;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    let den = n * sxx - sx * sx;
    if n < 2.0 || den.abs() < 1e-9 {
        return None;
    }
    let s = (n * sxy - sx * sy) / den;
    Some(((sy - s * sx) / n, s))
}

/// The NTP-to-recording-axis mapping shared by all streams of one SRC (RFC 3550 §6.4.1:
/// SRs of one host use one wall clock). Hold one per SRC and pass it to each stream's
/// [`ClockMapper::observe_rtp`].
#[derive(Debug, Clone, Default)]
pub struct NtpSync {
    /// NTP time (32.32) that is x = 0.
    origin: Option<u64>,
    fit: EnvelopeFit,
}

impl NtpSync {
    /// An empty reference.
    pub fn new() -> Self {
        Self::default()
    }

    fn x_of(&mut self, ntp: u64) -> f64 {
        let origin = *self.origin.get_or_insert(ntp);
        ntp_diff_secs(ntp, origin)
    }

    /// Recording-axis seconds of an NTP time, once a packet has been observed.
    fn axis_secs(&self, ntp: u64) -> Option<f64> {
        let origin = self.origin?;
        let x = ntp_diff_secs(ntp, origin);
        Some(x + self.fit.predict_y(x))
    }
}

/// `a - b` of two NTP 32.32 timestamps, in seconds.
fn ntp_diff_secs(a: u64, b: u64) -> f64 {
    (a.wrapping_sub(b) as i64) as f64 / 4_294_967_296.0
}

/// Where the current mapping comes from, for the recording's manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingSource {
    /// No packet yet.
    None,
    /// The stream's own arrivals (first packet, refined by the drift fit).
    Arrival,
    /// The SRC's NTP clock via RTCP SR, shared with its other streams.
    Ntp,
}

/// The applied mapping, for the manifest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapping {
    /// Source of the mapping.
    pub source: MappingSource,
    /// Recording-axis position (ms) of the stream's first timestamp.
    pub offset_ms: f64,
    /// Sender clock rate error relative to ours, in ppm (positive: sender runs fast).
    pub drift_ppm: f64,
}

/// Per-stream mapping from extended RTP timestamp to recording position (samples).
#[derive(Debug, Clone)]
pub struct ClockMapper {
    rate: f64,
    /// First extended timestamp of the current epoch (x = 0).
    ts0: i64,
    last: Option<(u32, i64)>,
    fit: EnvelopeFit,
    /// Latest SR: (NTP, extended RTP timestamp).
    sr: Option<(u64, i64)>,
    /// Copy of the group's NTP mapping taken at the last observation.
    ntp: Option<NtpSync>,
    reanchors: u32,
}

impl ClockMapper {
    /// A mapper for a stream with this RTP clock rate (0 is treated as 8000).
    pub fn new(clock_rate: u32) -> Self {
        ClockMapper {
            rate: f64::from(if clock_rate == 0 { 8000 } else { clock_rate }),
            ts0: 0,
            last: None,
            fit: EnvelopeFit::default(),
            sr: None,
            ntp: None,
            reanchors: 0,
        }
    }

    /// Extends a 32-bit timestamp relative to the last one observed (wrap-around safe).
    pub fn extend(&self, ts: u32) -> i64 {
        match self.last {
            None => i64::from(ts),
            Some((l, e)) => e.saturating_add(i64::from(ts.wrapping_sub(l) as i32)),
        }
    }

    /// Records a packet with timestamp `ts` that arrived at `arrival_pos` (samples at the
    /// clock rate on the recording axis, see `position_at`). Returns the extended timestamp.
    ///
    /// With `sync` and a previous SR, the packet also refines the SRC's NTP mapping.
    pub fn observe_rtp(&mut self, arrival_pos: u64, ts: u32, sync: Option<&mut NtpSync>) -> i64 {
        let ext = self.extend(ts);
        self.last = Some((ts, ext));
        let arrival = arrival_pos as f64 / self.rate;
        if !self.fit.started {
            self.ts0 = ext;
        }
        let x = ext.saturating_sub(self.ts0) as f64 / self.rate;
        if self.fit.started && (arrival - x - self.fit.predict_y(x)).abs() > REANCHOR_S {
            // Timestamp jump or new source: the old mapping says nothing about this one.
            self.fit = EnvelopeFit::default();
            self.ts0 = ext;
            self.sr = None;
            self.ntp = None;
            self.reanchors = self.reanchors.saturating_add(1);
            return self.observe_rtp(arrival_pos, ts, sync);
        }
        self.fit.observe(x, arrival - x);
        if let (Some(sync), Some(ntp)) = (sync, self.ntp_of(ext)) {
            let nx = sync.x_of(ntp);
            sync.fit.observe(nx, arrival - nx);
            self.ntp = Some(sync.clone_light());
        }
        ext
    }

    /// Records an RTCP SR of this stream's SSRC: `rtp_ts` was sampled at `ntp`.
    pub fn observe_sr(&mut self, ntp: u64, rtp_ts: u32) {
        self.sr = Some((ntp, self.extend(rtp_ts)));
    }

    /// Sender NTP time (32.32) of an extended timestamp, from the latest SR.
    pub fn ntp_of(&self, ts_ext: i64) -> Option<u64> {
        let (ntp, sr_ts) = self.sr?;
        let delta = (i128::from(ts_ext) - i128::from(sr_ts)) * (1i128 << 32) / self.rate as i128;
        Some(ntp.wrapping_add(delta as u64))
    }

    /// Recording position (samples at the clock rate) of an extended timestamp.
    pub fn position_of(&self, ts_ext: i64) -> u64 {
        let secs = match (&self.ntp, self.ntp_of(ts_ext)) {
            (Some(sync), Some(ntp)) => sync.axis_secs(ntp),
            _ => None,
        }
        .unwrap_or_else(|| {
            let x = ts_ext.saturating_sub(self.ts0) as f64 / self.rate;
            x + self.fit.predict_y(x)
        });
        let samples = (secs * self.rate).round();
        if samples.is_finite() && samples > 0.0 {
            samples as u64
        } else {
            0
        }
    }

    /// The mapping currently applied, for the manifest.
    pub fn mapping(&self) -> Mapping {
        let source = match (&self.ntp, self.sr) {
            _ if !self.fit.started => MappingSource::None,
            (Some(_), Some(_)) => MappingSource::Ntp,
            _ => MappingSource::Arrival,
        };
        let slope = match &self.ntp {
            Some(s) if source == MappingSource::Ntp => s.fit.slope,
            _ => self.fit.slope,
        };
        Mapping {
            source,
            offset_ms: self.position_of(self.ts0) as f64 * 1000.0 / self.rate,
            // arrival = x (1 + slope): a fast sender (x runs ahead) gives a negative slope.
            drift_ppm: (1.0 / (1.0 + slope) - 1.0) * 1e6,
        }
    }

    /// Times the mapping was restarted by a timestamp jump.
    pub fn reanchors(&self) -> u32 {
        self.reanchors
    }
}

impl NtpSync {
    /// The mapping without the fit history (what a stream needs to map positions).
    fn clone_light(&self) -> NtpSync {
        NtpSync {
            origin: self.origin,
            fit: EnvelopeFit {
                points: Vec::new(),
                open: None,
                offset: self.fit.offset,
                slope: self.fit.slope,
                started: self.fit.started,
            },
        }
    }
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;

//! The timeline's configuration, push outcomes and statistics (see [`super`]).

use std::time::Instant;

/// Converts a clock reading to a sample position on the recording's axis:
/// `(now - recording_start) * clock_rate`, saturating at 0 if `now` is earlier.
pub fn position_at(recording_start: Instant, now: Instant, clock_rate: u32) -> u64 {
    let elapsed = now.saturating_duration_since(recording_start);
    let samples = elapsed.as_nanos() * u128::from(clock_rate) / 1_000_000_000;
    u64::try_from(samples).unwrap_or(u64::MAX)
}

/// Sizing and policy of one stream's timeline, all in samples at `clock_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineConfig {
    /// Rate of the recording axis: the decoders' output sample rate
    /// ([`crate::CodecSpec::sample_rate`]; equal to the RTP clock for G.711).
    pub clock_rate: u32,
    /// How long samples wait for reordered packets before being emitted (default 100 ms).
    pub reorder_window: u32,
    /// Ring size: the furthest ahead of the emit point a packet may be stored (default 1 s).
    pub capacity: u32,
    /// A timestamp disagreeing with the arrival by more than this re-anchors (default 2 s).
    pub max_jump: u32,
    /// How long (from the first packet's arrival) the stream's placement keeps moving to the
    /// lowest transit seen, while its audio is held in the ring (default 1 s; 0 places the
    /// stream at its first packet's arrival). Also ends when the ring is 3/4 full.
    pub settle: u32,
}

impl TimelineConfig {
    /// Defaults for `clock_rate`: 100 ms window, 1 s ring, 2 s re-anchor threshold, 1 s
    /// settling (bounded by the ring: 750 ms with this ring).
    pub fn new(clock_rate: u32) -> Self {
        TimelineConfig {
            clock_rate,
            reorder_window: clock_rate / 10,
            capacity: clock_rate,
            max_jump: clock_rate.saturating_mul(2),
            settle: clock_rate,
        }
    }
}

impl Default for TimelineConfig {
    fn default() -> Self {
        TimelineConfig::new(8000)
    }
}

/// What `push` did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Decoded into the ring at its timestamp position.
    Accepted,
    /// Accepted after moving the anchor to the arrival (first packet of a new SSRC,
    /// confirmed sequence restart, timestamp jump, sustained lateness or ring overflow).
    Reanchored,
    /// Same extended sequence number already received; dropped.
    Duplicate,
    /// Its position was already emitted; counted and dropped.
    Late,
    /// Would land beyond the ring even after re-anchoring (caller is not draining); dropped.
    Overflow,
    /// Large sequence jump awaiting confirmation by the next packet (RFC 3550 A.1); dropped.
    SequenceJump,
    /// The decoder's output sample rate differs from the timeline's; dropped.
    ClockMismatch,
    /// Comfort noise (RFC 3389): counted as received, its time stays silent.
    ComfortNoise,
    /// Not audio (telephone-event, RFC 4733): the sequence number is noted so it is not
    /// counted lost, nothing is decoded or placed. Callers normally filter these out.
    NotAudio,
    /// The payload could not be decoded (malformed for its codec); its time stays silent.
    Undecodable,
}

/// Reception statistics of one stream (RFC 3550 §6.4.1 / appendix A.3, A.8).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StreamStats {
    /// Unique packets received (late ones included, duplicates excluded).
    pub received: u64,
    /// Expected minus received, per SSRC/sequence epoch, never negative.
    pub lost: u64,
    /// Packets dropped as duplicates.
    pub duplicates: u64,
    /// Packets dropped because their position was already emitted.
    pub late: u64,
    /// Interarrival jitter in timestamp units (A.8).
    pub jitter: u32,
    /// Lowest sequence number of the current epoch.
    pub first_seq: Option<u16>,
    /// Highest sequence number of the current epoch.
    pub last_seq: Option<u16>,
    /// Current SSRC.
    pub ssrc: Option<u32>,
    /// Times the anchor moved after the first packet.
    pub reanchors: u64,
    /// Packets dropped by [`PushOutcome::Overflow`], [`PushOutcome::SequenceJump`] or
    /// [`PushOutcome::Undecodable`].
    pub dropped: u64,
    /// Output samples synthesised by codec packet loss concealment.
    pub concealed_samples: u64,
    /// Smoothed estimate of the sender clock's drift against ours, in ppm (positive: the
    /// sender's clock is fast); 0 until two envelope windows have closed.
    pub drift_ppm_estimate: f64,
    /// Net samples the drift correction moved the placement (+ later, - earlier), over the
    /// stream's life; 0 for a drift-free stream.
    pub drift_samples_applied: i64,
}

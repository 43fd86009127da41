//! Per-stream placement of decoded audio on the recording's time axis.
//!
//! Each packet lands at `anchor + extended_timestamp` (RFC 3550 §5.1: the timestamp only gives
//! relative timing, its initial value is random). The anchor starts at the first packet's
//! arrival and, while the stream settles, moves to the lowest transit seen, so the first
//! packet's jitter does not stay as an offset (timeline_settle.rs); after that, a sender clock
//! that drifts against ours is followed one sample at a time (timeline_drift.rs). Samples sit in a fixed
//! ring until the reorder window has passed; then they are emitted as contiguous runs, gaps filled with zeros. The ring is
//! allocated once in [`StreamTimeline::new`]; `push`, `drain` and `finish` never allocate.
//!
//! The axis is in OUTPUT samples (the decoded PCM rate), not RTP ticks: each packet's
//! timestamp is mapped through its decoder's [`TickRatio`] (G.722: 1 tick = 2 samples,
//! RFC 3551 §4.5.2; Opus decoded at 16 kHz: 3 ticks = 1 sample, RFC 7587 §4.1).

use crate::codec::{Decoder, TickRatio};
use crate::g711::Codec;
use crate::rtp::RtpPacket;
use crate::seq::{SeqTracker, SeqVerdict};

#[path = "timeline_drift.rs"]
mod drift;
#[path = "timeline_settle.rs"]
mod settle;
#[path = "timeline_types.rs"]
mod types;
pub use types::{PushOutcome, StreamStats, TimelineConfig, position_at};

/// Longest gap (ms) filled by codec concealment after a loss; longer gaps stay silent.
const MAX_CONCEAL_MS: u32 = 120;
/// Largest packet (ms) that may straddle the ring's end (decoded via the scratch buffer).
const MAX_WRAPPED_PACKET_MS: u32 = 300;

/// One stream's reorder ring and timing state (about 16 KiB at 8 kHz with defaults).
#[derive(Debug, Clone)]
pub struct StreamTimeline {
    config: TimelineConfig,
    ring: Box<[i16]>,
    /// Decode target for a packet straddling the ring's end (allocated once).
    scratch: Box<[i16]>,
    /// Next position to emit; everything before it is final.
    emitted: u64,
    /// End of the furthest sample written.
    high: u64,
    ssrc: Option<u32>,
    seq: SeqTracker,
    /// Recording position (samples) of extended timestamp 0; `None` before the first packet.
    anchor: Option<i64>,
    /// While the first epoch's placement may still move.
    settling: Option<settle::Settling>,
    /// Sender clock drift correction of the current epoch (timeline_drift.rs).
    drift: drift::Drift,
    /// The first epoch's anchor and earliest placed position, once settled.
    first_anchor: Option<i64>,
    first_low: Option<u64>,
    /// Extended sequence number and end position of the newest audio packet (for PLC).
    newest_seq: Option<i64>,
    newest_end: u64,
    concealed: u64,
    /// Timestamp of the newest packet and its extended value (for wrap handling).
    ref_ts: u32,
    ref_ext_ts: i64,
    /// Arrival of the first packet of a run of newest-but-late packets.
    late_run_since: Option<u64>,
    late: u64,
    duplicates: u64,
    reanchors: u64,
    dropped: u64,
}

impl StreamTimeline {
    /// Creates a timeline; allocates its ring (`capacity` samples, at least 1) once.
    pub fn new(config: TimelineConfig) -> Self {
        let cap = usize::try_from(config.capacity.max(1)).unwrap_or(1);
        StreamTimeline {
            config,
            ring: vec![0i16; cap].into_boxed_slice(),
            scratch: vec![0i16; cap.min(wrapped_packet_max(config.clock_rate))].into_boxed_slice(),
            emitted: 0,
            high: 0,
            ssrc: None,
            seq: SeqTracker::new(),
            anchor: None,
            settling: None,
            drift: drift::Drift::default(),
            first_anchor: None,
            first_low: None,
            newest_seq: None,
            newest_end: 0,
            concealed: 0,
            ref_ts: 0,
            ref_ext_ts: 0,
            late_run_since: None,
            late: 0,
            duplicates: 0,
            reanchors: 0,
            dropped: 0,
        }
    }

    /// The timeline's configuration.
    pub fn config(&self) -> &TimelineConfig {
        &self.config
    }

    /// Next position `drain`/`finish` will emit (= total samples emitted so far).
    pub fn emitted_position(&self) -> u64 {
        self.emitted
    }

    /// End position of the furthest sample received so far.
    pub fn end_position(&self) -> u64 {
        self.high
    }

    /// Places one G.711 packet (compatibility path: same as [`StreamTimeline::push_with`]
    /// with a stateless G.711 [`Decoder`], which costs nothing to create).
    pub fn push(&mut self, arrival: u64, packet: &RtpPacket<'_>, codec: Codec) -> PushOutcome {
        self.push_with(arrival, packet, &mut Decoder::from(codec))
    }

    /// Places one packet. `arrival` is its arrival time as a sample position on the
    /// recording's axis; `decoder` is this stream's decoder for the packet's payload type
    /// (the caller keeps one per payload type, so a mid-stream PCMU -> PCMA switch works).
    /// Decodes straight into the ring; never allocates.
    pub fn push_with(
        &mut self,
        arrival: u64,
        packet: &RtpPacket<'_>,
        decoder: &mut Decoder,
    ) -> PushOutcome {
        let spec = *decoder.spec();
        if spec.kind == crate::codec::CodecKind::TelephoneEvent {
            // Same SSRC and sequence space as the audio (RFC 4733 §2.1): note the number so
            // it is not counted lost, but never decode or place it.
            if self.ssrc == Some(packet.ssrc) {
                let _ = self.seq.observe(packet.sequence);
            }
            return PushOutcome::NotAudio;
        }
        if decoder.is_audio() && spec.sample_rate != self.config.clock_rate {
            return PushOutcome::ClockMismatch;
        }
        let ratio = TickRatio::new(self.config.clock_rate, spec.rtp_clock);
        // RFC 3550 §8.2: a new SSRC is a new source with its own sequence and timing.
        let mut new_epoch = self.anchor.is_none();
        if self.ssrc != Some(packet.ssrc) {
            if self.ssrc.is_some() {
                self.seq.restart();
                new_epoch = true;
            }
            self.ssrc = Some(packet.ssrc);
        }
        let (seq_ext, newest) = match self.seq.observe(packet.sequence) {
            SeqVerdict::Duplicate => {
                self.duplicates = self.duplicates.saturating_add(1);
                return PushOutcome::Duplicate;
            }
            SeqVerdict::Probation => {
                self.dropped = self.dropped.saturating_add(1);
                return PushOutcome::SequenceJump;
            }
            SeqVerdict::Restarted { ext } => {
                new_epoch = true;
                (ext, true)
            }
            SeqVerdict::Fresh { ext, newest } => (ext, newest),
        };
        let decoded = decoder.samples_in(packet.payload);
        let samples = decoded.as_ref().map_or(0, |&n| n as u64);
        let arrival_i = i64::try_from(arrival).unwrap_or(i64::MAX);

        let (ext_ts, mut outcome) = if new_epoch {
            let first = self.anchor.is_none();
            if !first {
                // A new source while settling: the old one's placement is final first.
                self.settle();
            }
            self.ref_ts = packet.timestamp;
            self.ref_ext_ts = 0;
            self.newest_seq = None;
            self.reanchor(arrival, 0);
            if first {
                let at = self.anchor.and_then(|a| u64::try_from(a).ok()).unwrap_or(0);
                self.begin_settling(arrival, at);
            }
            let outcome = if first {
                PushOutcome::Accepted
            } else {
                PushOutcome::Reanchored
            };
            (0, outcome)
        } else {
            // Nearest extension relative to the newest timestamp (handles 2^32 wrap).
            let diff = i64::from(packet.timestamp.wrapping_sub(self.ref_ts) as i32);
            let ext_ts = self.ref_ext_ts.saturating_add(diff);
            if newest {
                self.ref_ts = packet.timestamp;
                self.ref_ext_ts = ext_ts;
            }
            (ext_ts, PushOutcome::Accepted)
        };
        let ext_pos = ratio.to_samples(ext_ts);
        if self.settling.is_some() {
            self.observe_transit(arrival, ext_pos, samples);
        } else if newest && outcome == PushOutcome::Accepted {
            self.track_drift(arrival, ext_pos);
        }

        if newest
            && outcome == PushOutcome::Accepted
            && self.needs_reanchor(arrival, ext_pos, samples)
            // A giant payload, or a caller that stopped draining, would not fit even after
            // re-anchoring: do not disturb the mapping (or clear pending audio) for it.
            && self.fits(arrival.max(self.emitted), samples)
        {
            self.reanchor(arrival, ext_pos);
            self.newest_seq = None;
            outcome = PushOutcome::Reanchored;
        }
        if outcome == PushOutcome::Reanchored {
            self.seq.reset_transit();
        }
        // A.8 jitter is in timestamp units: bring the arrival to the RTP clock.
        self.seq.update_jitter(ratio.to_ticks(arrival_i), ext_ts);

        let pos = self.placement(ext_pos);
        let Ok(pos) = u64::try_from(pos) else {
            return self.count_late();
        };
        if pos < self.emitted {
            return self.count_late();
        }
        if !decoder.is_audio() {
            // RFC 3389: the time until the next packet is (comfort) silence, already zeros.
            self.note_placed(pos);
            self.note_newest(newest, seq_ext, pos);
            return PushOutcome::ComfortNoise;
        }
        let Ok(n) = decoded else {
            self.dropped = self.dropped.saturating_add(1);
            return PushOutcome::Undecodable;
        };
        if !self.fits(pos, samples) {
            self.dropped = self.dropped.saturating_add(1);
            return PushOutcome::Overflow;
        }
        if newest {
            self.conceal_gap(seq_ext, pos, packet.payload, decoder);
        }
        if !self.put(pos, n, |dst| decoder.decode(packet.payload, dst).ok()) {
            self.dropped = self.dropped.saturating_add(1);
            return PushOutcome::Undecodable;
        }
        self.repeat_into_hole(ext_pos, pos);
        let end = pos.saturating_add(samples);
        self.note_placed(pos);
        self.note_newest(newest, seq_ext, end);
        self.high = self.high.max(end);
        outcome
    }

    fn note_newest(&mut self, newest: bool, seq_ext: i64, end: u64) {
        if newest {
            self.newest_seq = Some(seq_ext);
            self.newest_end = end;
        }
    }

    /// After a sequence gap (packets lost, not DTX: RFC 3551 §4.1), fills the silence
    /// between the previous newest packet and this one with the codec's concealment
    /// (Opus FEC from this packet, else PLC). A late arrival of a lost packet overwrites it.
    fn conceal_gap(&mut self, seq_ext: i64, pos: u64, payload: &[u8], decoder: &mut Decoder) {
        let Some(prev) = self.newest_seq else { return };
        if !decoder.has_plc() || seq_ext.saturating_sub(prev) <= 1 {
            return;
        }
        let from = self.newest_end.max(self.emitted);
        let max = u64::from(self.config.clock_rate / 1000 * MAX_CONCEAL_MS);
        let len = pos.saturating_sub(from).min(max);
        let Ok(n) = usize::try_from(len) else { return };
        // Conceal the samples just before this packet: the start of a long gap stays silent.
        let from = pos.saturating_sub(len);
        if n == 0 || !self.fits(from, len) {
            return;
        }
        if self.put(from, n, |dst| Some(decoder.recover(payload, n, dst))) {
            self.concealed = self.concealed.saturating_add(len);
            self.high = self.high.max(pos);
        }
    }

    /// Lets `fill` write `n` samples at ring position `pos`: in place when contiguous, else
    /// through the scratch buffer split across the ring's end. False if `fill` failed.
    fn put(&mut self, pos: u64, n: usize, fill: impl FnOnce(&mut [i16]) -> Option<usize>) -> bool {
        let cap = self.ring.len() as u64;
        let idx = usize::try_from(pos % cap).unwrap_or(0);
        if let Some(dst) = self.ring.get_mut(idx..idx.saturating_add(n)) {
            return fill(dst).is_some();
        }
        let Some(tmp) = self.scratch.get_mut(..n) else {
            return false;
        };
        if fill(tmp).is_none() {
            return false;
        }
        let room = self.ring.len().saturating_sub(idx);
        let (head, tail) = tmp.split_at(room.min(n));
        if let Some(dst) = self.ring.get_mut(idx..) {
            dst.copy_from_slice(head);
        }
        if let Some(dst) = self.ring.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        true
    }

    fn count_late(&mut self) -> PushOutcome {
        self.late = self.late.saturating_add(1);
        PushOutcome::Late
    }

    /// Whether a newest packet says the mapping is wrong (see [`PushOutcome::Reanchored`]).
    fn needs_reanchor(&mut self, arrival: u64, ext_pos: i64, samples: u64) -> bool {
        let pos = self.placement(ext_pos);
        let arrival_i = i64::try_from(arrival).unwrap_or(i64::MAX);
        if pos.saturating_sub(arrival_i).unsigned_abs() > u64::from(self.config.max_jump) {
            return true;
        }
        let Ok(pos) = u64::try_from(pos) else {
            return self.late_for_too_long(arrival);
        };
        if pos < self.emitted {
            // A stall makes a burst late once: drop it and keep alignment. Only lateness
            // that persists for a reorder window (sender clock slower than ours) re-anchors.
            return self.late_for_too_long(arrival);
        }
        self.late_run_since = None;
        // Sender clock faster than ours, or a forward step the ring cannot hold.
        !self.fits(pos, samples)
    }

    fn late_for_too_long(&mut self, arrival: u64) -> bool {
        let since = *self.late_run_since.get_or_insert(arrival);
        arrival.saturating_sub(since) >= u64::from(self.config.reorder_window)
    }

    /// Moves the anchor so `ext_pos` (samples) lands at the arrival (never before the emit
    /// point).
    fn reanchor(&mut self, arrival: u64, ext_pos: i64) {
        let at = arrival.max(self.emitted);
        if self.anchor.is_some() {
            self.reanchors = self.reanchors.saturating_add(1);
            // Samples the old mapping put after the new anchor would replay out of order.
            self.clear(at, self.high);
            self.high = self.high.min(at);
        }
        let at = i64::try_from(at).unwrap_or(i64::MAX);
        self.anchor = Some(at.saturating_sub(ext_pos));
        self.drift.restart();
        self.late_run_since = None;
    }

    /// Zeroes ring positions `[from, to)` (clamped to the ring's live span).
    fn clear(&mut self, from: u64, to: u64) {
        let cap = self.ring.len() as u64;
        let from = from.max(self.emitted);
        let to = to.min(self.emitted.saturating_add(cap));
        for pos in from..to {
            if let Some(slot) = usize::try_from(pos % cap)
                .ok()
                .and_then(|i| self.ring.get_mut(i))
            {
                *slot = 0;
            }
        }
    }

    fn fits(&self, pos: u64, samples: u64) -> bool {
        let limit = self.emitted.saturating_add(self.ring.len() as u64);
        pos.checked_add(samples).is_some_and(|end| end <= limit)
    }

    /// Emits every sample before `now_pos - reorder_window` as contiguous runs; nothing while
    /// the stream settles (its audio may still move earlier).
    pub fn drain(&mut self, now_pos: u64, sink: &mut dyn FnMut(u64, &[i16])) {
        self.settle_if_due(now_pos);
        if self.settling.is_some() {
            return;
        }
        let target = now_pos.saturating_sub(u64::from(self.config.reorder_window));
        self.emit_until(target, sink);
    }

    /// End of stream: emits everything up to the end of the furthest received packet.
    pub fn finish(&mut self, sink: &mut dyn FnMut(u64, &[i16])) {
        self.settle();
        self.emit_until(self.high, sink);
    }

    fn emit_until(&mut self, target: u64, sink: &mut dyn FnMut(u64, &[i16])) {
        let cap = self.ring.len() as u64;
        while self.emitted < target {
            let idx = self.emitted % cap;
            let len = (cap - idx).min(target - self.emitted);
            let (Ok(start), Ok(end)) = (usize::try_from(idx), usize::try_from(idx + len)) else {
                return;
            };
            let Some(run) = self.ring.get_mut(start..end) else {
                return;
            };
            sink(self.emitted, run);
            // Cleared slots are the zeros a future gap will emit.
            run.fill(0);
            self.emitted += len;
        }
    }

    /// Reception statistics so far.
    pub fn stats(&self) -> StreamStats {
        let range = self.seq.range();
        StreamStats {
            received: self.seq.received(),
            lost: self.seq.lost(),
            duplicates: self.duplicates,
            late: self.late,
            jitter: self.seq.jitter(),
            first_seq: range.map(|r| r.0),
            last_seq: range.map(|r| r.1),
            ssrc: self.ssrc,
            reanchors: self.reanchors,
            dropped: self.dropped,
            concealed_samples: self.concealed,
            drift_ppm_estimate: self.drift.ppm,
            drift_samples_applied: self.drift.applied,
        }
    }
}

/// Scratch size: packets up to this many samples may straddle the ring's end.
fn wrapped_packet_max(clock_rate: u32) -> usize {
    let n = u64::from(clock_rate) * u64::from(MAX_WRAPPED_PACKET_MS) / 1000;
    usize::try_from(n.max(1)).unwrap_or(1)
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "timeline_codec_tests.rs"]
mod codec_tests;

#[cfg(test)]
#[path = "timeline_settle_tests.rs"]
mod settle_tests;

#[cfg(test)]
#[path = "timeline_drift_tests.rs"]
mod drift_tests;

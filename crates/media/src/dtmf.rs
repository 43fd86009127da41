//! RFC 4733 telephone-events: payload parsing and a sans-IO tracker that turns the packet
//! stream (start, updates, three retransmitted end packets, losses) into one [`DtmfEvent`]
//! per key press.

use crate::rtp::RtpPacket;
use thiserror::Error;

/// Size of one event block (RFC 4733 §2.3).
const BLOCK: usize = 4;
/// Finished events remembered to swallow their retransmitted end packets (§2.5.1.4).
const FINISHED_MEMORY: usize = 8;
/// Largest duration a segment can report (§2.5.1.3).
const MAX_SEGMENT: i64 = 0xFFFF;
/// A segment reported at least this long may be followed by a continuation segment
/// (slack for a lost 0xFFFF report: updates come every ~50 ms).
const NEAR_MAX_SEGMENT: i64 = MAX_SEGMENT - 4000;

/// One event block of a telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-9, 10 `*`, 11 `#`, 12-15 A-D, 16 flash; §3.2).
    pub event: u8,
    /// E bit: this block reports the end of the event.
    pub end: bool,
    /// Power level in -dBm0 (6 bits).
    pub volume: u8,
    /// Duration so far in timestamp units.
    pub duration: u16,
}

/// Why a telephone-event payload was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DtmfError {
    /// Empty payload or a length that is not a multiple of 4 bytes.
    #[error("telephone-event payload of {0} bytes is not a whole number of 4-byte events")]
    BadLength(usize),
    /// Clock rate 0 makes durations meaningless.
    #[error("clock rate 0")]
    ZeroClockRate,
}

/// Parses every event block of a payload; several blocks are packed back to back (§2.5.1.5).
pub fn parse_telephone_events(payload: &[u8]) -> Result<Vec<TelephoneEvent>, DtmfError> {
    if payload.is_empty() || payload.len() % BLOCK != 0 {
        return Err(DtmfError::BadLength(payload.len()));
    }
    Ok(payload
        .chunks_exact(BLOCK)
        .filter_map(|b| <[u8; BLOCK]>::try_from(b).ok())
        .map(|[event, flags, d0, d1]| TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
        .collect())
}

/// Character of an event code (RFC 4733 §3.2 table 3); `'?'` for non-DTMF events.
pub fn event_char(event: u8) -> char {
    match event {
        0..=9 => char::from(b'0' + event),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + (event - 12)),
        16 => 'F',
        _ => '?',
    }
}

/// A completed (or abandoned) telephone event, reported once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfEvent {
    /// `'0'-'9'`, `'*'`, `'#'`, `'A'-'D'`, `'F'` (flash) or `'?'` (see `event`).
    pub digit: char,
    /// The raw event code.
    pub event: u8,
    /// Start on the recording axis, in samples at the clock rate, from the RTP timestamp.
    pub start: u64,
    /// Longest duration reported (all segments of a long event), in milliseconds.
    pub duration_ms: u32,
    /// Last reported volume (-dBm0).
    pub volume: u8,
    /// An end (E bit) packet was received; false if all end packets were lost.
    pub end_seen: bool,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    event: u8,
    /// Extended timestamp of the event's start (first segment).
    start_ts: i64,
    /// Timestamp of the segment being reported (§2.5.1.3).
    seg_ts: i64,
    /// Duration of earlier segments plus the longest seen in this one.
    duration: i64,
    volume: u8,
    end_seen: bool,
}

/// Tracks telephone-events of one RTP stream and reports each event exactly once.
///
/// Timestamps map to the recording axis through an anchor: set explicitly with
/// [`DtmfTracker::set_anchor`] (e.g. the audio stream's own mapping, the two share a
/// timestamp base per §2.5.1.2), or else learned from the first packet as
/// `arrival - duration` (a packet reporting duration d is sent about d after the start).
#[derive(Debug, Clone, Default)]
pub struct DtmfTracker {
    anchor: Option<(i64, u64)>,
    last_ts: Option<(u32, i64)>,
    current: Option<Current>,
    /// (start timestamp, event) of recently reported events.
    finished: Vec<(i64, u8)>,
    clock_rate: u32,
}

impl DtmfTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares that RTP timestamp `ts` is recording position `pos` (samples).
    pub fn set_anchor(&mut self, ts: u32, pos: u64) {
        let ext = self.extend(ts);
        self.anchor = Some((ext, pos));
    }

    /// Extends a 32-bit timestamp to 64 bits relative to the last one seen (wrap-around).
    fn extend(&mut self, ts: u32) -> i64 {
        let ext = match self.last_ts {
            None => i64::from(ts),
            Some((last, last_ext)) => {
                last_ext.saturating_add(i64::from(ts.wrapping_sub(last) as i32))
            }
        };
        self.last_ts = Some((ts, ext));
        ext
    }

    /// Feeds one telephone-event packet received at `arrival_pos` (samples at `clock_rate`
    /// on the recording axis). Returns the events this packet completed, oldest first.
    pub fn push(
        &mut self,
        arrival_pos: u64,
        pkt: &RtpPacket<'_>,
        clock_rate: u32,
    ) -> Result<Vec<DtmfEvent>, DtmfError> {
        if clock_rate == 0 {
            return Err(DtmfError::ZeroClockRate);
        }
        let blocks = parse_telephone_events(pkt.payload)?;
        self.clock_rate = clock_rate;
        let base = self.extend(pkt.timestamp);
        if self.anchor.is_none() {
            let first = blocks.first().map_or(0, |b| u64::from(b.duration));
            self.anchor = Some((base, arrival_pos.saturating_sub(first)));
        }
        let mut out = Vec::new();
        let mut ts = base;
        for b in blocks {
            self.block(ts, pkt.marker, b, &mut out);
            // §2.5.1.5: packed events are contiguous, the next starts where this one ends.
            ts = ts.saturating_add(i64::from(b.duration));
        }
        Ok(out)
    }

    fn block(&mut self, ts: i64, marker: bool, b: TelephoneEvent, out: &mut Vec<DtmfEvent>) {
        if self.finished.contains(&(ts, b.event)) {
            return; // retransmitted end or late update of a reported event
        }
        if let Some(cur) = self.current.as_mut() {
            if cur.event == b.event && cur.seg_ts == ts {
                let seg_start = cur.seg_ts - cur.start_ts;
                cur.duration = cur.duration.max(seg_start + i64::from(b.duration));
                cur.volume = b.volume;
                if b.end {
                    cur.end_seen = true;
                    self.close(out);
                }
                return;
            }
            // §2.5.1.3: a long event continues in a new segment starting where the last
            // one ended, without the M bit.
            let since = ts - cur.seg_ts;
            let seg_seen = cur.duration - (cur.seg_ts - cur.start_ts);
            if cur.event == b.event
                && !marker
                && seg_seen >= NEAR_MAX_SEGMENT
                && (seg_seen..=MAX_SEGMENT).contains(&since)
            {
                cur.seg_ts = ts;
                let seg_start = ts - cur.start_ts;
                cur.duration = cur.duration.max(seg_start + i64::from(b.duration));
                cur.volume = b.volume;
                if b.end {
                    cur.end_seen = true;
                    self.close(out);
                }
                return;
            }
            if ts < cur.start_ts {
                return; // stale packet of an older event whose report we already made
            }
            self.close(out); // its end packets were all lost
        }
        if self.finished.iter().any(|&(t, _)| t > ts) {
            return; // older than an event already reported
        }
        self.current = Some(Current {
            event: b.event,
            start_ts: ts,
            seg_ts: ts,
            duration: i64::from(b.duration),
            volume: b.volume,
            end_seen: b.end,
        });
        if b.end {
            self.close(out);
        }
    }

    /// Reports the current event (if any) and remembers it as finished.
    fn close(&mut self, out: &mut Vec<DtmfEvent>) {
        let Some(cur) = self.current.take() else {
            return;
        };
        self.finished.push((cur.start_ts, cur.event));
        // Also swallow late packets of the last segment of a long event.
        if cur.seg_ts != cur.start_ts {
            self.finished.push((cur.seg_ts, cur.event));
        }
        while self.finished.len() > FINISHED_MEMORY {
            self.finished.remove(0);
        }
        let start = match self.anchor {
            Some((ts, pos)) => {
                let delta = cur.start_ts.saturating_sub(ts);
                if delta >= 0 {
                    pos.saturating_add(delta.unsigned_abs())
                } else {
                    pos.saturating_sub(delta.unsigned_abs())
                }
            }
            None => 0,
        };
        let rate = u64::from(self.clock_rate.max(1));
        let ms = cur.duration.max(0).unsigned_abs().saturating_mul(1000) / rate;
        out.push(DtmfEvent {
            digit: event_char(cur.event),
            event: cur.event,
            start,
            duration_ms: u32::try_from(ms).unwrap_or(u32::MAX),
            volume: cur.volume,
            end_seen: cur.end_seen,
        });
    }

    /// Reports an event still in progress (its end packets never arrived).
    pub fn finish(&mut self) -> Option<DtmfEvent> {
        let mut out = Vec::new();
        self.close(&mut out);
        out.pop()
    }
}

#[cfg(test)]
#[path = "dtmf_tests.rs"]
mod tests;

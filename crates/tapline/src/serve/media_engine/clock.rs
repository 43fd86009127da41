//! A recording's time axis inside its shard.
//!
//! Each stream settles on its lowest transit (tapline_media timeline), which can put its
//! audio up to one jitter peak BEFORE the arrival of the recording's first packet. So the
//! provisional time zero is that arrival minus [`SLACK`], and nothing is handed to the writer
//! until the first stream has settled: then the leading part up to the earliest stream start
//! is cut ([`RecordingClock::trim`]), so the files still begin with the audio.
//!
//! At the other end, files run until the stream is removed (BYE), all streams to the same
//! moment ([`RecordingClock::end_at`]).

use std::time::{Duration, Instant};

/// How far before the first arrival a stream may settle without being clipped: more than the
/// first packet's queueing delay on any usable path (jitter beyond it is late audio anyway).
pub(crate) const SLACK: Duration = Duration::from_millis(250);
/// With no stream settled this long after time zero (only DTMF, comfort noise or undecodable
/// packets so far), the files start at the first arrival.
const SETTLE_GIVE_UP: Duration = Duration::from_secs(3);

/// Time zero and leading cut of one recording, with its stream count on this shard.
#[derive(Debug, Default)]
pub(crate) struct RecordingClock {
    /// Provisional time zero: the first packet's arrival minus [`SLACK`].
    pub(crate) origin: Option<Instant>,
    /// Cut from the start of every file (from `origin`); known once a stream has settled.
    pub(crate) trim: Option<Duration>,
    pub(crate) streams: usize,
    /// Earliest stream start offered since the last decision, and whether one was final.
    earliest: Option<Duration>,
    settled: bool,
    /// Latest end of placed audio among the streams already ended.
    audio_end: Option<Instant>,
}

impl RecordingClock {
    /// A recording with `streams` streams and no packet yet.
    pub(crate) fn new(streams: usize) -> RecordingClock {
        RecordingClock {
            streams,
            ..RecordingClock::default()
        }
    }

    /// Time zero, set by the first packet of any stream (arriving `now`).
    pub(crate) fn origin_at(&mut self, now: Instant) -> Instant {
        *self
            .origin
            .get_or_insert_with(|| now.checked_sub(SLACK).unwrap_or(now))
    }

    /// One stream's start (samples at `rate` from `origin`), final or not; ignored once the
    /// trim is decided.
    pub(crate) fn offer(&mut self, start: Option<u64>, settled: bool, rate: u32) {
        let Some(start) = start else { return };
        if self.trim.is_some() {
            return;
        }
        let at = duration_of(start, rate);
        self.earliest = Some(self.earliest.map_or(at, |e| e.min(at)));
        self.settled |= settled;
    }

    /// Decides the trim from the starts offered since the last call: when one of them was
    /// final, when `force`d (a stream ends), or when nothing settles for a long time.
    pub(crate) fn decide(&mut self, now: Instant, force: bool) {
        let (earliest, settled) = (self.earliest.take(), std::mem::take(&mut self.settled));
        if self.trim.is_some() {
            return;
        }
        let Some(origin) = self.origin else {
            if force {
                self.trim = Some(Duration::ZERO);
            }
            return;
        };
        let given_up = now.saturating_duration_since(origin) >= SLACK + SETTLE_GIVE_UP;
        if settled || force || given_up {
            // Never past the first arrival: that is where the old time zero was.
            self.trim = Some(earliest.unwrap_or(SLACK));
        }
    }

    /// When a stream ending `now` ends its files, given the end of the latest audio placed on
    /// any stream of the recording (`latest`, this one's included) and the reorder window.
    /// Audio sits on the lowest-transit axis, up to a reorder window before the arrival of
    /// the packets that carried it; a BYE that follows it within that window marks the same
    /// moment, so the files end with the audio rather than with the last packets' jitter. A
    /// longer silence before the BYE (hold, muted sender) is recorded up to the BYE.
    pub(crate) fn end_at(
        &mut self,
        now: Instant,
        latest: Option<Instant>,
        window: Duration,
    ) -> Instant {
        let latest = match (self.audio_end, latest) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.audio_end = latest;
        latest
            .filter(|l| now < l.checked_add(window).unwrap_or(*l))
            .unwrap_or(now)
    }
}

/// `samples` at `rate` as a duration (whole microseconds, rounded up so that converting back
/// with [`samples_in`] gives `samples` again).
pub(crate) fn duration_of(samples: u64, rate: u32) -> Duration {
    let rate = u64::from(rate.max(1));
    let micros = samples.saturating_mul(1_000_000).div_ceil(rate);
    Duration::from_micros(micros)
}

/// Samples at `rate` in `d` (from whole microseconds; u64 arithmetic only).
pub(crate) fn samples_in(d: Duration, rate: u32) -> u64 {
    let micros = d
        .as_secs()
        .saturating_mul(1_000_000)
        .saturating_add(u64::from(d.subsec_micros()));
    micros.saturating_mul(u64::from(rate)) / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zero_is_the_first_arrival_minus_the_slack() {
        let t = Instant::now() + Duration::from_secs(10);
        let mut c = RecordingClock::new(2);
        assert_eq!(c.origin_at(t), t - SLACK);
        assert_eq!(
            c.origin_at(t + Duration::from_secs(1)),
            t - SLACK,
            "set once"
        );
    }

    #[test]
    fn trim_waits_for_a_settled_stream_then_takes_the_earliest_start() {
        let t = Instant::now() + Duration::from_secs(10);
        let mut c = RecordingClock::new(2);
        c.origin_at(t);
        c.offer(Some(1800), false, 8000);
        c.offer(None, false, 8000);
        c.decide(t + Duration::from_secs(1), false);
        assert_eq!(c.trim, None, "nothing settled yet");
        // 16 kHz stream settled at 200 ms; the 8 kHz one would start at 190 ms.
        c.offer(Some(3200), true, 16_000);
        c.offer(Some(1520), false, 8000);
        c.decide(t + Duration::from_secs(1), false);
        assert_eq!(c.trim, Some(Duration::from_millis(190)));
        c.offer(Some(0), true, 8000);
        c.decide(t + Duration::from_secs(2), true);
        assert_eq!(c.trim, Some(Duration::from_millis(190)), "decided once");
    }

    #[test]
    fn trim_falls_back_to_the_first_arrival() {
        let t = Instant::now() + Duration::from_secs(10);
        let mut c = RecordingClock::new(1);
        c.origin_at(t);
        c.decide(t + Duration::from_secs(2), false);
        assert_eq!(c.trim, None);
        c.decide(t + SETTLE_GIVE_UP, false);
        assert_eq!(c.trim, Some(SLACK));
        let mut never = RecordingClock::new(1);
        never.decide(t, false);
        assert_eq!(never.trim, None);
        never.decide(t, true);
        assert_eq!(never.trim, Some(Duration::ZERO));
    }

    #[test]
    fn streams_end_with_the_audio_when_the_bye_follows_it_within_the_window() {
        let t = Instant::now() + Duration::from_secs(10);
        let ms = Duration::from_millis;
        let mut c = RecordingClock::new(2);
        // BYE 70 ms after the latest audio: the files end with the audio.
        assert_eq!(c.end_at(t + ms(70), Some(t), ms(100)), t);
        // The second stream's own audio ended earlier: still the recording's latest.
        assert_eq!(c.end_at(t + ms(72), Some(t - ms(20)), ms(100)), t);
        // Audio ahead of now (the last packet's end): kept whole.
        let mut c = RecordingClock::new(1);
        assert_eq!(c.end_at(t, Some(t + ms(15)), ms(100)), t + ms(15));
        // A silence longer than the window before the BYE is recorded.
        let mut c = RecordingClock::new(1);
        assert_eq!(c.end_at(t + ms(100), Some(t), ms(100)), t + ms(100));
        assert_eq!(c.end_at(t + ms(500), None, ms(100)), t + ms(500));
        let mut c = RecordingClock::new(1);
        assert_eq!(c.end_at(t, None, ms(100)), t, "no audio at all");
    }

    #[test]
    fn durations_and_samples_round_trip() {
        for rate in [8000u32, 16_000, 44_100, 48_000] {
            for s in [0u64, 1, 7, 159, 2000, 123_457] {
                assert_eq!(samples_in(duration_of(s, rate), rate), s, "{s} at {rate}");
            }
        }
        assert_eq!(samples_in(Duration::from_millis(250), 8000), 2000);
    }
}

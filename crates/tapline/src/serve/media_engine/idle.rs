//! The media timeout's watch over one recording: how long since any of its streams recorded a
//! packet, reported once when that passes the media timeout and once more when it passes the
//! (longer) hold timeout. The SIP core decides which of the two ends the recording: it knows
//! whether the call is on hold.

use std::time::{Duration, Instant};

/// Which threshold a recording's silence passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdleStage {
    /// `media_timeout_secs`: ends a recording that should be sending.
    Media,
    /// `hold_timeout_secs`: ends a recording even on hold.
    Hold,
}

/// What the media threads tell the SIP core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaEvent {
    /// No stream of `recording` recorded anything for `idle`.
    Idle {
        recording: u64,
        idle: Duration,
        stage: IdleStage,
    },
}

/// The two thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) media: Duration,
    pub(crate) hold: Duration,
}

/// One recording's silence, as seen by its shard.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdleWatch {
    /// Latest packet (or stream start) over the streams seen in the current scan.
    latest: Option<Instant>,
    /// Thresholds already reported since the last packet.
    reported: u8,
}

impl IdleWatch {
    pub(crate) fn new() -> IdleWatch {
        IdleWatch {
            latest: None,
            reported: 0,
        }
    }

    /// Start a scan of the recording's streams.
    pub(crate) fn begin(&mut self) {
        self.latest = None;
    }

    /// One stream's last activity.
    pub(crate) fn stream(&mut self, last: Instant) {
        self.latest = Some(self.latest.map_or(last, |l| l.max(last)));
    }

    /// End of the scan at `now`: the stage to report, if one was passed just now.
    pub(crate) fn end(&mut self, now: Instant, t: Timeouts) -> Option<(Duration, IdleStage)> {
        let idle = now.saturating_duration_since(self.latest?);
        if idle < t.media.min(t.hold) {
            self.reported = 0;
            return None;
        }
        let stage = match self.reported {
            0 if idle >= t.media => IdleStage::Media,
            0 | 1 if idle >= t.hold => IdleStage::Hold,
            _ => return None,
        };
        self.reported = match stage {
            IdleStage::Media => 1,
            IdleStage::Hold => 2,
        };
        Some((idle, stage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        media: Duration::from_secs(60),
        hold: Duration::from_secs(600),
    };

    fn scan(w: &mut IdleWatch, now: Instant, lasts: &[Instant]) -> Option<(Duration, IdleStage)> {
        w.begin();
        for l in lasts {
            w.stream(*l);
        }
        w.end(now, T)
    }

    #[test]
    fn reports_each_threshold_once_from_the_latest_stream() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut w = IdleWatch::new();
        assert_eq!(scan(&mut w, t0 + s(59), &[t0]), None);
        // One stream still sends: the recording is not idle.
        assert_eq!(scan(&mut w, t0 + s(100), &[t0, t0 + s(90)]), None);
        assert_eq!(
            scan(&mut w, t0 + s(61), &[t0]),
            Some((s(61), IdleStage::Media))
        );
        assert_eq!(scan(&mut w, t0 + s(62), &[t0]), None, "reported once");
        assert_eq!(
            scan(&mut w, t0 + s(600), &[t0]),
            Some((s(600), IdleStage::Hold))
        );
        assert_eq!(scan(&mut w, t0 + s(900), &[t0]), None);
        // Audio again: the watch starts over.
        assert_eq!(scan(&mut w, t0 + s(901), &[t0 + s(900)]), None);
        assert_eq!(
            scan(&mut w, t0 + s(961), &[t0 + s(900)]),
            Some((s(61), IdleStage::Media))
        );
    }

    #[test]
    fn a_long_silence_first_seen_late_reports_both_stages_in_turn() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut w = IdleWatch::new();
        assert_eq!(
            scan(&mut w, t0 + s(700), &[t0]),
            Some((s(700), IdleStage::Media))
        );
        assert_eq!(
            scan(&mut w, t0 + s(701), &[t0]),
            Some((s(701), IdleStage::Hold))
        );
    }

    #[test]
    fn no_streams_no_report() {
        let mut w = IdleWatch::new();
        assert_eq!(scan(&mut w, Instant::now(), &[]), None);
    }
}

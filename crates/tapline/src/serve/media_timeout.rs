//! The media timeout (`media_timeout_secs`, `hold_timeout_secs`): a recording whose streams all
//! stopped receiving (an SRC that crashed without a BYE) ends with a BYE instead of holding its
//! ports forever. The media threads report the silence; this decides, knowing whether the call
//! is on hold.

use super::core::Core;
use super::media_engine::idle::{IdleStage, MediaEvent};
use super::session::{Phase, Session};

impl Core {
    pub(crate) fn on_media_event(&mut self, event: MediaEvent) {
        let MediaEvent::Idle {
            recording: num,
            idle,
            stage,
        } = event;
        let Some(s) = self.sessions.get(&num) else {
            return;
        };
        if !matches!(s.phase, Phase::Answered | Phase::Confirmed) {
            return;
        }
        let on_hold = on_hold(s);
        let reason = match (stage, on_hold) {
            (IdleStage::Media, true) => {
                let _e = s.span.enter();
                tracing::info!(
                    idle_secs = idle.as_secs(),
                    "no RTP, but the call is on hold: waiting for the hold timeout"
                );
                return;
            }
            (IdleStage::Media, false) => "media timeout",
            (IdleStage::Hold, _) => "media timeout (on hold)",
        };
        {
            let _e = s.span.enter();
            tracing::warn!(idle_secs = idle.as_secs(), %reason, "no RTP on any stream: ending the recording");
        }
        self.send_bye(num);
        self.finalize(num, reason, false);
    }
}

/// On hold: a stream paused by the SDP, or (when the metadata says who sends what) a recorded
/// stream that nobody sends.
fn on_hold(s: &Session) -> bool {
    let active = || s.streams.iter().filter(|st| st.active);
    if active().any(|st| st.paused) {
        return true;
    }
    let r = s.metadata.resolve_now();
    let known = !r.send_map_inferred && r.participants.iter().any(|p| !p.sends.is_empty());
    known && active().any(|st| !r.participants.iter().any(|p| p.sends.contains(&st.label)))
}

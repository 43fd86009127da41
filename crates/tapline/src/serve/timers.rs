//! Session timers (RFC 4028): the SRC refreshes the recording session with re-INVITE or UPDATE
//! before `Session-Expires` runs out; if it does not, the session is over and so is the
//! recording (the SRC is gone). Tapline never refreshes itself (`refresher=uac`).

use std::time::{Duration, Instant};

use tapline_sip::{Request, Response};

use super::core::Core;

/// What a request says about session timers.
pub(crate) enum TimerAsk {
    /// No `Session-Expires`: no timer.
    None,
    /// Run a timer of this many seconds.
    Expires(u32),
    /// Too small: answer 422 with our Min-SE.
    TooSmall,
}

/// Read `Session-Expires` (compact `x`); `min_se` is our smallest acceptable interval.
pub(crate) fn timer_ask(req: &Request, min_se: u32) -> TimerAsk {
    let Some(value) = req.header("Session-Expires") else {
        return TimerAsk::None;
    };
    let delta = value
        .split(';')
        .next()
        .and_then(|v| v.trim().parse::<u32>().ok());
    match delta {
        Some(d) if d < min_se => TimerAsk::TooSmall,
        Some(d) => TimerAsk::Expires(d),
        None => TimerAsk::None,
    }
}

/// Add the session-timer headers to a 2xx: the interval and who refreshes (the SRC).
pub(crate) fn add_timer_headers(req: &Request, resp: &mut Response, secs: u32) {
    resp.headers
        .push("Session-Expires", format!("{secs};refresher=uac"));
    let uac_supports = req
        .headers
        .get_all("Supported")
        .into_iter()
        .chain(req.headers.get_all("Require"))
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("timer"));
    if uac_supports {
        resp.headers.push("Require", "timer");
    }
}

impl Core {
    /// Start or refresh the timer of session `num`.
    pub(crate) fn arm_timer(&mut self, num: u64, secs: u32) {
        if let Some(s) = self.sessions.get_mut(&num) {
            s.session_expires_secs = Some(secs);
            s.expires = Some(Instant::now() + Duration::from_secs(u64::from(secs)));
        }
    }

    /// End sessions whose timer ran out (called about once a second).
    pub(crate) fn expire_sessions(&mut self) {
        let now = Instant::now();
        let expired: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.expires.is_some_and(|t| t <= now))
            .map(|(n, _)| *n)
            .collect();
        for num in expired {
            if let Some(s) = self.sessions.get_mut(&num) {
                s.expires = None;
                let _e = s.span.enter();
                tracing::warn!("session timer expired without a refresh; ending the recording");
            }
            self.send_bye(num);
            self.finalize(num, "session timer expired (RFC 4028)", false);
        }
    }
}

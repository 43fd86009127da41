//! The timers of one TCP connection: the idle timeout (no message, no recording) and the
//! timeout of a message that started to arrive but is not complete.

use std::time::{Duration, Instant};

/// Why the connection's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// No complete message for the idle time, and no recording on the connection.
    Idle,
    /// A message has been arriving for longer than the message timeout.
    SlowMessage,
}

#[derive(Debug)]
pub(crate) struct ConnClock {
    idle: Duration,
    message: Duration,
    last_activity: Instant,
    partial_since: Option<Instant>,
}

impl ConnClock {
    pub(crate) fn new(idle: Duration, message: Duration, now: Instant) -> ConnClock {
        ConnClock {
            idle,
            message,
            last_activity: now,
            partial_since: None,
        }
    }

    /// A complete message arrived: the idle time starts again, and the next message's time
    /// starts with its own first bytes. (RFC 5626 keep-alives do not count.)
    pub(crate) fn message(&mut self, now: Instant) {
        self.last_activity = now;
        self.partial_since = None;
    }

    /// The connection's recordings changed: the idle time starts again.
    pub(crate) fn activity(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// After framing what was read: is part of a message waiting?
    pub(crate) fn partial(&mut self, in_progress: bool, now: Instant) {
        match (in_progress, self.partial_since) {
            (true, None) => self.partial_since = Some(now),
            (false, _) => self.partial_since = None,
            (true, Some(_)) => {}
        }
    }

    /// The next deadline and what it means; `None` when nothing can expire (a recording
    /// holds the connection and no message is half-received).
    pub(crate) fn deadline(&self, held: bool) -> Option<(Instant, Expiry)> {
        let slow = self
            .partial_since
            .map(|t| (t + self.message, Expiry::SlowMessage));
        let idle = (!held).then_some((self.last_activity + self.idle, Expiry::Idle));
        match (slow, idle) {
            (Some(s), Some(i)) => Some(if s.0 <= i.0 { s } else { i }),
            (s, i) => s.or(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn idle_unless_held() {
        let t0 = Instant::now();
        let mut c = ConnClock::new(S * 60, S * 10, t0);
        assert_eq!(c.deadline(false), Some((t0 + S * 60, Expiry::Idle)));
        assert_eq!(c.deadline(true), None);
        c.activity(t0 + S * 5);
        assert_eq!(c.deadline(false), Some((t0 + S * 65, Expiry::Idle)));
    }

    #[test]
    fn a_partial_message_has_its_own_deadline_even_when_held() {
        let t0 = Instant::now();
        let mut c = ConnClock::new(S * 60, S * 10, t0);
        c.partial(true, t0 + S);
        c.partial(true, t0 + S * 3);
        assert_eq!(c.deadline(true), Some((t0 + S * 11, Expiry::SlowMessage)));
        assert_eq!(c.deadline(false), Some((t0 + S * 11, Expiry::SlowMessage)));
        c.partial(false, t0 + S * 4);
        assert_eq!(c.deadline(true), None);
    }

    /// Back-to-back messages whose reads always end mid-message: each message has its own
    /// time, so a busy connection is never taken for a slow one.
    #[test]
    fn each_message_starts_its_own_time() {
        let t0 = Instant::now();
        let mut c = ConnClock::new(S * 60, S * 10, t0);
        for k in 0..100 {
            let now = t0 + S * k;
            c.message(now);
            c.partial(true, now);
            assert_eq!(c.deadline(true), Some((now + S * 10, Expiry::SlowMessage)));
        }
    }

    #[test]
    fn the_earlier_deadline_wins() {
        let t0 = Instant::now();
        let mut c = ConnClock::new(S * 5, S * 10, t0);
        c.partial(true, t0);
        assert_eq!(c.deadline(false), Some((t0 + S * 5, Expiry::Idle)));
    }
}

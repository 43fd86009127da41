//! Which source a stream records (config `rtp_source`): once a stream's media source is known,
//! only its packets reach the file; everything else is dropped and counted. Pure: fed the
//! arrival time and the sender's address of each datagram, it says what to do with it.
//!
//! With `auto` (the default) the source is the offer's `c=` address for the m-line, its port
//! learned from its first packet. When nothing comes from that address but one other source
//! sends (an SBC behind NAT, or sending from another interface), that source's packets are
//! held, not recorded, for [`LATCH_AFTER`]; if the offered address is still silent then, the
//! other source is latched (the held packets are recorded with their arrival times) and the
//! recording gets a warning. A second other source meanwhile makes the case ambiguous: nothing
//! is latched, the offered address is awaited.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// How long another source must be the only one sending before `auto` latches it.
pub(crate) const LATCH_AFTER: Duration = Duration::from_secs(2);
/// A locked source that has sent nothing for this long may move to another port of the same
/// address (the SRC re-opened its socket, a NAT binding changed).
pub(crate) const RELOCK_QUIET: Duration = Duration::from_secs(1);

/// The `rtp_source` setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SourcePolicy {
    /// Only the offer's `c=` address (port from its first packet).
    Offer,
    /// The offer's address, or the one other source that sends when it stays silent.
    #[default]
    Auto,
    /// Whichever source sends first.
    Latch,
    /// Every source (no check).
    Any,
}

impl std::str::FromStr for SourcePolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "offer" => Ok(SourcePolicy::Offer),
            "auto" => Ok(SourcePolicy::Auto),
            "latch" => Ok(SourcePolicy::Latch),
            "any" => Ok(SourcePolicy::Any),
            _ => Err(format!(
                "rtp_source must be offer, auto, latch or any, not {s:?}"
            )),
        }
    }
}

/// What to do with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// From the stream's source: record it.
    Record,
    /// From elsewhere: drop and count it.
    Drop,
    /// From the one other source while the offered address is silent: keep it aside.
    Hold,
    /// That source is now the stream's: record what was held, then this one.
    Latched,
}

/// The one other source seen while waiting for the offered address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    None,
    One { addr: SocketAddr, since: Instant },
    Several,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Every source is recorded (`any`).
    Open,
    /// The offer named `ip`; its port comes from its first packet.
    Expecting { ip: IpAddr, candidate: Candidate },
    /// Nothing is known: the first sender is latched (`latch`, or no usable `c=`).
    Unlatched,
    /// Only `addr` is recorded.
    Locked { addr: SocketAddr, last: Instant },
}

/// One stream's source check.
#[derive(Debug, Clone)]
pub(crate) struct SourceFilter {
    policy: SourcePolicy,
    state: State,
    /// Datagrams dropped because of where they came from.
    foreign: u64,
    /// The first of them, for the warning.
    first_foreign: Option<SocketAddr>,
    /// Set when `auto` latched a source other than the offered address: (offered, latched).
    latched_instead: Option<(IpAddr, SocketAddr)>,
}

impl SourceFilter {
    /// The check for a stream whose offer names `offered` (media or session `c=`, `None` when
    /// absent or unspecified).
    pub(crate) fn new(policy: SourcePolicy, offered: Option<IpAddr>) -> SourceFilter {
        SourceFilter {
            policy,
            state: initial(policy, offered),
            foreign: 0,
            first_foreign: None,
            latched_instead: None,
        }
    }

    /// A re-offer named `offered`: when it moves the stream to another address, the new one is
    /// awaited (the old source's packets are foreign from now on).
    pub(crate) fn reoffered(&mut self, offered: Option<IpAddr>) {
        let moved = match (self.state, offered) {
            (State::Locked { addr, .. }, Some(ip)) => addr.ip() != ip,
            (State::Expecting { ip: old, .. }, Some(ip)) => old != ip,
            _ => false,
        };
        if moved && self.latched_instead.is_none() {
            self.state = initial(self.policy, offered);
        }
    }

    /// The verdict on a datagram from `from` arriving `now`.
    pub(crate) fn check(&mut self, now: Instant, from: SocketAddr) -> Verdict {
        let verdict = match self.state {
            State::Open => Verdict::Record,
            State::Unlatched => self.lock(from, now),
            State::Locked { addr, last } => self.locked(addr, last, from, now),
            State::Expecting { ip, .. } if from.ip() == ip => self.lock(from, now),
            State::Expecting { ip, candidate } => self.elsewhere(ip, candidate, from, now),
        };
        if verdict == Verdict::Drop {
            self.count_foreign(1, from);
        }
        verdict
    }

    fn lock(&mut self, addr: SocketAddr, now: Instant) -> Verdict {
        self.state = State::Locked { addr, last: now };
        Verdict::Record
    }

    fn locked(
        &mut self,
        addr: SocketAddr,
        last: Instant,
        from: SocketAddr,
        now: Instant,
    ) -> Verdict {
        let same_host_after_silence =
            from.ip() == addr.ip() && now.saturating_duration_since(last) >= RELOCK_QUIET;
        if from == addr || same_host_after_silence {
            self.lock(from, now)
        } else {
            Verdict::Drop
        }
    }

    fn elsewhere(
        &mut self,
        ip: IpAddr,
        candidate: Candidate,
        from: SocketAddr,
        now: Instant,
    ) -> Verdict {
        if self.policy != SourcePolicy::Auto {
            return Verdict::Drop;
        }
        let (candidate, verdict) = match candidate {
            Candidate::None => (
                Candidate::One {
                    addr: from,
                    since: now,
                },
                Verdict::Hold,
            ),
            Candidate::One { addr, since } if addr == from => {
                if now.saturating_duration_since(since) >= LATCH_AFTER {
                    self.latched_instead = Some((ip, from));
                    self.state = State::Locked {
                        addr: from,
                        last: now,
                    };
                    return Verdict::Latched;
                }
                (candidate, Verdict::Hold)
            }
            Candidate::One { .. } | Candidate::Several => (Candidate::Several, Verdict::Drop),
        };
        self.state = State::Expecting { ip, candidate };
        verdict
    }

    /// The stream ends while the one other source is held and the offered address never sent:
    /// that source was the stream's after all (a call shorter than [`LATCH_AFTER`] from an
    /// SBC behind NAT). Returns it, latched, so its held packets can be recorded.
    pub(crate) fn latch_at_end(&mut self, now: Instant) -> Option<SocketAddr> {
        let State::Expecting {
            ip,
            candidate: Candidate::One { addr, .. },
        } = self.state
        else {
            return None;
        };
        self.latched_instead = Some((ip, addr));
        self.state = State::Locked { addr, last: now };
        Some(addr)
    }

    /// `n` datagrams from `from` dropped (held ones that were never latched count here too).
    pub(crate) fn count_foreign(&mut self, n: u64, from: SocketAddr) {
        self.foreign = self.foreign.saturating_add(n);
        self.first_foreign.get_or_insert(from);
    }

    /// Whether datagrams are being held for a possible latch.
    #[cfg(test)]
    pub(crate) fn holding(&self) -> Option<SocketAddr> {
        match self.state {
            State::Expecting {
                candidate: Candidate::One { addr, .. },
                ..
            } => Some(addr),
            _ => None,
        }
    }

    /// Whether RTCP from `from` belongs to the stream's source (any port of its host).
    pub(crate) fn accepts_rtcp(&self, from: SocketAddr) -> bool {
        match self.state {
            State::Locked { addr, .. } => addr.ip() == from.ip(),
            State::Expecting { ip, .. } => ip == from.ip(),
            State::Open | State::Unlatched => true,
        }
    }

    /// The recorded source, once known.
    pub(crate) fn source(&self) -> Option<SocketAddr> {
        match self.state {
            State::Locked { addr, .. } => Some(addr),
            _ => None,
        }
    }

    /// What the stream's report says about sources.
    pub(crate) fn report(&self) -> SourceReport {
        SourceReport {
            foreign: self.foreign,
            first_foreign: self.first_foreign,
            source: self.source(),
            latched_instead: self.latched_instead,
        }
    }
}

/// A stream's sources, at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SourceReport {
    /// Datagrams dropped because of where they came from.
    pub(crate) foreign: u64,
    pub(crate) first_foreign: Option<SocketAddr>,
    /// The source recorded.
    pub(crate) source: Option<SocketAddr>,
    /// `auto` latched another source than the offer's address: (offered, latched).
    pub(crate) latched_instead: Option<(IpAddr, SocketAddr)>,
}

fn initial(policy: SourcePolicy, offered: Option<IpAddr>) -> State {
    match (policy, offered) {
        (SourcePolicy::Any, _) => State::Open,
        (SourcePolicy::Latch, _) | (_, None) => State::Unlatched,
        (SourcePolicy::Offer | SourcePolicy::Auto, Some(ip)) => State::Expecting {
            ip,
            candidate: Candidate::None,
        },
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;

//! RFC 3261 section 17 transactions (with RFC 6026 Accepted states) and the [`Endpoint`]
//! that owns them.

mod client_invite;
mod client_non_invite;
mod endpoint;
mod key;
mod server_invite;
mod server_non_invite;
mod stateless;
mod timers;

#[cfg(test)]
mod tests_client;
#[cfg(test)]
mod tests_e2e;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_many;
#[cfg(test)]
mod tests_server;

use std::time::{Duration, Instant};

use crate::message::{Request, Response};
use crate::peer::Peer;

pub use endpoint::Endpoint;

/// Identifies a server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxId(pub u64);

/// Identifies a client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxId(pub u64);

/// Timer base values (RFC 3261 17.1.1.1 and table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointConfig {
    /// RTT estimate, default 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s.
    pub t2: Duration,
    /// Maximum time a message stays in the network, default 5 s.
    pub t4: Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl EndpointConfig {
    /// 64*T1: Timers B, F, H, J, L, M.
    pub(crate) fn t1x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }
}

/// Errors from the TU-facing API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// No such server transaction (never existed or already terminated).
    #[error("unknown server transaction {0:?}")]
    UnknownTransaction(ServerTxId),
    /// The transaction already sent a final response.
    #[error("transaction {0:?} already has a final response")]
    FinalAlreadySent(ServerTxId),
    /// A 2xx to INVITE without a To tag: its ACK could never be matched (RFC 3261 12.1.1).
    #[error("2xx to INVITE on {0:?} has no To tag")]
    MissingToTag(ServerTxId),
    /// Status code outside 100..=699.
    #[error("invalid status code {0}")]
    InvalidStatus(u16),
}

/// Something the IO layer or the TU must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes to `to` (same TCP connection when `to.conn` is set).
    Transmit {
        /// Destination.
        to: Peer,
        /// Serialised message.
        bytes: Vec<u8>,
    },
    /// Report to the TU.
    Event(Event),
}

/// Transaction-user events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new request (never a retransmission; never ACK or CANCEL).
    Request {
        /// Server transaction to answer with [`Endpoint::respond`].
        tx: ServerTxId,
        /// Where it came from.
        from: Peer,
        /// The request (top Via carries received/rport when it came over UDP).
        request: Request,
    },
    /// An ACK outside any INVITE server transaction. `matched` is true when it acknowledged a
    /// 2xx we sent (Call-ID, CSeq number, From tag and To tag matched, RFC 3261 13.3.1.4);
    /// duplicates of an already matched ACK are reported matched again.
    Ack {
        /// Where it came from.
        from: Peer,
        /// The ACK.
        request: Request,
        /// Whether it matched a 2xx we sent.
        matched: bool,
    },
    /// CANCEL matched a pending INVITE; the CANCEL was answered 200, the TU should answer
    /// the INVITE with 487 (RFC 3261 9.2).
    Cancelled {
        /// The INVITE server transaction.
        tx: ServerTxId,
        /// Its Call-ID.
        call_id: String,
    },
    /// A 2xx to INVITE was not ACKed within 64*T1 (RFC 3261 13.3.1.4).
    AckTimeout {
        /// The INVITE server transaction.
        tx: ServerTxId,
        /// Its Call-ID.
        call_id: String,
    },
    /// A response to a client transaction (2xx retransmissions to INVITE included).
    Response {
        /// The client transaction.
        tx: ClientTxId,
        /// The response.
        response: Response,
    },
    /// Timer B or F fired (or the INVITE stayed in Proceeding past the guard time).
    ClientTimeout {
        /// The client transaction.
        tx: ClientTxId,
    },
    /// Unparseable input; `answered` when a 400 (or a 505) was sent back.
    Malformed {
        /// Where it came from.
        from: Peer,
        /// What was wrong.
        reason: String,
        /// Whether a 400 or 505 was sent.
        answered: bool,
    },
}

/// Retransmission timer shared by all state machines: fires at `at`, then the interval
/// doubles up to `cap` (RFC 3261 17.1.1.2, 17.1.2.2, 17.2.1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retransmit {
    pub(crate) at: Instant,
    pub(crate) interval: Duration,
    pub(crate) cap: Option<Duration>,
}

impl Retransmit {
    pub(crate) fn start(now: Instant, t1: Duration, cap: Option<Duration>) -> Retransmit {
        Retransmit {
            at: after(now, t1),
            interval: t1,
            cap,
        }
    }

    /// Fire if due; returns true when the caller must retransmit.
    pub(crate) fn fire(&mut self, now: Instant) -> bool {
        if now < self.at {
            return false;
        }
        let doubled = self.interval.saturating_mul(2);
        self.interval = self.cap.map_or(doubled, |c| doubled.min(c));
        self.at = after(self.at, self.interval);
        if self.at <= now {
            self.at = after(now, self.interval);
        }
        true
    }
}

/// `now + d` without the overflow panic of `Instant + Duration` (absurd configs): an
/// unrepresentable deadline becomes one year ahead, or `now` as a last resort.
pub(crate) fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// Earliest of two optional instants.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Queue a transmission.
pub(crate) fn transmit(out: &mut std::collections::VecDeque<Output>, to: Peer, bytes: Vec<u8>) {
    out.push_back(Output::Transmit { to, bytes });
}

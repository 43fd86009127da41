//! Non-INVITE client transaction (RFC 3261 17.1.2).

use std::collections::VecDeque;
use std::time::Instant;

use super::key::ClientKey;
use super::{ClientTxId, EndpointConfig, Event, Output, Retransmit, after, earliest, transmit};
use crate::message::{Request, Response};
use crate::peer::Peer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

pub(crate) struct ClientNonInvite {
    pub(crate) id: ClientTxId,
    pub(crate) key: ClientKey,
    peer: Peer,
    request_bytes: Vec<u8>,
    state: State,
    retransmit: Option<Retransmit>,
    timeout_at: Option<Instant>,
}

impl ClientNonInvite {
    pub(crate) fn new(
        id: ClientTxId,
        key: ClientKey,
        peer: Peer,
        request: &Request,
        now: Instant,
        cfg: &EndpointConfig,
        out: &mut VecDeque<Output>,
    ) -> Self {
        let request_bytes = request.to_bytes();
        transmit(out, peer, request_bytes.clone());
        ClientNonInvite {
            id,
            key,
            peer,
            request_bytes,
            state: State::Trying,
            // Timer E: T1 doubling up to T2.
            retransmit: peer
                .transport
                .is_unreliable()
                .then(|| Retransmit::start(now, cfg.t1, Some(cfg.t2))),
            timeout_at: Some(after(now, cfg.t1x64())), // Timer F
        }
    }

    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        cfg: &EndpointConfig,
        resp: Response,
        out: &mut VecDeque<Output>,
    ) {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return; // final retransmissions are absorbed in Completed
        }
        if resp.status < 200 {
            self.state = State::Proceeding;
            // In Proceeding, Timer E fires every T2 (17.1.2.2).
            if let Some(r) = &mut self.retransmit {
                r.interval = cfg.t2;
            }
        } else {
            self.retransmit = None;
            if self.peer.transport.is_unreliable() {
                self.state = State::Completed;
                self.timeout_at = Some(after(now, cfg.t4)); // Timer K
            } else {
                self.state = State::Terminated;
            }
        }
        out.push_back(Output::Event(Event::Response {
            tx: self.id,
            response: resp,
        }));
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        earliest(self.retransmit.map(|r| r.at), self.timeout_at)
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(crate) fn on_timer(&mut self, now: Instant, out: &mut VecDeque<Output>) -> bool {
        if let Some(r) = &mut self.retransmit {
            if r.fire(now) {
                transmit(out, self.peer, self.request_bytes.clone());
            }
        }
        if self.timeout_at.is_some_and(|t| now >= t) {
            if self.state != State::Completed {
                out.push_back(Output::Event(Event::ClientTimeout { tx: self.id }));
            }
            self.state = State::Terminated;
        }
        self.state == State::Terminated
    }
}

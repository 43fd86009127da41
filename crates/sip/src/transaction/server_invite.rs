//! INVITE server transaction (RFC 3261 17.2.1, RFC 6026 section 7.1 Accepted state).
//!
//! Unlike RFC 3261, 2xx retransmission (13.3.1.4, a TU-core duty) is done here too:
//! T1 doubling up to T2 on every transport, until the ACK or 64*T1 (Timer L).

use std::collections::VecDeque;
use std::time::Instant;

use super::key::{AckKey, ServerKey};
use super::{
    EndpointConfig, EndpointError, Event, Output, Retransmit, ServerTxId, after, earliest, transmit,
};
use crate::message::{Request, Response};
use crate::peer::Peer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Proceeding,
    /// Non-2xx final sent; Timer G (UDP) and H run.
    Completed,
    /// ACK for the non-2xx received; Timer I runs.
    Confirmed,
    /// 2xx sent (RFC 6026); 2xx retransmission and Timer L run.
    Accepted,
    Terminated,
}

pub(crate) struct ServerInvite {
    pub(crate) id: ServerTxId,
    pub(crate) peer: Peer,
    pub(crate) request: Request,
    pub(crate) key: ServerKey,
    pub(crate) ack_key: Option<AckKey>,
    /// To tag of our latest response, reused in the 200 to a CANCEL (RFC 3261 9.2).
    pub(crate) to_tag: Option<String>,
    pub(crate) state: State,
    last_response: Option<Vec<u8>>,
    retransmit: Option<Retransmit>,
    timeout_at: Option<Instant>,
    acked: bool,
}

impl ServerInvite {
    pub(crate) fn new(id: ServerTxId, peer: Peer, request: Request, key: ServerKey) -> Self {
        ServerInvite {
            id,
            peer,
            request,
            key,
            ack_key: None,
            to_tag: None,
            state: State::Proceeding,
            last_response: None,
            retransmit: None,
            timeout_at: None,
            acked: false,
        }
    }

    fn call_id(&self) -> String {
        self.request.call_id().unwrap_or_default().to_string()
    }

    /// TU response. Provisional responses may repeat; one final only.
    pub(crate) fn respond(
        &mut self,
        now: Instant,
        cfg: &EndpointConfig,
        resp: &Response,
        out: &mut VecDeque<Output>,
    ) -> Result<(), EndpointError> {
        if self.state != State::Proceeding {
            return Err(EndpointError::FinalAlreadySent(self.id));
        }
        if (200..300).contains(&resp.status) && resp.to_tag().is_none() {
            return Err(EndpointError::MissingToTag(self.id));
        }
        let bytes = resp.to_bytes();
        transmit(out, self.peer, bytes.clone());
        self.last_response = Some(bytes);
        if let Some(tag) = resp.to_tag() {
            self.to_tag = Some(tag);
        }
        match resp.status {
            100..=199 => {}
            200..=299 => {
                self.state = State::Accepted;
                self.ack_key = AckKey::of_2xx(resp);
                self.retransmit = Some(Retransmit::start(now, cfg.t1, Some(cfg.t2)));
                self.timeout_at = Some(after(now, cfg.t1x64()));
            }
            _ => {
                self.state = State::Completed;
                if self.peer.transport.is_unreliable() {
                    self.retransmit = Some(Retransmit::start(now, cfg.t1, Some(cfg.t2)));
                }
                self.timeout_at = Some(after(now, cfg.t1x64()));
            }
        }
        Ok(())
    }

    /// A retransmission of the INVITE: send the last response again (17.2.1).
    pub(crate) fn on_retransmission(&mut self, out: &mut VecDeque<Output>) {
        if self.state != State::Confirmed {
            if let Some(b) = &self.last_response {
                transmit(out, self.peer, b.clone());
            }
        }
    }

    /// ACK matching the transaction (same branch): absorbed after a non-2xx.
    /// Returns false when the ACK is for a 2xx and must be handled as such.
    pub(crate) fn on_ack(&mut self, now: Instant, cfg: &EndpointConfig) -> bool {
        match self.state {
            State::Completed => {
                self.state = State::Confirmed;
                self.retransmit = None;
                if self.peer.transport.is_unreliable() {
                    self.timeout_at = Some(after(now, cfg.t4));
                } else {
                    self.state = State::Terminated;
                }
                true
            }
            State::Confirmed => true,
            _ => false,
        }
    }

    /// ACK for our 2xx (dialog-level match): stop retransmitting. The transaction stays in
    /// Accepted until Timer L to absorb INVITE retransmissions (RFC 6026 8.7).
    pub(crate) fn on_2xx_ack(&mut self) {
        self.acked = true;
        self.retransmit = None;
    }

    pub(crate) fn is_proceeding(&self) -> bool {
        self.state == State::Proceeding
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        earliest(self.retransmit.map(|r| r.at), self.timeout_at)
    }

    /// Fire due timers; returns true when terminated.
    pub(crate) fn on_timer(&mut self, now: Instant, out: &mut VecDeque<Output>) -> bool {
        if let Some(r) = &mut self.retransmit {
            if r.fire(now) {
                if let Some(b) = &self.last_response {
                    transmit(out, self.peer, b.clone());
                }
            }
        }
        if self.timeout_at.is_some_and(|t| now >= t) {
            // Timer H (no ACK for non-2xx), I, or L.
            if self.state == State::Accepted && !self.acked {
                out.push_back(Output::Event(Event::AckTimeout {
                    tx: self.id,
                    call_id: self.call_id(),
                }));
            }
            self.state = State::Terminated;
        }
        self.state == State::Terminated
    }
}

//! Non-INVITE server transaction (RFC 3261 17.2.2).

use std::collections::VecDeque;
use std::time::Instant;

use super::key::ServerKey;
use super::{EndpointConfig, EndpointError, Output, ServerTxId, after, transmit};
use crate::message::{Request, Response};
use crate::peer::Peer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

pub(crate) struct ServerNonInvite {
    pub(crate) id: ServerTxId,
    pub(crate) peer: Peer,
    pub(crate) request: Request,
    pub(crate) key: ServerKey,
    state: State,
    last_response: Option<Vec<u8>>,
    /// Timer J in Completed; before that a guard so a TU that never answers cannot leak the
    /// transaction (the client gives up at 64*T1 anyway, Timer F).
    timeout_at: Instant,
}

impl ServerNonInvite {
    pub(crate) fn new(
        id: ServerTxId,
        peer: Peer,
        request: Request,
        key: ServerKey,
        now: Instant,
        cfg: &EndpointConfig,
    ) -> Self {
        ServerNonInvite {
            id,
            peer,
            request,
            key,
            state: State::Trying,
            last_response: None,
            timeout_at: after(now, cfg.t1x64()),
        }
    }

    pub(crate) fn respond(
        &mut self,
        now: Instant,
        cfg: &EndpointConfig,
        resp: &Response,
        out: &mut VecDeque<Output>,
    ) -> Result<(), EndpointError> {
        if matches!(self.state, State::Completed | State::Terminated) {
            return Err(EndpointError::FinalAlreadySent(self.id));
        }
        let bytes = resp.to_bytes();
        transmit(out, self.peer, bytes.clone());
        self.last_response = Some(bytes);
        if resp.status < 200 {
            self.state = State::Proceeding;
        } else if self.peer.transport.is_unreliable() {
            self.state = State::Completed;
            self.timeout_at = after(now, cfg.t1x64());
        } else {
            // Timer J is zero on reliable transports.
            self.state = State::Terminated;
        }
        Ok(())
    }

    /// Request retransmission: absorbed in Trying, else the last response again.
    pub(crate) fn on_retransmission(&mut self, out: &mut VecDeque<Output>) {
        if let Some(b) = &self.last_response {
            transmit(out, self.peer, b.clone());
        }
    }

    pub(crate) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        (self.state != State::Terminated).then_some(self.timeout_at)
    }

    pub(crate) fn on_timer(&mut self, now: Instant) -> bool {
        if now >= self.timeout_at {
            self.state = State::Terminated;
        }
        self.state == State::Terminated
    }
}

//! INVITE client transaction (RFC 3261 17.1.1, RFC 6026 section 7.2 Accepted state).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::key::ClientKey;
use super::{ClientTxId, EndpointConfig, Event, Output, Retransmit, after, earliest, transmit};
use crate::message::{Request, Response};
use crate::method::Method;
use crate::peer::Peer;

/// Timer D for unreliable transports (RFC 3261 17.1.1.2: at least 32 s).
const TIMER_D: Duration = Duration::from_secs(32);
/// How long we wait in Proceeding for a final response before giving up; RFC 3261 leaves
/// it to the TU (CANCEL), this guard only prevents leaks (cf. proxy Timer C, 16.6).
const PROCEEDING_GUARD: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

pub(crate) struct ClientInvite {
    pub(crate) id: ClientTxId,
    pub(crate) key: ClientKey,
    peer: Peer,
    request: Request,
    request_bytes: Vec<u8>,
    state: State,
    retransmit: Option<Retransmit>,
    timeout_at: Option<Instant>,
    ack_bytes: Option<Vec<u8>>,
}

/// ACK for a non-2xx final response (RFC 3261 17.1.1.3).
fn build_ack(req: &Request, resp: &Response) -> Request {
    let mut ack = Request::new(Method::Ack, req.uri.clone());
    if let Some(via) = req.headers.get_all("Via").first() {
        ack.headers.push("Via", *via);
    }
    for route in req.headers.get_all("Route") {
        ack.headers.push("Route", route);
    }
    for name in ["From", "To", "Call-ID"] {
        let src = if name == "To" {
            resp.header(name)
        } else {
            req.header(name)
        };
        if let Some(v) = src {
            ack.headers.push(name, v);
        }
    }
    let seq = req.cseq().map_or(0, |c| c.seq);
    ack.headers.push("CSeq", format!("{seq} ACK"));
    ack.headers.push("Max-Forwards", "70");
    ack
}

impl ClientInvite {
    pub(crate) fn new(
        id: ClientTxId,
        key: ClientKey,
        peer: Peer,
        request: Request,
        now: Instant,
        cfg: &EndpointConfig,
        out: &mut VecDeque<Output>,
    ) -> Self {
        let request_bytes = request.to_bytes();
        transmit(out, peer, request_bytes.clone());
        ClientInvite {
            id,
            key,
            peer,
            request,
            request_bytes,
            state: State::Calling,
            // Timer A doubles without cap (17.1.1.2).
            retransmit: peer
                .transport
                .is_unreliable()
                .then(|| Retransmit::start(now, cfg.t1, None)),
            timeout_at: Some(after(now, cfg.t1x64())),
            ack_bytes: None,
        }
    }

    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        cfg: &EndpointConfig,
        resp: Response,
        out: &mut VecDeque<Output>,
    ) {
        let event = |r| {
            Output::Event(Event::Response {
                tx: self.id,
                response: r,
            })
        };
        match (self.state, resp.status) {
            (State::Calling | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.retransmit = None;
                self.timeout_at = Some(after(now, PROCEEDING_GUARD.max(cfg.t1x64())));
                out.push_back(event(resp));
            }
            (State::Calling | State::Proceeding, 200..=299) => {
                self.state = State::Accepted;
                self.retransmit = None;
                self.timeout_at = Some(after(now, cfg.t1x64())); // Timer M (RFC 6026)
                out.push_back(event(resp));
            }
            (State::Calling | State::Proceeding, _) => {
                let ack = build_ack(&self.request, &resp).to_bytes();
                transmit(out, self.peer, ack.clone());
                self.ack_bytes = Some(ack);
                self.retransmit = None;
                if self.peer.transport.is_unreliable() {
                    self.state = State::Completed;
                    self.timeout_at = Some(after(now, TIMER_D));
                } else {
                    self.state = State::Terminated;
                }
                out.push_back(event(resp));
            }
            // 2xx retransmissions go to the TU so it can re-send its ACK (13.2.2.4).
            (State::Accepted, 200..=299) => out.push_back(event(resp)),
            (State::Completed, 300..=699) => {
                if let Some(a) = &self.ack_bytes {
                    transmit(out, self.peer, a.clone());
                }
            }
            _ => {}
        }
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
            if matches!(self.state, State::Calling | State::Proceeding) {
                out.push_back(Output::Event(Event::ClientTimeout { tx: self.id }));
            }
            self.state = State::Terminated;
        }
        self.state == State::Terminated
    }
}

//! The SIP side of a load run: ONE UDP socket and ONE sans-IO `Endpoint` carry every call
//! (UAC transactions, retransmissions). Calls start at the configured rate while fewer than
//! `concurrency` are up; each is INVITE -> 200 -> ACK -> media (the pacer) -> BYE -> 200.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use tapline_sdp::SessionDescription;
use tapline_sip::{
    ClientTxId, Dialog, Endpoint, Event, Message, Method, Output, Peer, Request, Response,
    Transport,
};

use super::invite::{InviteTemplate, branch};
use super::pacer::{PacerCmd, PacerDone};
use super::report::{CallRecord, Outcomes, record, unix_ms};

pub(crate) const SIP: Token = Token(0);
pub(crate) const WAKE: Token = Token(1);
/// Transaction timers are checked this often (T1 is 500 ms; `poll_timeout` walks every
/// transaction, so it is not consulted per datagram).
const TIMER_EVERY: Duration = Duration::from_millis(10);
/// Start times may lag the schedule by this much before the schedule is moved (so a stall
/// does not release a burst of calls).
const START_SLACK: Duration = Duration::from_millis(10);

/// How many calls, how fast.
pub(crate) struct Plan {
    pub(crate) calls: u64,
    pub(crate) concurrency: usize,
    pub(crate) rate: f64,
}

enum State {
    Inviting(Box<Request>),
    Streaming {
        dialog: Box<Dialog>,
        ack: Box<Request>,
    },
    Ending {
        ack: Box<Request>,
        bye_tx: ClientTxId,
    },
    Done,
}

struct Call {
    state: State,
    invite_tx: ClientTxId,
    invite_at: Instant,
    bye_at: Option<Instant>,
    record: CallRecord,
}

/// Everything the SIP thread owns.
pub(crate) struct Driver {
    pub(crate) poll: Poll,
    pub(crate) sock: UdpSocket,
    pub(crate) endpoint: Endpoint,
    pub(crate) peer: Peer,
    pub(crate) template: InviteTemplate,
    /// Local RTP ports offered, round robin (the pacer sends from the same sockets).
    pub(crate) rtp_ports: Vec<u16>,
    pub(crate) pacer: mpsc::Sender<PacerCmd>,
    pub(crate) done: mpsc::Receiver<PacerDone>,
    pub(crate) out: Outcomes,
}

/// What the driver hands back.
pub(crate) struct DriverResult {
    pub(crate) out: Outcomes,
    pub(crate) records: Vec<CallRecord>,
}

impl Driver {
    /// Run every call of `plan` to its end.
    pub(crate) fn run(mut self, plan: &Plan) -> anyhow::Result<DriverResult> {
        self.poll
            .registry()
            .register(&mut self.sock, SIP, Interest::READABLE)?;
        let mut rng = fastrand::Rng::new();
        let mut calls: Vec<Call> = Vec::new();
        let mut by_tx: HashMap<ClientTxId, u32> = HashMap::new();
        let mut events = Events::with_capacity(64);
        let mut buf = vec![0u8; 65_535];
        let interval = Duration::from_secs_f64(1.0 / plan.rate);
        let t0 = Instant::now();
        let mut next_start = t0;
        let mut next_timers = t0 + TIMER_EVERY;
        let mut active = 0usize;
        loop {
            let now = Instant::now();
            while (calls.len() as u64) < plan.calls
                && active < plan.concurrency
                && now >= next_start
            {
                let n = u32::try_from(calls.len()).unwrap_or(u32::MAX);
                let k = calls.len() * 2;
                let port = |i: usize| {
                    self.rtp_ports
                        .get(i % self.rtp_ports.len().max(1))
                        .copied()
                        .unwrap_or(9)
                };
                let invite = self
                    .template
                    .invite(u64::from(n), [port(k), port(k + 1)], &mut rng);
                let call_id = invite.call_id().unwrap_or_default().to_owned();
                let tx = self.endpoint.send_request(now, self.peer, invite.clone());
                by_tx.insert(tx, n);
                calls.push(Call {
                    state: State::Inviting(Box::new(invite)),
                    invite_tx: tx,
                    invite_at: now,
                    bye_at: None,
                    record: CallRecord {
                        call_id,
                        invite_ms: unix_ms(SystemTime::now()),
                        ..CallRecord::default()
                    },
                });
                active += 1;
                self.out.attempted += 1;
                self.out.first_invite.get_or_insert(now);
                self.out.max_active = self.out.max_active.max(active);
                next_start += interval;
                if let Some(floor) = now.checked_sub(START_SLACK) {
                    next_start = next_start.max(floor);
                }
            }
            // Datagrams from the SRS.
            for _ in 0..1024 {
                match self.sock.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        let peer = Peer {
                            transport: Transport::Udp,
                            addr: from,
                            conn: 0,
                        };
                        let bytes = buf.get(..n).unwrap_or_default();
                        self.endpoint.handle_input(Instant::now(), peer, bytes);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    // ICMP errors from an earlier send surface here on some systems.
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let now = Instant::now();
            if now >= next_timers {
                self.endpoint.handle_timeout(now);
                next_timers = now + TIMER_EVERY;
            }
            // Calls whose media is over: BYE.
            while let Ok(d) = self.done.try_recv() {
                let Some(c) = calls.get_mut(d.call as usize) else {
                    continue;
                };
                c.record.sent = d.sent;
                let (mut dialog, ack) = match std::mem::replace(&mut c.state, State::Done) {
                    State::Streaming { dialog, ack } => (dialog, ack),
                    other => {
                        c.state = other;
                        continue;
                    }
                };
                let sent_by = self.local_sent_by();
                let bye = dialog.request(Method::Bye, Transport::Udp, &sent_by, &branch(&mut rng));
                let now = Instant::now();
                let bye_tx = self.endpoint.send_request(now, self.peer, bye);
                by_tx.insert(bye_tx, d.call);
                c.bye_at = Some(now);
                c.record.bye_ms = Some(unix_ms(SystemTime::now()));
                c.state = State::Ending { ack, bye_tx };
            }
            // Transmit and react until the endpoint is idle.
            while let Some(o) = self.endpoint.poll_output() {
                match o {
                    Output::Transmit { to, bytes } => {
                        // A full socket buffer loses the datagram; the transaction retransmits.
                        let _ = self.sock.send_to(&bytes, to.addr);
                    }
                    Output::Event(e) => {
                        let ended = self.on_event(e, &mut calls, &mut by_tx, &mut rng);
                        if let Some(call) = ended {
                            active = active.saturating_sub(1);
                            if let Some(c) = calls.get(call as usize) {
                                by_tx.remove(&c.invite_tx);
                            }
                        }
                    }
                }
            }
            if calls.len() as u64 >= plan.calls && active == 0 {
                break;
            }
            let now = Instant::now();
            let mut wake = next_timers;
            if (calls.len() as u64) < plan.calls && active < plan.concurrency {
                wake = wake.min(next_start);
            }
            let timeout = wake.saturating_duration_since(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    return Err(e.into());
                }
            }
        }
        let _ = self.pacer.send(PacerCmd::Finish);
        for c in &calls {
            if c.record.answer_ms.is_some() {
                self.out.per_stream.extend_from_slice(&c.record.sent);
            }
        }
        Ok(DriverResult {
            out: self.out,
            records: calls.into_iter().map(|c| c.record).collect(),
        })
    }

    fn local_sent_by(&self) -> String {
        self.template.local.to_string()
    }

    /// React to one transaction event; returns the call that just ended, if any.
    fn on_event(
        &mut self,
        e: Event,
        calls: &mut [Call],
        by_tx: &mut HashMap<ClientTxId, u32>,
        rng: &mut fastrand::Rng,
    ) -> Option<u32> {
        match e {
            Event::Response { tx, response } => {
                let n = *by_tx.get(&tx)?;
                let c = calls.get_mut(n as usize)?;
                self.on_response(n, c, tx, response, by_tx, rng)
            }
            Event::ClientTimeout { tx } => {
                let n = by_tx.remove(&tx)?;
                let c = calls.get_mut(n as usize)?;
                match &c.state {
                    State::Inviting(_) if tx == c.invite_tx => {
                        *self.out.failed.entry("timeout".into()).or_default() += 1;
                    }
                    State::Ending { bye_tx, .. } if *bye_tx == tx => {
                        *self.out.bye.entry("timeout".into()).or_default() += 1;
                    }
                    _ => return None,
                }
                c.state = State::Done;
                Some(n)
            }
            Event::Request { tx, request, .. } => {
                // The SRS ending a recording or probing us: answer, count it.
                self.out.server_requests += 1;
                let status = match request.method {
                    Method::Bye | Method::Options => 200,
                    _ => 501,
                };
                let reason = if status == 200 {
                    "OK"
                } else {
                    "Not Implemented"
                };
                let resp = Response::for_request(&request, status, reason);
                let _ = self.endpoint.respond(Instant::now(), tx, resp);
                None
            }
            _ => None,
        }
    }

    fn on_response(
        &mut self,
        n: u32,
        c: &mut Call,
        tx: ClientTxId,
        resp: Response,
        by_tx: &mut HashMap<ClientTxId, u32>,
        rng: &mut fastrand::Rng,
    ) -> Option<u32> {
        let now = Instant::now();
        if resp.status < 200 {
            return None;
        }
        match &mut c.state {
            State::Inviting(invite) if tx == c.invite_tx => {
                c.record.status = resp.status;
                self.out.last_invite_final = Some(now);
                if resp.status >= 300 {
                    *self.out.failed.entry(resp.status.to_string()).or_default() += 1;
                    c.state = State::Done;
                    return Some(n);
                }
                record(
                    &mut self.out.setup_us,
                    now.saturating_duration_since(c.invite_at),
                );
                c.record.answer_ms = Some(unix_ms(SystemTime::now()));
                self.out.answered += 1;
                let Ok(mut dialog) = Dialog::uac(invite, &resp, self.peer) else {
                    *self.out.failed.entry("bad-200".into()).or_default() += 1;
                    c.state = State::Done;
                    return Some(n);
                };
                let ack = dialog.request(
                    Method::Ack,
                    Transport::Udp,
                    &self.local_sent_by(),
                    &branch(rng),
                );
                self.endpoint
                    .send_stateless(self.peer, Message::Request(ack.clone()));
                let dests = answer_dests(&resp);
                if dests.iter().any(Option::is_none) {
                    self.out.streams_refused += 1;
                }
                let _ = self.pacer.send(PacerCmd::Start { call: n, dests });
                c.state = State::Streaming {
                    dialog: Box::new(dialog),
                    ack: Box::new(ack),
                };
                None
            }
            // A retransmitted 2xx: our ACK was lost (RFC 3261 13.2.2.4).
            State::Streaming { ack, .. } | State::Ending { ack, .. }
                if tx == c.invite_tx && (200..300).contains(&resp.status) =>
            {
                self.endpoint
                    .send_stateless(self.peer, Message::Request((**ack).clone()));
                None
            }
            State::Ending { bye_tx, .. } if *bye_tx == tx => {
                by_tx.remove(&tx);
                *self.out.bye.entry(resp.status.to_string()).or_default() += 1;
                if let Some(at) = c.bye_at {
                    record(&mut self.out.bye_us, now.saturating_duration_since(at));
                }
                c.record.bye_status = Some(resp.status);
                c.record.bye_ok_ms = Some(unix_ms(SystemTime::now()));
                c.state = State::Done;
                Some(n)
            }
            _ => None,
        }
    }
}

/// Where to send each labelled stream: the answer's first two m-lines, in offer order
/// (RFC 3264 6: the answer keeps the offer's m-line order). `None` when refused (port 0).
fn answer_dests(resp: &Response) -> [Option<SocketAddr>; 2] {
    let body = tapline_body::classify(resp.header("Content-Type"), None, &resp.body).ok();
    let sdp = body
        .and_then(|b| b.sdp)
        .and_then(|s| SessionDescription::parse(&String::from_utf8_lossy(&s)).ok());
    let Some(sdp) = sdp else {
        return [None, None];
    };
    let at = |i: usize| sdp.media.get(i).and_then(|m| m.remote_addr(&sdp));
    [at(0), at(1)]
}

//! The SIP core: one task owns the transaction endpoint and every recording session. It is fed
//! by the transports, by the endpoint's timers and by completions from the catalogue, writer and
//! media threads, and never blocks on any of them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tapline_sip::{DialogId, Endpoint, Event, Method, Output, Peer, Request, ServerTxId};
use tokio::sync::mpsc;

use super::media_engine::MediaHandle;
use super::ports::{BoundPair, PortPool, is_local};
use super::responses;
use super::session::{Phase, Session};
use super::store_thread::StoreHandle;
use super::transport::{Inbound, Transports};
use super::writer::WriterHandle;
use crate::config::Config;

/// Completions sent back to the core by the tasks it starts.
pub(crate) enum CoreMsg {
    /// The catalogue row and files of a new recording exist (or could not be created).
    Prepared {
        num: u64,
        result: Result<(), String>,
    },
    /// A recording is final: forget it.
    Finalized { num: u64 },
    /// The writer could not create a recording's files: end it (never record into nothing).
    FilesFailed { num: u64, reason: String },
    /// From the media threads (media timeout).
    Media(super::media_engine::idle::MediaEvent),
    /// An operator asks for a metadata snapshot of an active recording.
    OperatorSnapshot {
        recording_id: String,
        reply: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
    /// SIGTERM / Ctrl-C.
    Shutdown,
}

/// Everything the core owns.
pub(crate) struct Core {
    pub(crate) endpoint: Endpoint,
    pub(crate) transports: Transports,
    pub(crate) sessions: HashMap<u64, Session>,
    pub(crate) by_dialog: HashMap<DialogId, u64>,
    pub(crate) by_tx: HashMap<ServerTxId, u64>,
    /// Our own requests (snapshot UPDATEs, BYEs) by client transaction.
    pub(crate) client_txs: HashMap<tapline_sip::ClientTxId, u64>,
    /// (Call-ID, From tag, CSeq) of each initial INVITE: a second INVITE with the same triple
    /// but another branch is a merged request (RFC 3261 8.2.2.2).
    pub(crate) by_origin: HashMap<(String, String, u32), u64>,
    /// Bound sockets waiting for the recording to be prepared.
    pub(crate) pending_sockets: HashMap<u64, Vec<Option<BoundPair>>>,
    pub(crate) pending_200: HashMap<u64, tapline_sip::Response>,
    pub(crate) pending_specs: HashMap<u64, Vec<super::media_plan::MediaPlan>>,
    pub(crate) ports: PortPool,
    /// The configured media address, when it is local (RTP sockets bind it).
    pub(crate) media_bind: Option<IpAddr>,
    pub(crate) next_num: u64,
    pub(crate) config: Arc<Config>,
    pub(crate) store: StoreHandle,
    pub(crate) media: MediaHandle,
    pub(crate) writer: WriterHandle,
    pub(crate) msgs: mpsc::UnboundedSender<CoreMsg>,
    pub(crate) recordings_dir: PathBuf,
    pub(crate) shutting_down: bool,
    local_ips: HashMap<IpAddr, IpAddr>,
    /// The local address the message being handled arrived on.
    pub(crate) last_local: SocketAddr,
}

impl Core {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        endpoint: Endpoint,
        transports: Transports,
        config: Arc<Config>,
        ports: PortPool,
        store: StoreHandle,
        media: MediaHandle,
        writer: WriterHandle,
        msgs: mpsc::UnboundedSender<CoreMsg>,
    ) -> Core {
        let media_bind = config.media_address.filter(|ip| {
            let local = is_local(*ip);
            if !local {
                tracing::info!(media_address = %ip, "media_address is not an address of this host (NAT): RTP sockets bind the local address facing each SRC");
            }
            local
        });
        Core {
            endpoint,
            transports,
            sessions: HashMap::new(),
            by_dialog: HashMap::new(),
            by_tx: HashMap::new(),
            client_txs: HashMap::new(),
            by_origin: HashMap::new(),
            pending_sockets: HashMap::new(),
            pending_200: HashMap::new(),
            pending_specs: HashMap::new(),
            ports,
            media_bind,
            next_num: 1,
            recordings_dir: config.data_dir.join("recordings"),
            config,
            store,
            media,
            writer,
            msgs,
            shutting_down: false,
            local_ips: HashMap::new(),
            last_local: SocketAddr::from(([0, 0, 0, 0], 0)),
        }
    }

    /// Run until shutdown has finalized every recording.
    pub(crate) async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Inbound>,
        mut msgs: mpsc::UnboundedReceiver<CoreMsg>,
    ) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.endpoint.poll_timeout();
            let sleep = async move {
                match deadline {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                Some(msg) = inbound.recv() => self.on_inbound(msg),
                Some(msg) = msgs.recv() => self.on_msg(msg),
                () = sleep => self.endpoint.handle_timeout(Instant::now()),
                _ = tick.tick() => self.expire_sessions(),
            }
            self.drain();
            if self.shutting_down && self.sessions.is_empty() {
                self.drain();
                tracing::info!("all recordings finalized; SIP core stopping");
                return;
            }
        }
    }

    /// Move the endpoint's output to the wire and its events to the session logic.
    pub(crate) fn drain(&mut self) {
        while let Some(out) = self.endpoint.poll_output() {
            match out {
                Output::Transmit { to, bytes } => self.transports.send(to, bytes),
                Output::Event(event) => self.on_event(event),
            }
        }
    }

    fn on_inbound(&mut self, msg: Inbound) {
        match msg {
            Inbound::Message { peer, local, bytes } => {
                self.last_local = local;
                self.endpoint.handle_input(Instant::now(), peer, &bytes);
            }
            Inbound::Connected { conn, tx } => self.transports.connected(conn, tx),
            Inbound::Closed { conn } => self.transports.closed(conn),
        }
    }

    fn on_msg(&mut self, msg: CoreMsg) {
        match msg {
            CoreMsg::Prepared { num, result } => self.on_prepared(num, result),
            CoreMsg::Finalized { num } => {
                if let Some(s) = self.sessions.remove(&num) {
                    // The recording no longer holds its TCP connection open.
                    self.transports.release(s.peer);
                    self.by_dialog.remove(s.dialog.id());
                    self.by_tx.remove(&s.invite_tx);
                    for tx in &s.client_txs {
                        self.client_txs.remove(tx);
                    }
                    if let Some(k) = &s.origin_key {
                        self.by_origin.remove(k);
                    }
                }
            }
            CoreMsg::FilesFailed { num, reason } => {
                if let Some(s) = self.sessions.get(&num) {
                    let _e = s.span.enter();
                    tracing::error!(%reason, "recording files could not be created; ending the recording");
                }
                let answered = self
                    .sessions
                    .get(&num)
                    .is_some_and(|s| matches!(s.phase, Phase::Answered | Phase::Confirmed));
                if answered {
                    self.send_bye(num);
                }
                self.finalize(num, &reason, true);
            }
            CoreMsg::Media(event) => self.on_media_event(event),
            CoreMsg::OperatorSnapshot {
                recording_id,
                reply,
            } => {
                let num = self
                    .sessions
                    .iter()
                    .find(|(_, s)| s.recording_id == recording_id)
                    .map(|(n, s)| (*n, s.phase));
                let result = match num {
                    Some((n, Phase::Answered | Phase::Confirmed)) => {
                        self.send_snapshot_request(n, "requested by the operator");
                        Ok(())
                    }
                    Some(_) => Err(format!("recording {recording_id} is not established")),
                    None => Err(format!("no active recording {recording_id}")),
                };
                let _ = reply.send(result);
            }
            CoreMsg::Shutdown => self.begin_shutdown(),
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Request { tx, from, request } => self.on_request(tx, from, request),
            Event::Ack {
                from: _,
                request,
                matched,
            } => self.on_ack(&request, matched),
            Event::Cancelled { tx, call_id } => self.on_cancelled(tx, &call_id),
            Event::AckTimeout { tx, call_id } => {
                if let Some(num) = self.by_tx.get(&tx).copied() {
                    tracing::warn!(%call_id, "no ACK for our 200 OK within 64*T1; ending the recording");
                    self.send_bye(num);
                    self.finalize(num, "no ACK for the 200 OK", true);
                }
            }
            Event::Response { tx, response } => self.on_client_response(tx, Some(&response)),
            Event::ClientTimeout { tx } => self.on_client_response(tx, None),
            Event::Malformed {
                from,
                reason,
                answered,
            } => {
                tracing::warn!(from = %from.addr, %reason, answered, "malformed SIP message");
            }
        }
    }

    fn on_request(&mut self, tx: ServerTxId, from: Peer, req: Request) {
        let in_dialog = req.to_tag().is_some();
        match (&req.method, in_dialog) {
            (Method::Invite, false) => self.on_new_invite(tx, from, req),
            (Method::Options, false) => {
                let mut resp = responses::make(&req, 200, "OK", &new_tag());
                responses::add_capabilities(&mut resp);
                self.respond(tx, &req, resp);
            }
            (Method::Other(_), _) => {
                let mut resp = responses::make(&req, 501, "Not Implemented", &new_tag());
                resp.headers.push("Allow", responses::ALLOW);
                self.respond(tx, &req, resp);
            }
            (_, true) => self.on_in_dialog(tx, req),
            (Method::Bye | Method::Update | Method::Info | Method::Prack, false) => {
                let resp =
                    responses::make(&req, 481, "Call/Transaction Does Not Exist", &new_tag());
                self.respond(tx, &req, resp);
            }
            (_, false) => {
                let mut resp = responses::make(&req, 405, "Method Not Allowed", &new_tag());
                resp.headers.push("Allow", responses::ALLOW);
                self.respond(tx, &req, resp);
            }
        }
    }

    /// Answer a server transaction and log the transaction (one line each).
    pub(crate) fn respond(&mut self, tx: ServerTxId, req: &Request, resp: tapline_sip::Response) {
        let status = resp.status;
        tracing::info!(
            call_id = req.call_id().unwrap_or("-"),
            method = req.method.as_str(),
            status,
            reason = %resp.reason,
            "SIP transaction"
        );
        if let Err(e) = self.endpoint.respond(Instant::now(), tx, resp) {
            tracing::warn!(error = %e, "could not send response");
        }
    }

    fn on_ack(&mut self, req: &Request, matched: bool) {
        let Some(id) = DialogId::for_uas_request(req) else {
            return;
        };
        match self.by_dialog.get(&id).copied() {
            Some(num) => {
                let mut answer = None;
                if let Some(s) = self.sessions.get_mut(&num) {
                    if s.phase == Phase::Answered {
                        s.phase = Phase::Confirmed;
                        let _e = s.span.enter();
                        tracing::debug!("ACK received; recording session confirmed");
                        if s.offerless {
                            answer =
                                tapline_body::classify(req.header("Content-Type"), None, &req.body)
                                    .ok()
                                    .and_then(|b| b.sdp);
                            s.offerless = false;
                        }
                    }
                }
                if let Some(sdp) = answer {
                    self.apply_ack_answer(num, &sdp);
                }
            }
            None if !matched => tracing::debug!(call_id = %id.call_id, "ACK for no dialog ignored"),
            None => {}
        }
    }

    fn on_cancelled(&mut self, tx: ServerTxId, call_id: &str) {
        let Some(num) = self.by_tx.get(&tx).copied() else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        s.cancelled = true;
        tracing::info!(%call_id, recording_id = %s.recording_id, "INVITE cancelled before the answer");
        // The 487 is sent once the recording being prepared is torn down (on_prepared), or
        // now if preparation already finished without answering.
        if self.pending_200.remove(&num).is_some() {
            let resp = responses::make(
                &s.invite,
                487,
                "Request Terminated",
                &s.dialog.id().local_tag,
            );
            let invite = s.invite.clone();
            self.respond(tx, &invite, resp);
        }
    }

    fn begin_shutdown(&mut self) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        tracing::info!(
            active = self.sessions.len(),
            "shutting down: finalizing recordings"
        );
        let nums: Vec<u64> = self.sessions.keys().copied().collect();
        for num in nums {
            let phase = self.sessions.get(&num).map(|s| s.phase);
            // Preparing sessions are refused with 503 once prepared (on_prepared).
            if let Some(Phase::Answered | Phase::Confirmed) = phase {
                self.send_bye(num);
                self.finalize(num, "server shutdown", false);
            }
        }
    }

    /// The local IP facing `peer` (the source address the kernel would use), for Contact and SDP.
    pub(crate) fn local_ip_for(&mut self, peer: Peer, local: SocketAddr) -> IpAddr {
        if !local.ip().is_unspecified() {
            return local.ip();
        }
        if let Some(ip) = self.local_ips.get(&peer.addr.ip()) {
            return *ip;
        }
        let probe = if peer.addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let ip = std::net::UdpSocket::bind(probe)
            .and_then(|s| s.connect(peer.addr).map(|()| s))
            .and_then(|s| s.local_addr())
            .map(|a| a.ip())
            .unwrap_or(local.ip());
        self.local_ips.insert(peer.addr.ip(), ip);
        ip
    }
}

/// A random tag or branch suffix (RFC 3261 19.3: at least 32 bits of randomness), from the
/// OS generator: an off-path attacker must not guess a dialog's tags to forge its BYE.
pub(crate) fn new_tag() -> String {
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS generator (never seen on Linux): still unique, less unguessable.
        bytes[..8].copy_from_slice(&fastrand::u64(..).to_le_bytes());
    }
    let mut tag = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            tag.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    tag
}

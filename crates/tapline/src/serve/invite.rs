//! A new INVITE: decide whether and what to record (RFC 7866 6.2, 7, 9; RFC 3264 6), create the
//! recording, and answer once its catalogue row and files exist.

use std::time::Instant;

use tapline_body::{BodyError, classify};
use tapline_metadata::Resolution;
use tapline_sdp::{SessionDescription, StreamDecision, build_answer, plan_answer_preferring};
use tapline_sip::{Dialog, DialogId, Peer, Request, ServerTxId};
use tapline_store::{MetadataDocument, NewRecording, NewRecordingBundle};
use time::OffsetDateTime;

use super::core::{Core, CoreMsg, new_tag};
use super::header_participants;
use super::media_engine::source::SourceFilter;
use super::media_engine::{StreamKey, StreamSpec};
use super::media_plan::supported;
use super::metadata_update::initial_state;
use super::plan::{CsRows, Plan, make_plan};
use super::ports::{PortError, bind_address};
use super::responses;
use super::session::{Phase, Session};
use super::stream_labels::generated_label;
use super::timers::{TimerAsk, add_timer_headers, timer_ask};
use super::writer::{OutputsPlan, WriterMsg};

impl Core {
    pub(crate) fn on_new_invite(&mut self, tx: ServerTxId, peer: Peer, req: Request) {
        let to_tag = new_tag();
        let call_id = req.call_id().unwrap_or_default().to_owned();
        let reject = |core: &mut Core, status: u16, reason: &str, extra: &[(&str, String)]| {
            let mut resp = responses::make(&req, status, reason, &to_tag);
            for (n, v) in extra {
                resp.headers.push(n, v);
            }
            core.respond(tx, &req, resp);
        };

        let unsupported = responses::unsupported_requires(&req);
        if !unsupported.is_empty() {
            return reject(
                self,
                420,
                "Bad Extension",
                &[("Unsupported", unsupported.join(", "))],
            );
        }
        if let (Some(from_tag), Some(cseq)) = (req.from_tag(), req.cseq()) {
            let origin = (call_id.clone(), from_tag.to_owned(), cseq.seq);
            if self.by_origin.contains_key(&origin) {
                return reject(self, 482, "Loop Detected", &[]);
            }
        }
        if self.shutting_down {
            return reject(
                self,
                503,
                "Service Unavailable (shutting down)",
                &[("Retry-After", "5".into())],
            );
        }
        let body = match classify(
            req.header("Content-Type"),
            req.header("Content-Disposition"),
            &req.body,
        ) {
            Ok(b) => b,
            Err(BodyError::Unsupported { content_type }) => {
                let reason = format!("Unsupported Media Type {content_type}");
                return reject(self, 415, &reason, &[("Accept", responses::ACCEPT.into())]);
            }
            Err(e) => {
                return reject(
                    self,
                    400,
                    &format!("Bad Request: malformed body ({e})"),
                    &[],
                );
            }
        };
        let timer_secs = match timer_ask(&req, self.config.min_se_secs) {
            TimerAsk::TooSmall => {
                return reject(
                    self,
                    422,
                    "Session Interval Too Small",
                    &[("Min-SE", self.config.min_se_secs.to_string())],
                );
            }
            TimerAsk::Expires(secs) => Some(secs),
            TimerAsk::None => None,
        };
        // An INVITE without an offer (CUCM built-in bridge): we offer two receive-only audio
        // streams in the 200 and the SRC answers in the ACK (RFC 3261 13.3.1.4, A-13).
        let offerless = body.sdp.is_none();
        let offer = match body.sdp.as_deref() {
            Some(sdp_bytes) => match SessionDescription::parse(&String::from_utf8_lossy(sdp_bytes))
            {
                Ok(o) => o,
                Err(e) => {
                    return reject(self, 400, &format!("Bad Request: malformed SDP ({e})"), &[]);
                }
            },
            None => offerless_template(peer),
        };
        let decisions = plan_answer_preferring(&offer, &supported(), &self.config.codecs);
        if !decisions
            .iter()
            .any(|d| matches!(d, StreamDecision::Accept { .. }))
        {
            return reject(
                self,
                488,
                "Not Acceptable Here",
                &[(
                    "Warning",
                    "305 tapline \"no audio stream with PCMU or PCMA\"".into(),
                )],
            );
        }

        // Metadata: a parse failure never refuses the call (A-54 policy: record without it).
        let mut warnings: Vec<String> = body.warnings.clone();
        let mut resolution: Option<Resolution> = None;
        let mut metadata_error: Option<String> = None;
        let mut cs = CsRows::default();
        let mut metadata_state = tapline_metadata::MetadataState::new();
        let mut metadata_events = Vec::new();
        let mut wants_snapshot = false;
        if let Some(xml) = body.metadata.as_deref() {
            match tapline_metadata::parse(xml) {
                Ok(parsed) => {
                    warnings.extend(parsed.warnings.iter().map(|w| w.to_string()));
                    let (state, events, w, needs) =
                        initial_state(&parsed.metadata, OffsetDateTime::now_utc());
                    warnings.extend(w);
                    let r = tapline_metadata::resolve(state.current());
                    warnings.extend(r.warnings.iter().map(|w| w.to_string()));
                    resolution = Some(r);
                    cs = CsRows::from_metadata(state.current());
                    metadata_state = state;
                    metadata_events = events;
                    wants_snapshot = needs;
                }
                Err(e) => {
                    warnings.push(format!("metadata unreadable, recording without it: {e}"));
                    metadata_error = Some(e.to_string());
                }
            }
        }
        if !responses::declares_siprec(&req) && body.metadata.is_none() {
            warnings.push("INVITE is not marked as SIPREC (no +sip.src, no Require: siprec, no metadata); recorded as a plain recording call".into());
        }

        // Everything that can refuse the INVITE is checked before any port is taken.
        let local = self.last_local;
        let local_ip = self.local_ip_for(peer, local);
        let media_ip = self.config.media_address.unwrap_or(local_ip);
        let contact_addr = std::net::SocketAddr::new(local_ip, local.port());
        let contact = responses::contact(contact_addr, peer.transport);
        let dialog = match Dialog::uas(&req, &to_tag, &contact, peer) {
            Ok(d) => d,
            Err(e) => return reject(self, 400, &format!("Bad Request: {e}"), &[]),
        };

        // RTP ports for every accepted stream. Each pair is a lease: on any path out of here
        // that does not keep it (a refusal, a cancellation), dropping it returns the port.
        let v6 = offer
            .connection
            .as_ref()
            .is_some_and(|c| c.addr_type.eq_ignore_ascii_case("IP6"));
        let bind_ip = bind_address(self.media_bind, local_ip, v6);
        let mut sockets = Vec::with_capacity(decisions.len());
        let mut ports = Vec::with_capacity(decisions.len());
        for d in &decisions {
            if !matches!(d, StreamDecision::Accept { .. }) {
                ports.push(0);
                sockets.push(None);
                continue;
            }
            match self.ports.allocate(bind_ip) {
                Ok(pair) => {
                    ports.push(pair.rtp_port);
                    sockets.push(Some(pair));
                }
                Err(e) => {
                    drop(sockets);
                    tracing::error!(call_id = %call_id, error = %e, "refusing the recording");
                    let reason = match e {
                        PortError::Descriptors(_) => "Service Unavailable: out of file descriptors",
                        PortError::Exhausted { .. } | PortError::Bind(_) => {
                            "Service Unavailable: no RTP ports"
                        }
                    };
                    return reject(self, 503, reason, &[("Retry-After", "5".into())]);
                }
            }
        }

        let session_id = fastrand::u64(1..u64::MAX / 2);
        let answer = if offerless {
            our_offer(&ports, media_ip, session_id)
        } else {
            build_answer(&offer, &decisions, &ports, media_ip, session_id, 1)
        };

        let num = self.next_num;
        self.next_num += 1;
        let recording_id = uuid::Uuid::now_v7().to_string();
        let started_at = OffsetDateTime::now_utc();
        let day = format!(
            "{:04}-{:02}-{:02}",
            started_at.year(),
            u8::from(started_at.month()),
            started_at.day()
        );
        let dir = self.recordings_dir.join(day).join(&recording_id);
        let mut plan = make_plan(
            num,
            &offer,
            &decisions,
            &ports,
            resolution.as_ref(),
            &dir,
            warnings,
        );
        // Labels must tie the SDP to the metadata (RFC 7866 7.1.1): say where they do not.
        if body.metadata.is_some() {
            let offered: Vec<&str> = offer.media.iter().filter_map(|m| m.label()).collect();
            for (label, id) in &cs.stream_ids {
                if !offered.contains(&label.as_str()) {
                    plan.warnings.push(format!(
                        "metadata stream {id} has label {label}, which no m-line carries"
                    ));
                }
            }
            for (i, m) in offer.media.iter().enumerate() {
                match m.label() {
                    Some(l) if !cs.stream_ids.iter().any(|(x, _)| x == l) => plan.warnings.push(
                        format!("m-line {i} (label {l}) is not described in the metadata"),
                    ),
                    None => plan.warnings.push(format!("m-line {i} has no a=label")),
                    _ => {}
                }
            }
        }
        if plan.participants.is_empty() && body.metadata.is_none() {
            let labels: Vec<Option<String>> = decisions
                .iter()
                .enumerate()
                .map(|(i, d)| match d {
                    StreamDecision::Accept { label, .. } => {
                        Some(label.clone().unwrap_or_else(|| generated_label(i)))
                    }
                    StreamDecision::Reject { .. } => None,
                })
                .collect();
            plan.participants = header_participants::from_headers(&req, &labels);
        }
        for row in &mut plan.rows {
            row.stream_id = cs
                .stream_ids
                .iter()
                .find(|(l, _)| *l == row.label)
                .map(|(_, id)| id.clone());
        }

        let mut ok = responses::make(&req, 200, "OK", &to_tag);
        for rr in req.headers.get_all("Record-Route") {
            ok.headers.push("Record-Route", rr);
        }
        ok.headers.push("Contact", &contact);
        responses::add_capabilities(&mut ok);
        if let Some(secs) = timer_secs {
            add_timer_headers(&req, &mut ok, secs);
        }
        ok.headers.push("Content-Type", "application/sdp");
        let answer_sdp = answer.to_string().into_bytes();
        ok.body = answer_sdp.clone();

        let span = tracing::info_span!("recording", %call_id, recording_id = %recording_id);
        {
            let _e = span.enter();
            tracing::info!(
                src = %peer.addr,
                free_port_pairs = self.ports.available(),
                streams = plan.media.len(),
                participants = plan.participants.len(),
                "recording started"
            );
            for w in &plan.warnings {
                tracing::warn!(warning = %w, "recording warning");
            }
        }
        let dialog_id: DialogId = dialog.id().clone();
        let origin_key = match (req.from_tag(), req.cseq()) {
            (Some(from_tag), Some(cseq)) => Some((call_id.clone(), from_tag.to_owned(), cseq.seq)),
            _ => None,
        };
        if let Some(k) = &origin_key {
            self.by_origin.insert(k.clone(), num);
        }
        self.by_dialog.insert(dialog_id, num);
        self.by_tx.insert(tx, num);
        self.pending_sockets.insert(num, sockets);
        self.pending_200.insert(num, ok);
        self.pending_specs.insert(num, plan.media.clone());

        // Catalogue row, then files; the answer goes out when both exist.
        let store = self.store.clone();
        let writer = self.writer.clone();
        let msgs = self.msgs.clone();
        let rec = recording_id.clone();
        let cid = call_id.clone();
        let src = peer.addr.to_string();
        let dir_s = dir.display().to_string();
        let metadata_raw = body.metadata.clone();
        let metadata_ct = body.metadata_content_type.clone();
        let Plan {
            streams,
            rows,
            participants,
            channel_map,
            stereo,
            warnings,
            ..
        } = plan;
        let stereo_streams = stereo.as_ref().map(|(_, m)| m.clone()).unwrap_or_default();
        let roles = participants
            .iter()
            .filter_map(|p| {
                p.role
                    .clone()
                    .map(|r| (p.participant_id.clone(), (r, p.role_source.clone())))
            })
            .collect();
        let mlines = tapline_sdp::negotiated(&decisions, &ports);
        let want = |o: &str| {
            self.config
                .outputs
                .iter()
                .any(|x| x.eq_ignore_ascii_case(o))
        };
        let (want_streams, want_stereo) = (want("streams"), want("stereo"));
        let mut streams = streams;
        let mut rows = rows;
        if !want_streams {
            for st in &mut streams {
                st.file = None;
            }
            for r in &mut rows {
                r.file_path = None;
            }
        }
        let stereo = if want_stereo { stereo } else { None };
        let rate = streams
            .iter()
            .map(|s| s.plan.sample_rate)
            .max()
            .unwrap_or(8000);
        let outputs = OutputsPlan {
            rate,
            streams: streams
                .iter()
                .map(|s| (s.file.clone(), s.plan.sample_rate))
                .collect(),
            stereo: stereo.clone(),
            mixed: want("mixed").then(|| dir.join("mixed.wav")),
            ogg: want("ogg").then(|| dir.join("mixed.ogg")),
        };
        let stereo_path = stereo.as_ref().map(|(p, _)| p.display().to_string());
        tokio::spawn(async move {
            let stored = store
                .call(move |c| -> Result<(), tapline_store::StoreError> {
                    // One transaction for all the INVITE's rows.
                    c.record_invite(&NewRecordingBundle {
                        recording: NewRecording {
                            id: &rec,
                            call_id: &cid,
                            src_addr: &src,
                            started_at,
                            dir: &dir_s,
                        },
                        streams: &rows,
                        participants: &participants,
                        sessions: &cs.sessions,
                        session_links: &cs.links,
                        group_id: cs.group.as_deref(),
                        metadata: metadata_raw.as_deref().map(|raw| MetadataDocument {
                            sip_method: "INVITE",
                            content_type: metadata_ct.as_deref(),
                            raw,
                            parse_error: metadata_error.as_deref(),
                        }),
                        warnings: &warnings,
                        stereo_path: stereo_path.as_deref(),
                        channel_map: &channel_map,
                        events: &metadata_events,
                    })?;
                    Ok(())
                })
                .await;
            // The catalogue row must exist before we answer (a call is never silently
            // unrecorded). The files are created by the writer in parallel with the answer: it
            // handles them in order, before any audio; if that fails the recording is ended.
            let result = match stored {
                Ok(Ok(())) => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    writer.send(WriterMsg::Open {
                        recording: num,
                        plan: Box::new(outputs),
                        reply: tx,
                    });
                    let msgs = msgs.clone();
                    tokio::spawn(async move {
                        let failure = match rx.await {
                            Ok(Ok(())) => None,
                            Ok(Err(e)) => Some(format!("cannot create recording files: {e}")),
                            Err(_) => Some("writer thread gone".to_owned()),
                        };
                        if let Some(reason) = failure {
                            let _ = msgs.send(CoreMsg::FilesFailed { num, reason });
                        }
                    });
                    Ok(())
                }
                Ok(Err(e)) => Err(format!("catalogue write failed: {e}")),
                Err(_) => Err("catalogue thread gone".to_owned()),
            };
            let _ = msgs.send(CoreMsg::Prepared { num, result });
        });

        // The recording holds its TCP connection open (released on Finalized).
        self.transports.hold(peer);
        self.sessions.insert(
            num,
            Session {
                recording_id,
                dialog,
                peer,
                local: contact_addr,
                invite_tx: tx,
                invite: req,
                phase: Phase::Preparing,
                cancelled: false,
                streams,
                stereo_streams,
                answer_sdp,
                mlines,
                sdp_session_id: session_id,
                sdp_version: 1,
                media_ip,
                metadata: metadata_state,
                roles,
                origin_key,
                client_txs: Vec::new(),
                expires: None,
                session_expires_secs: timer_secs,
                snapshot_tx: None,
                offerless,
                wants_snapshot,
                dir,
                started: Instant::now(),
                started_at,
                span,
            },
        );
    }

    /// The recording exists (or failed to): start the media and answer, unless cancelled.
    pub(crate) fn on_prepared(&mut self, num: u64, result: Result<(), String>) {
        let sockets = self.pending_sockets.remove(&num).unwrap_or_default();
        let specs = self.pending_specs.remove(&num).unwrap_or_default();
        let ok = self.pending_200.remove(&num);
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        let span = s.span.clone();
        let _e = span.enter();
        // Hand the sockets to the media thread; it owns them (and their port leases) from now
        // on. Otherwise they are dropped here, which returns their ports.
        let mut started = Vec::new();
        if result.is_ok() && !s.cancelled {
            for (plan, pair) in specs.iter().zip(sockets.into_iter().flatten()) {
                let key = StreamKey {
                    recording: num,
                    stream: plan.stream,
                };
                let offered = s.streams.get(plan.stream).and_then(|st| st.offered_source);
                started.push(pair.rtp_port);
                self.media.add(StreamSpec {
                    key,
                    rtp: pair.rtp,
                    rtcp: pair.rtcp,
                    plan: plan.clone(),
                    reorder_ms: self.config.reorder_ms,
                    source: SourceFilter::new(self.config.rtp_source, offered),
                    lease: pair.lease,
                });
            }
        } else {
            drop(sockets);
            for st in &mut s.streams {
                st.rtp_port = None;
            }
        }
        let tx = s.invite_tx;
        let invite = s.invite.clone();
        match (result, s.cancelled, ok) {
            (Ok(()), false, Some(ok)) if !self.shutting_down => {
                s.phase = Phase::Answered;
                let timer = s.session_expires_secs;
                let snapshot = s.wants_snapshot;
                drop(_e);
                self.respond(tx, &invite, ok);
                if let Some(secs) = timer {
                    self.arm_timer(num, secs);
                }
                if snapshot {
                    self.request_snapshot(num, "the first metadata was a partial update");
                }
            }
            (Err(e), _, answer) => {
                tracing::error!(error = %e, "recording could not be created");
                if answer.is_some() {
                    let to_tag = s.dialog.id().local_tag.clone();
                    let resp = responses::make(
                        &invite,
                        500,
                        "Server Internal Error: recording storage unavailable",
                        &to_tag,
                    );
                    drop(_e);
                    self.respond(tx, &invite, resp);
                }
                self.finalize(num, "storage failure before answer", true);
            }
            (Ok(()), _, _) => {
                // Cancelled (487 already sent) or shutting down before the answer.
                if self.shutting_down && !s.cancelled {
                    let to_tag = s.dialog.id().local_tag.clone();
                    let resp = responses::make(
                        &invite,
                        503,
                        "Service Unavailable (shutting down)",
                        &to_tag,
                    );
                    drop(_e);
                    self.respond(tx, &invite, resp);
                }
                self.finalize(num, "cancelled before answer", true);
            }
        }
        if !started.is_empty() {
            tracing::debug!(ports = ?started, "receiving RTP");
        }
    }
}

/// What an offerless INVITE is treated as: two sendonly audio streams labelled 1 and 2, which is
/// what our own offer in the 200 proposes to receive.
fn offerless_template(peer: Peer) -> SessionDescription {
    let (kind, ip) = match peer.addr.ip() {
        std::net::IpAddr::V4(a) => ("IP4", a.to_string()),
        std::net::IpAddr::V6(a) => ("IP6", a.to_string()),
    };
    let text = format!(
        "v=0\r\no=- 0 0 IN {kind} {ip}\r\ns=-\r\nc=IN {kind} {ip}\r\nt=0 0\r\n\
         m=audio 9 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=label:1\r\na=sendonly\r\n\
         m=audio 9 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=label:2\r\na=sendonly\r\n"
    );
    SessionDescription::parse(&text).unwrap_or_else(|_| SessionDescription {
        version: None,
        origin: None,
        session_name: None,
        connection: None,
        attributes: Vec::new(),
        media: Vec::new(),
        other_lines: Vec::new(),
    })
}

/// Our offer in the 200 to an offerless INVITE: receive-only audio on the allocated ports.
fn our_offer(ports: &[u16], ip: std::net::IpAddr, session_id: u64) -> SessionDescription {
    let kind = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut text = format!(
        "v=0\r\no=tapline {session_id} 1 IN {kind} {ip}\r\ns=-\r\nc=IN {kind} {ip}\r\nt=0 0\r\n"
    );
    for (i, port) in ports.iter().enumerate() {
        text.push_str(&format!(
            "m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=label:{}\r\na=recvonly\r\n",
            i + 1
        ));
    }
    SessionDescription::parse(&text).unwrap_or_else(|_| {
        offerless_template(Peer {
            transport: tapline_sip::Transport::Udp,
            addr: std::net::SocketAddr::new(ip, 0),
            conn: 0,
        })
    })
}

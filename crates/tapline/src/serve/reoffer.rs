//! A new SDP offer inside a recording session (re-INVITE or UPDATE, RFC 3264 8; RFC 7866 7.1.1.1):
//! streams are kept, paused, resumed, switched to another codec, added (new m-line or a disabled
//! one reused) or removed (port 0). Our answer keeps the ports of kept streams.

use time::OffsetDateTime;

use tapline_sdp::{
    SessionDescription, StreamChange, StreamDecision, build_answer, compare_reoffer, is_paused,
    plan_answer_preferring,
};
use tapline_store::{EventRow, StreamRow};

use super::core::Core;
use super::final_rows::counters;
use super::media_engine::source::SourceFilter;
use super::media_engine::{StreamKey, StreamSpec};
use super::media_plan::{media_plan, supported};
use super::plan::file_name;
use super::ports::bind_address;
use super::session::SessionStream;
use super::stream_labels::generated_label;
use super::writer::WriterMsg;

/// Why a re-offer was refused; the session in force stays (RFC 3261 14.2).
pub(crate) struct Refused {
    pub(crate) status: u16,
    pub(crate) reason: String,
}

impl Core {
    /// Apply `offer` to session `num` and return the SDP answer.
    pub(crate) fn apply_reoffer(
        &mut self,
        num: u64,
        offer: &SessionDescription,
    ) -> Result<Vec<u8>, Refused> {
        let decisions = plan_answer_preferring(offer, &supported(), &self.config.codecs);
        let Some(s) = self.sessions.get(&num) else {
            return Err(Refused {
                status: 481,
                reason: "Call/Transaction Does Not Exist".into(),
            });
        };
        let changes = compare_reoffer(&s.mlines, &decisions);
        let v6 = offer
            .connection
            .as_ref()
            .is_some_and(|c| c.addr_type.eq_ignore_ascii_case("IP6"));

        // Ports for new streams first, so a refusal changes nothing (dropping the pairs taken
        // so far returns them).
        let bind_ip = bind_address(self.media_bind, s.local.ip(), v6);
        let mut new_pairs = Vec::new();
        for c in &changes {
            if let StreamChange::Added { index, .. } = c {
                match self.ports.allocate(bind_ip) {
                    Ok(pair) => new_pairs.push((*index, pair)),
                    Err(e) => {
                        let _e = s.span.enter();
                        tracing::error!(error = %e, "refusing a re-offer that adds a stream");
                        return Err(Refused {
                            status: 500,
                            reason: format!("Server Internal Error: {e}"),
                        });
                    }
                }
            }
        }

        let Some(s) = self.sessions.get_mut(&num) else {
            return Err(Refused {
                status: 481,
                reason: "Call/Transaction Does Not Exist".into(),
            });
        };
        let now = OffsetDateTime::now_utc();
        let mut events: Vec<EventRow> = Vec::new();
        let mut rows: Vec<StreamRow> = Vec::new();
        let mut removed: Vec<SessionStream> = Vec::new();
        let mut ports = vec![0u16; decisions.len()];
        let mut changed = false;
        let event = |kind: &str, label: &str, details: Option<serde_json::Value>| EventRow {
            at: now,
            kind: kind.to_owned(),
            label: Some(label.to_owned()),
            participant_id: None,
            details,
        };
        let active_at = |streams: &[SessionStream], mline: usize| {
            streams.iter().position(|st| st.active && st.mline == mline)
        };

        for (c, d) in changes.iter().zip(&decisions) {
            match c {
                StreamChange::Kept {
                    index,
                    paused,
                    was_paused,
                    codec_changed,
                } => {
                    let Some(i) = active_at(&s.streams, *index) else {
                        continue;
                    };
                    let Some(st) = s.streams.get_mut(i) else {
                        continue;
                    };
                    if let Some(p) = ports.get_mut(*index) {
                        *p = st.rtp_port.unwrap_or(0);
                    }
                    self.media.reoffered(st.key, d.remote_ip());
                    if paused != was_paused {
                        changed = true;
                        st.paused = *paused;
                        self.media.restart_idle(st.key);
                        events.push(event(
                            if *paused { "pause" } else { "resume" },
                            &st.label,
                            Some(serde_json::json!({ "cause": "sdp" })),
                        ));
                    }
                    if *codec_changed {
                        if let StreamDecision::Accept {
                            payload_type,
                            encoding,
                            clock_rate,
                            telephone_event,
                            ..
                        } = d
                        {
                            changed = true;
                            let plan = media_plan(
                                st.key.stream,
                                *payload_type,
                                encoding,
                                *clock_rate,
                                *telephone_event,
                                offer.media.get(*index),
                            );
                            self.media.update(st.key, plan.clone());
                            st.plan = plan;
                            events.push(event("codec_changed", &st.label, Some(serde_json::json!({ "codec": encoding, "payload_type": payload_type }))));
                            rows.push(stream_row(st, offer, *index, d));
                        }
                    }
                }
                StreamChange::Removed { index } => {
                    changed = true;
                    if let Some(i) = active_at(&s.streams, *index) {
                        if let Some(st) = s.streams.get_mut(i) {
                            st.active = false;
                            events.push(event("stream_removed", &st.label, None));
                            removed.push(st.clone());
                        }
                    }
                }
                StreamChange::StillRejected { .. } => {}
                StreamChange::Added {
                    index,
                    replaces_active,
                } => {
                    changed = true;
                    let mut stereo_channel = None;
                    if *replaces_active {
                        if let Some(i) = active_at(&s.streams, *index) {
                            if let Some(st) = s.streams.get_mut(i) {
                                st.active = false;
                                events.push(event(
                                    "stream_removed",
                                    &st.label,
                                    Some(serde_json::json!({ "replaced": true })),
                                ));
                                removed.push(st.clone());
                                stereo_channel = s.stereo_streams.iter().position(|x| *x == i);
                            }
                        }
                    }
                    let Some(pos) = new_pairs.iter().position(|(ix, _)| ix == index) else {
                        continue;
                    };
                    let (_, pair) = new_pairs.swap_remove(pos);
                    let StreamDecision::Accept {
                        label,
                        payload_type,
                        encoding,
                        clock_rate,
                        telephone_event,
                        ..
                    } = d
                    else {
                        continue;
                    };
                    let stream = s.streams.len();
                    let label = label.clone().unwrap_or_else(|| generated_label(*index));
                    let taken: Vec<String> = s
                        .streams
                        .iter()
                        .filter_map(|st| {
                            st.file
                                .as_ref()
                                .and_then(|f| f.file_stem())
                                .map(|x| x.to_string_lossy().into_owned())
                        })
                        .collect();
                    let (_, path) = file_name(&s.dir, &label, stream, &taken);
                    let plan = media_plan(
                        stream,
                        *payload_type,
                        encoding,
                        *clock_rate,
                        *telephone_event,
                        offer.media.get(*index),
                    );
                    let key = StreamKey {
                        recording: num,
                        stream,
                    };
                    if let Some(p) = ports.get_mut(*index) {
                        *p = pair.rtp_port;
                    }
                    let offered_source = d.remote_ip();
                    let st = SessionStream {
                        label: label.clone(),
                        mline: *index,
                        offered_source,
                        rtp_port: Some(pair.rtp_port),
                        key,
                        file: self
                            .config
                            .outputs
                            .iter()
                            .any(|o| o.eq_ignore_ascii_case("streams"))
                            .then(|| path.clone()),
                        active: true,
                        paused: is_paused(d),
                        plan: plan.clone(),
                    };
                    if let Some(ch) = stereo_channel {
                        if let Some(slot) = s.stereo_streams.get_mut(ch) {
                            *slot = stream;
                        }
                    }
                    self.writer.send(WriterMsg::AddStream {
                        recording: num,
                        stream,
                        path: st.file.clone(),
                        rate: plan.sample_rate,
                        stereo_channel,
                    });
                    self.media.add(StreamSpec {
                        key,
                        rtp: pair.rtp,
                        rtcp: pair.rtcp,
                        plan: plan.clone(),
                        reorder_ms: self.config.reorder_ms,
                        source: SourceFilter::new(self.config.rtp_source, offered_source),
                        lease: pair.lease,
                    });
                    rows.push(stream_row(&st, offer, *index, d));
                    events.push(event(
                        "stream_added",
                        &label,
                        Some(serde_json::json!({ "codec": encoding, "port": st.rtp_port })),
                    ));
                    s.streams.push(st);
                }
            }
        }
        s.mlines = tapline_sdp::negotiated(&decisions, &ports);
        if changed || s.mlines.len() != ports.len() {
            s.sdp_version += 1;
        }
        let answer = build_answer(
            offer,
            &decisions,
            &ports,
            s.media_ip,
            s.sdp_session_id,
            s.sdp_version,
        );
        s.answer_sdp = answer.to_string().into_bytes();
        let answer_bytes = s.answer_sdp.clone();
        let recording_id = s.recording_id.clone();
        {
            let _e = s.span.enter();
            for e in &events {
                tracing::info!(kind = %e.kind, label = e.label.as_deref().unwrap_or("-"), "recording event");
            }
        }

        // Catalogue rows and events, in order after everything already queued.
        let rec = recording_id.clone();
        self.store.run(move |c| {
            for row in &rows {
                if let Err(e) = c.upsert_stream(&rec, row) {
                    tracing::error!(error = %e, "catalogue: stream row");
                }
            }
            for e in &events {
                if let Err(err) = c.add_event(&rec, e) {
                    tracing::error!(error = %err, "catalogue: event");
                }
            }
        });
        // Removed streams: flush their audio, store their counters (their ports return to the
        // pool when the media thread drops their sockets).
        for st in removed {
            let media = self.media.clone();
            let store = self.store.clone();
            let rec = recording_id.clone();
            tokio::spawn(async move {
                let report = media.remove(st.key).await.unwrap_or_default();
                let index = st.key.stream;
                store.run(move |c| {
                    if let Err(e) = c.set_stream_counters(&rec, index, &counters(&report)) {
                        tracing::error!(error = %e, "catalogue: stream counters");
                    }
                });
            });
        }
        Ok(answer_bytes)
    }
}

impl Core {
    /// The SRC's answer in the ACK to the offer we made for an offerless INVITE (RFC 3261
    /// 13.3.1.4): streams it refused (port 0) stop; the codec it picked (first format) is the one
    /// decoded.
    pub(crate) fn apply_ack_answer(&mut self, num: u64, sdp: &[u8]) {
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        let _e = s.span.clone().entered();
        let answer = match SessionDescription::parse(&String::from_utf8_lossy(sdp)) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable SDP answer in the ACK; keeping our offer's streams");
                return;
            }
        };
        let mut removed = Vec::new();
        for (i, m) in answer.media.iter().enumerate() {
            let Some(st) = s.streams.iter_mut().find(|st| st.active && st.mline == i) else {
                continue;
            };
            if m.port == 0 {
                st.active = false;
                removed.push(st.clone());
                continue;
            }
            let Some(pt) = m.formats.first().and_then(|f| f.parse::<u8>().ok()) else {
                continue;
            };
            if let Some(map) = m.rtpmap(pt) {
                let te = m
                    .rtpmaps()
                    .iter()
                    .find(|r| r.encoding.eq_ignore_ascii_case("telephone-event"))
                    .map(|r| r.payload_type);
                let plan = media_plan(
                    st.key.stream,
                    pt,
                    &map.encoding,
                    map.clock_rate,
                    te,
                    Some(m),
                );
                self.media.update(st.key, plan.clone());
                st.plan = plan;
            }
            if let Some(label) = m.label() {
                tracing::info!(ours = %st.label, theirs = %label, "SRC labelled the stream in its answer");
            }
        }
        for st in removed {
            tracing::info!(label = %st.label, "the SRC refused a stream of our offer");
            let media = self.media.clone();
            tokio::spawn(async move {
                let _ = media.remove(st.key).await;
            });
        }
    }
}

fn stream_row(
    st: &SessionStream,
    offer: &SessionDescription,
    index: usize,
    d: &StreamDecision,
) -> StreamRow {
    let (codec, pt, rate) = match d {
        StreamDecision::Accept {
            encoding,
            payload_type,
            clock_rate,
            ..
        } => (
            Some(encoding.clone()),
            Some(*payload_type),
            Some(*clock_rate),
        ),
        StreamDecision::Reject { .. } => (None, None, None),
    };
    StreamRow {
        index: Some(st.key.stream),
        mline: index,
        label: st.label.clone(),
        stream_id: None,
        media: offer
            .media
            .get(index)
            .map(|m| m.media.clone())
            .unwrap_or_else(|| "audio".into()),
        codec,
        payload_type: pt,
        clock_rate: rate,
        port: st.rtp_port,
        file_path: st.file.as_ref().map(|f| f.display().to_string()),
        channel: None,
        accepted: true,
        reject_reason: None,
    }
}

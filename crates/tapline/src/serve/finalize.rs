//! Ending a recording: stop its streams (the media thread flushes their audio), close its files,
//! and write the final state to the catalogue. Runs as a task so the core never waits.

use std::time::Instant;

use tapline_sip::Method;
use tapline_store::{DtmfRow, RecordingState, StreamCounters, StreamExtras};
use time::OffsetDateTime;

use super::core::{Core, CoreMsg, new_tag};
use super::manifest;
use super::media_engine::StreamReport;
use super::session::Phase;
use super::source_warnings::source_warnings;
use super::writer::WriterMsg;

impl Core {
    /// Finalize recording `num`. `failed` marks it failed instead of complete.
    pub(crate) fn finalize(&mut self, num: u64, reason: &str, failed: bool) {
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        if s.phase == Phase::Ending {
            return;
        }
        s.phase = Phase::Ending;
        let span = s.span.clone();
        let media = self.media.clone();
        let writer = self.writer.clone();
        let store = self.store.clone();
        let msgs = self.msgs.clone();
        // Streams removed earlier by a re-offer are already stopped, counted and their ports
        // returned.
        let streams: Vec<_> = s.streams.iter().filter(|st| st.active).cloned().collect();
        let recording_id = s.recording_id.clone();
        let started = s.started;
        let started_at = s.started_at;
        let dir = s.dir.clone();
        let call_id = s.dialog.id().call_id.clone();
        let reason = reason.to_owned();
        tokio::spawn(async move {
            let mut reports = Vec::with_capacity(streams.len());
            for st in &streams {
                if st.rtp_port.is_some() {
                    reports.push(media.remove(st.key).await.unwrap_or_default());
                } else {
                    reports.push(StreamReport::default());
                }
            }
            // The sockets are closed now, and their ports back in the pool: they can serve new
            // calls while the files and the catalogue are being finished.
            let (tx, rx) = tokio::sync::oneshot::channel();
            writer.send(WriterMsg::Close {
                recording: num,
                reply: tx,
            });
            let close = rx.await.unwrap_or_default();
            let ended_at = OffsetDateTime::now_utc();
            let duration_ms = u64::try_from(Instant::now().duration_since(started).as_millis())
                .unwrap_or(u64::MAX);
            // A recording that received nothing keeps no (empty) files.
            let no_audio = reports.iter().all(|r| r.stats.received == 0);
            let state = if failed || !close.errors.is_empty() {
                RecordingState::Failed
            } else if no_audio {
                RecordingState::Empty
            } else {
                RecordingState::Complete
            };
            let source_warnings = source_warnings(&streams, &reports);
            let origin = reports.iter().find_map(|r| r.origin);
            let audio_offset_ms = origin.map(|o| {
                u64::try_from(o.saturating_duration_since(started).as_millis()).unwrap_or(0)
            });
            let audio_start = started_at
                + time::Duration::milliseconds(
                    i64::try_from(audio_offset_ms.unwrap_or(0)).unwrap_or(0),
                );
            let longest_ms = close
                .stream_frames
                .iter()
                .map(|(f, r)| manifest::ms(*f, *r))
                .chain(
                    close
                        .stereo_frames
                        .map(|f| manifest::ms(f, close.sample_rate)),
                )
                .max()
                .unwrap_or(0);
            let head = serde_json::json!({
                "recording_id": recording_id,
                "call_id": call_id,
                "state": state.as_str(),
                "end_reason": reason,
                "started_at": started_at.format(&time::format_description::well_known::Rfc3339).ok(),
                "ended_at": ended_at.format(&time::format_description::well_known::Rfc3339).ok(),
            });
            let manifest = manifest::build(head, &streams, &reports, &close, audio_offset_ms);
            {
                let _e = span.enter();
                for (st, r) in streams.iter().zip(&reports) {
                    tracing::info!(
                        label = %st.label,
                        received = r.stats.received,
                        lost = r.stats.lost,
                        duplicates = r.stats.duplicates,
                        late = r.stats.late,
                        dtmf = r.dtmf.len(),
                        rtcp = r.rtcp_packets,
                        not_audio = r.not_audio_packets,
                        foreign = r.source.foreign,
                        "stream ended"
                    );
                }
                for e in &close.errors {
                    tracing::error!(error = %e, "recording file error");
                }
                tracing::info!(state = state.as_str(), %reason, duration_ms, audio_ms = longest_ms, "recording ended");
            }
            if no_audio {
                let _e = span.enter();
                remove_files(&dir);
            } else if let Ok(text) = serde_json::to_vec_pretty(&manifest) {
                // Next to the files, for whoever gets the files without the catalogue.
                let path = dir.join("manifest.json");
                if let Err(e) =
                    std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text))
                {
                    tracing::warn!(error = %e, "cannot write manifest.json");
                }
            }
            let errors = close.errors.clone();
            let labels: Vec<(usize, String)> = streams
                .iter()
                .map(|s| (s.key.stream, s.label.clone()))
                .collect();
            let done = store.call(move |c| {
                // One transaction for the recording's final rows.
                let batch = c.batch(|c| {
                    for ((index, label), r) in labels.iter().zip(&reports) {
                        let counters = StreamCounters {
                            received: r.stats.received,
                            lost: r.stats.lost,
                            duplicated: r.stats.duplicates,
                            late: r.stats.late,
                            foreign: r.source.foreign,
                        };
                        let extras = StreamExtras {
                            jitter_ms: Some(
                                f64::from(r.stats.jitter) * 1000.0 / f64::from(r.rtp_clock.max(1)),
                            ),
                            packets_cn: r.cn_packets,
                            ssrc_changes: r.stats.reanchors,
                            sample_rate: Some(r.sample_rate),
                        };
                        let result = c
                            .set_stream_counters(&recording_id, *index, &counters)
                            .and_then(|()| c.set_stream_extras(&recording_id, *index, &extras));
                        if let Err(e) = result {
                            tracing::error!(error = %e, "catalogue: stream counters");
                        }
                        for d in &r.dtmf {
                            let position_ms = manifest::ms(d.start, r.rtp_clock);
                            let row = DtmfRow {
                                label: label.clone(),
                                digit: d.digit.to_string(),
                                position_ms,
                                at: Some(
                                    audio_start
                                        + time::Duration::milliseconds(
                                            i64::try_from(position_ms).unwrap_or(0),
                                        ),
                                ),
                                duration_ms: d.duration_ms,
                                volume: Some(d.volume),
                            };
                            if let Err(e) = c.add_dtmf(&recording_id, &row) {
                                tracing::error!(error = %e, "catalogue: DTMF");
                            }
                        }
                    }
                    for e in errors.iter().chain(&source_warnings) {
                        let _ = c.add_warning(&recording_id, ended_at, e);
                    }
                    if no_audio {
                        if let Err(e) = c.forget_files(&recording_id) {
                            tracing::error!(error = %e, "catalogue: forgetting removed files");
                        }
                    }
                    let last_audio = audio_start
                        + time::Duration::milliseconds(i64::try_from(longest_ms).unwrap_or(0));
                    let result = c
                        .set_manifest(&recording_id, &manifest)
                        .and_then(|()| c.set_last_audio(&recording_id, last_audio, audio_offset_ms))
                        .and_then(|()| {
                            c.finish_recording(&recording_id, state, ended_at, duration_ms, &reason)
                        });
                    if let Err(e) = result {
                        tracing::error!(error = %e, "catalogue: finishing the recording failed");
                    }
                    Ok(())
                });
                if let Err(e) = batch {
                    tracing::error!(error = %e, "catalogue: final rows");
                }
            });
            let _ = done.await;
            let _ = msgs.send(CoreMsg::Finalized { num });
        });
    }

    /// Send BYE to the SRC within the dialog (the SRS ending the RS, RFC 7866 5.2 / 3261 15).
    pub(crate) fn send_bye(&mut self, num: u64) {
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        let sent_by = s.local.to_string();
        let branch = format!("z9hG4bK{}", new_tag());
        let bye = s
            .dialog
            .request(Method::Bye, s.peer.transport, &sent_by, &branch);
        let peer = s.dialog.peer();
        self.endpoint.send_request(Instant::now(), peer, bye);
    }
}

/// Remove a recording's directory (its files hold no audio). The writer has closed them.
fn remove_files(dir: &std::path::Path) {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => tracing::info!("no audio received: the recording's empty files are removed"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot remove the empty recording's files")
        }
    }
}

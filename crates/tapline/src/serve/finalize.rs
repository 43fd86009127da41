//! Ending a recording: stop its streams (the media thread flushes their audio), close its files,
//! and write the final state to the catalogue. Runs as a task so the core never waits.

use std::time::Instant;

use tapline_sip::Method;
use tapline_store::RecordingState;
use time::OffsetDateTime;

use super::core::{Core, CoreMsg, new_tag};
use super::final_rows::{FinalRows, millis};
use super::manifest;
use super::media_engine::{MediaHandle, StreamReport};
use super::session::{Phase, SessionStream};
use super::source_warnings::source_warnings;
use super::writer::{CloseReport, WriterHandle, WriterMsg};

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
            let reports = stop_streams(&media, &streams).await;
            // The sockets are closed now, and their ports back in the pool: they can serve new
            // calls while the files and the catalogue are being finished.
            let close = close_files(&writer, num).await;
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
            let audio_offset_ms = reports.iter().find_map(|r| r.origin).map(|o| {
                u64::try_from(o.saturating_duration_since(started).as_millis()).unwrap_or(0)
            });
            let audio_ms = audio_length_ms(&close);
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
                log_end(&streams, &reports, &close);
                tracing::info!(state = state.as_str(), %reason, duration_ms, audio_ms, "recording ended");
                keep_or_remove_files(&dir, no_audio, &manifest);
            }
            let mut warnings = close.errors;
            warnings.extend(source_warnings(&streams, &reports));
            let rows = FinalRows {
                recording_id,
                streams: streams
                    .iter()
                    .map(|s| (s.key.stream, s.label.clone()))
                    .zip(reports)
                    .collect(),
                warnings,
                files_removed: no_audio,
                audio_start: started_at + millis(audio_offset_ms.unwrap_or(0)),
                audio_ms,
                audio_offset_ms,
                manifest,
                state,
                ended_at,
                duration_ms,
                reason,
            };
            let _ = store.call(move |c| rows.write(c)).await;
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

/// Stop the streams that were receiving (the media threads flush their audio first) and
/// collect their reports; a stream that never had a port reports nothing.
async fn stop_streams(media: &MediaHandle, streams: &[SessionStream]) -> Vec<StreamReport> {
    let mut reports = Vec::with_capacity(streams.len());
    for st in streams {
        if st.rtp_port.is_some() {
            reports.push(media.remove(st.key).await.unwrap_or_default());
        } else {
            reports.push(StreamReport::default());
        }
    }
    reports
}

/// Close the recording's files (the writer finishes them after the audio already queued).
async fn close_files(writer: &WriterHandle, num: u64) -> CloseReport {
    let (tx, rx) = tokio::sync::oneshot::channel();
    writer.send(WriterMsg::Close {
        recording: num,
        reply: tx,
    });
    rx.await.unwrap_or_default()
}

/// The longest file, in milliseconds.
fn audio_length_ms(close: &CloseReport) -> u64 {
    close
        .stream_frames
        .iter()
        .map(|(f, r)| manifest::ms(*f, *r))
        .chain(
            close
                .stereo_frames
                .map(|f| manifest::ms(f, close.sample_rate)),
        )
        .max()
        .unwrap_or(0)
}

/// One line per stream ended, and the file errors.
fn log_end(streams: &[SessionStream], reports: &[StreamReport], close: &CloseReport) {
    for (st, r) in streams.iter().zip(reports) {
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
}

/// Write `manifest.json` next to the files (for whoever gets the files without the
/// catalogue), or, when no audio came at all, remove the directory of empty files.
fn keep_or_remove_files(dir: &std::path::Path, no_audio: bool, manifest: &serde_json::Value) {
    if no_audio {
        return remove_files(dir);
    }
    if let Ok(text) = serde_json::to_vec_pretty(manifest) {
        let path = dir.join("manifest.json");
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text)) {
            tracing::warn!(error = %e, "cannot write manifest.json");
        }
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

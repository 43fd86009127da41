//! Ending a recording: stop its streams (the media thread flushes their audio), close its files,
//! and write the final state to the catalogue. Runs as a task so the core never waits.

use std::time::Instant;

use tapline_sip::Method;
use tapline_store::{RecordingState, StreamCounters};
use time::OffsetDateTime;

use super::core::{Core, CoreMsg, new_tag};
use super::session::Phase;
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
        let reason = reason.to_owned();
        tokio::spawn(async move {
            let mut reports = Vec::with_capacity(streams.len());
            for st in &streams {
                if st.rtp_port.is_some() {
                    reports.push(media.remove(st.key).await.unwrap_or_default());
                } else {
                    reports.push(Default::default());
                }
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            writer.send(WriterMsg::Close {
                recording: num,
                reply: tx,
            });
            let close = rx.await.unwrap_or_default();
            let ended_at = OffsetDateTime::now_utc();
            let duration_ms = u64::try_from(Instant::now().duration_since(started).as_millis())
                .unwrap_or(u64::MAX);
            let state = if failed || !close.errors.is_empty() {
                RecordingState::Failed
            } else {
                RecordingState::Complete
            };
            let audio_ms: Vec<u64> = close
                .stream_frames
                .iter()
                .map(|f| f * 1000 / u64::from(close.sample_rate.max(1)))
                .collect();
            {
                let _e = span.enter();
                for (st, r) in streams.iter().zip(&reports) {
                    tracing::info!(
                        label = %st.label,
                        received = r.stats.received,
                        lost = r.stats.lost,
                        duplicates = r.stats.duplicates,
                        late = r.stats.late,
                        rtcp = r.rtcp_packets,
                        not_audio = r.foreign_packets,
                        "stream ended"
                    );
                }
                for e in &close.errors {
                    tracing::error!(error = %e, "recording file error");
                }
                tracing::info!(state = state.as_str(), %reason, duration_ms, audio_ms = ?audio_ms, "recording ended");
            }
            let errors = close.errors.clone();
            let labels: Vec<String> = streams.iter().map(|s| s.label.clone()).collect();
            let done = store.call(move |c| {
                for (label, r) in labels.iter().zip(&reports) {
                    let counters = StreamCounters {
                        received: r.stats.received,
                        lost: r.stats.lost,
                        duplicated: r.stats.duplicates,
                        late: r.stats.late,
                    };
                    if let Err(e) = c.set_stream_counters(&recording_id, label, &counters) {
                        tracing::error!(error = %e, "catalogue: stream counters");
                    }
                }
                for e in &errors {
                    let _ = c.add_warning(&recording_id, ended_at, e);
                }
                if let Err(e) =
                    c.finish_recording(&recording_id, state, ended_at, duration_ms, &reason)
                {
                    tracing::error!(error = %e, "catalogue: finishing the recording failed");
                }
            });
            let _ = done.await;
            let ports = streams.iter().filter_map(|s| s.rtp_port).collect();
            let _ = msgs.send(CoreMsg::Finalized { num, ports });
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

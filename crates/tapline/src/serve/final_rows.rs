//! The catalogue rows written when a recording ends, in one transaction: per-stream counters,
//! statistics and DTMF, the warnings found at the end, the manifest and the final state.

use tapline_store::{Catalogue, DtmfRow, RecordingState, StreamCounters, StreamExtras};
use time::OffsetDateTime;

use super::manifest;
use super::media_engine::StreamReport;

/// A stream's packet counters, as the catalogue keeps them.
pub(crate) fn counters(r: &StreamReport) -> StreamCounters {
    StreamCounters {
        received: r.stats.received,
        lost: r.stats.lost,
        duplicated: r.stats.duplicates,
        late: r.stats.late,
        foreign: r.source.foreign,
    }
}

/// Everything the final rows say about one recording.
pub(crate) struct FinalRows {
    pub(crate) recording_id: String,
    /// Per stream ended now: its index and label, with its report.
    pub(crate) streams: Vec<((usize, String), StreamReport)>,
    pub(crate) warnings: Vec<String>,
    /// The files were removed (no audio): the catalogue forgets them.
    pub(crate) files_removed: bool,
    /// Wall-clock time of the files' first sample, and their length.
    pub(crate) audio_start: OffsetDateTime,
    pub(crate) audio_ms: u64,
    pub(crate) audio_offset_ms: Option<u64>,
    pub(crate) manifest: serde_json::Value,
    pub(crate) state: RecordingState,
    pub(crate) ended_at: OffsetDateTime,
    pub(crate) duration_ms: u64,
    pub(crate) reason: String,
}

impl FinalRows {
    /// Write them in one transaction; failures are logged (the recording's files are safe).
    pub(crate) fn write(&self, c: &Catalogue) {
        let batch = c.batch(|c| {
            for ((index, label), r) in &self.streams {
                self.write_stream(c, *index, label, r);
            }
            for w in &self.warnings {
                let _ = c.add_warning(&self.recording_id, self.ended_at, w);
            }
            if self.files_removed {
                if let Err(e) = c.forget_files(&self.recording_id) {
                    tracing::error!(error = %e, "catalogue: forgetting removed files");
                }
            }
            self.finish(c);
            Ok(())
        });
        if let Err(e) = batch {
            tracing::error!(error = %e, "catalogue: final rows");
        }
    }

    fn write_stream(&self, c: &Catalogue, index: usize, label: &str, r: &StreamReport) {
        let rec = &self.recording_id;
        let extras = StreamExtras {
            jitter_ms: Some(f64::from(r.stats.jitter) * 1000.0 / f64::from(r.rtp_clock.max(1))),
            packets_cn: r.cn_packets,
            ssrc_changes: r.stats.reanchors,
            sample_rate: Some(r.sample_rate),
        };
        let result = c
            .set_stream_counters(rec, index, &counters(r))
            .and_then(|()| c.set_stream_extras(rec, index, &extras));
        if let Err(e) = result {
            tracing::error!(error = %e, "catalogue: stream counters");
        }
        for d in &r.dtmf {
            let position_ms = manifest::ms(d.start, r.rtp_clock);
            let row = DtmfRow {
                label: label.to_owned(),
                digit: d.digit.to_string(),
                position_ms,
                at: Some(self.audio_start + millis(position_ms)),
                duration_ms: d.duration_ms,
                volume: Some(d.volume),
            };
            if let Err(e) = c.add_dtmf(rec, &row) {
                tracing::error!(error = %e, "catalogue: DTMF");
            }
        }
    }

    /// Manifest, time of the last audio, final state.
    fn finish(&self, c: &Catalogue) {
        let rec = &self.recording_id;
        let last_audio = self.audio_start + millis(self.audio_ms);
        let result = c
            .set_manifest(rec, &self.manifest)
            .and_then(|()| c.set_last_audio(rec, last_audio, self.audio_offset_ms))
            .and_then(|()| {
                c.finish_recording(
                    rec,
                    self.state,
                    self.ended_at,
                    self.duration_ms,
                    &self.reason,
                )
            });
        if let Err(e) = result {
            tracing::error!(error = %e, "catalogue: finishing the recording failed");
        }
    }
}

pub(crate) fn millis(ms: u64) -> time::Duration {
    time::Duration::milliseconds(i64::try_from(ms).unwrap_or(0))
}

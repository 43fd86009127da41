//! Late-arriving facts about a recording: its manifest document, audio
//! timing, and RTP statistics beyond the basic packet counters.

use rusqlite::params;
use time::OffsetDateTime;

use crate::catalogue::exec_cached;
use crate::details::to_i64;
use crate::error::DbContext;
use crate::streams::{index_to_i64, require_stream};
use crate::timefmt::format_ts;
use crate::{Catalogue, StoreError};

/// Per-stream statistics measured by the media path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StreamExtras {
    /// RFC 3550 §6.4.1 interarrival jitter in milliseconds.
    pub jitter_ms: Option<f64>,
    /// RFC 3389 comfort-noise packets received.
    pub packets_cn: u64,
    /// Times the SSRC changed (e.g. the SRC re-anchored media).
    pub ssrc_changes: u64,
    /// Sample rate of the stored audio file (may differ from the RTP clock
    /// rate, e.g. G.722's 8000 Hz clock for 16 kHz audio, RFC 3551 §4.5.2).
    pub sample_rate: Option<u32>,
}

impl Catalogue {
    /// Store (replace) the recording's manifest JSON document.
    pub fn set_manifest(
        &self,
        recording_id: &str,
        manifest: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(manifest)?;
        let n = exec_cached(
            &self.conn,
            "UPDATE recordings SET manifest = ?2 WHERE id = ?1",
            params![recording_id, text],
        )
        .ctx("set manifest")?;
        one_recording(n, recording_id)
    }

    /// Note when audio was last seen. `audio_offset_ms` (INVITE to first
    /// audio) is measured once, so `None` keeps a value already stored.
    pub fn set_last_audio(
        &self,
        recording_id: &str,
        at: OffsetDateTime,
        audio_offset_ms: Option<u64>,
    ) -> Result<(), StoreError> {
        let at = format_ts(at)?;
        let offset = audio_offset_ms
            .map(|v| to_i64(v, "audio_offset_ms"))
            .transpose()?;
        let n = exec_cached(
            &self.conn,
            "UPDATE recordings SET last_audio_at = ?2,
                    audio_offset_ms = COALESCE(?3, audio_offset_ms)
                 WHERE id = ?1",
            params![recording_id, at, offset],
        )
        .ctx("set last audio")?;
        one_recording(n, recording_id)
    }

    /// Overwrite the extra statistics of stream `index`.
    pub fn set_stream_extras(
        &self,
        recording_id: &str,
        index: usize,
        x: &StreamExtras,
    ) -> Result<(), StoreError> {
        // NaN/inf would be stored as NULL or fail; keep only real numbers.
        let jitter = x.jitter_ms.filter(|j| j.is_finite());
        let n = exec_cached(
            &self.conn,
            "UPDATE streams SET jitter_ms = ?3, packets_cn = ?4, ssrc_changes = ?5,
                    sample_rate = ?6
                 WHERE recording_id = ?1 AND stream_index = ?2",
            params![
                recording_id,
                index_to_i64(index)?,
                jitter,
                to_i64(x.packets_cn, "packets_cn")?,
                to_i64(x.ssrc_changes, "ssrc_changes")?,
                x.sample_rate
            ],
        )
        .ctx("set stream extras")?;
        require_stream(&self.conn, n, recording_id, index)
    }
}

fn one_recording(changed: usize, id: &str) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::UnknownRecording(id.to_owned()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use time::macros::datetime;

    use crate::tests::{new_rec, open_temp};
    use crate::*;

    #[test]
    fn manifest_and_audio_timing_round_trip() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let v = serde_json::to_value(cat.get("r").unwrap().unwrap()).unwrap();
        assert_eq!(v["manifest"], Value::Null);
        assert_eq!(v["last_audio_at"], Value::Null);
        assert_eq!(v["audio_offset_ms"], Value::Null);

        let m = json!({"version": 1, "files": [{"path": "1.wav", "sha256": "ab"}]});
        cat.set_manifest("r", &m).unwrap();
        cat.set_last_audio("r", datetime!(2026-01-01 00:00:00.25 UTC), Some(250))
            .unwrap();
        cat.set_last_audio("r", datetime!(2026-01-01 00:01:00 UTC), None)
            .unwrap();
        let v = serde_json::to_value(cat.get("r").unwrap().unwrap()).unwrap();
        assert_eq!(v["manifest"], m);
        assert_eq!(v["last_audio_at"], "2026-01-01T00:01:00.000Z");
        assert_eq!(v["audio_offset_ms"], 250);

        let t = datetime!(2026-01-01 00:00 UTC);
        let unknown = |e| matches!(e, StoreError::UnknownRecording(ref s) if s == "x");
        assert!(unknown(cat.set_manifest("x", &m).unwrap_err()));
        assert!(unknown(cat.set_last_audio("x", t, None).unwrap_err()));
        assert!(matches!(
            cat.set_last_audio("r", t, Some(u64::MAX)),
            Err(StoreError::OutOfRange {
                field: "audio_offset_ms"
            })
        ));
    }

    #[test]
    fn stream_extras_round_trip() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let row = StreamRow {
            index: Some(0),
            label: "1".into(),
            media: "audio".into(),
            accepted: true,
            ..StreamRow::default()
        };
        cat.upsert_stream("r", &row).unwrap();
        let v = serde_json::to_value(cat.get("r").unwrap().unwrap()).unwrap();
        assert_eq!(v["streams"][0]["jitter_ms"], Value::Null);
        assert_eq!(v["streams"][0]["packets_cn"], 0);
        assert_eq!(v["streams"][0]["ssrc_changes"], 0);
        assert_eq!(v["streams"][0]["sample_rate"], Value::Null);
        let x = StreamExtras {
            jitter_ms: Some(3.5),
            packets_cn: 12,
            ssrc_changes: 1,
            sample_rate: Some(16_000),
        };
        cat.set_stream_extras("r", 0, &x).unwrap();
        // A re-INVITE's upsert keeps the statistics.
        cat.upsert_stream("r", &row).unwrap();
        let v = serde_json::to_value(cat.get("r").unwrap().unwrap()).unwrap();
        let s = &v["streams"][0];
        assert_eq!(s["jitter_ms"], 3.5);
        assert_eq!(s["packets_cn"], 12);
        assert_eq!(s["ssrc_changes"], 1);
        assert_eq!(s["sample_rate"], 16_000);

        let nan = StreamExtras {
            jitter_ms: Some(f64::NAN),
            ..x
        };
        cat.set_stream_extras("r", 0, &nan).unwrap();
        let d = cat.get("r").unwrap().unwrap();
        assert_eq!(d.streams[0].jitter_ms, None);
        assert!(matches!(
            cat.set_stream_extras("r", 9, &x),
            Err(StoreError::UnknownStream { index: 9, .. })
        ));
        assert!(matches!(
            cat.set_stream_extras("x", 0, &x),
            Err(StoreError::UnknownRecording(_))
        ));
        let big = StreamExtras {
            packets_cn: u64::MAX,
            ..x
        };
        assert!(matches!(
            cat.set_stream_extras("r", 0, &big),
            Err(StoreError::OutOfRange {
                field: "packets_cn"
            })
        ));
    }
}

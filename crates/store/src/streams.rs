//! Stream rows: a stream is addressed by `(recording_id, stream index)`; its label is data
//! and may repeat within a recording (several m-lines with the same `a=label`, or a
//! generated name equal to a real label).

use rusqlite::params;

use crate::catalogue::{ensure_recording, exec_cached};
use crate::details::to_i64;
use crate::error::DbContext;
use crate::{Catalogue, StoreError, StreamCounters, StreamRow};

impl Catalogue {
    /// Insert a stream or update it by `(recording_id, row.index)`. Packet counters and
    /// statistics are kept. `stream_id` and `file_path` of `None` keep any value already
    /// stored: they come from metadata and the media writer, while a re-INVITE's SDP alone
    /// does not know them. A row without an index (a rejected m-line) is always inserted.
    pub fn upsert_stream(&self, recording_id: &str, row: &StreamRow) -> Result<(), StoreError> {
        const OP: &str = "upsert stream";
        let index = row.index.map(index_to_i64).transpose()?;
        let mline = index_to_i64(row.mline)?;
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        let state = if row.accepted { "accepted" } else { "rejected" };
        exec_cached(
            &tx,
            "INSERT INTO streams (recording_id, stream_index, mline, label, stream_id, media,
                                  codec, payload_type, clock_rate, port, file_path, channel,
                                  state, reject_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (recording_id, stream_index) DO UPDATE SET
                mline = excluded.mline,
                label = excluded.label,
                stream_id = COALESCE(excluded.stream_id, streams.stream_id),
                media = excluded.media,
                codec = excluded.codec,
                payload_type = excluded.payload_type,
                clock_rate = excluded.clock_rate,
                port = excluded.port,
                file_path = COALESCE(excluded.file_path, streams.file_path),
                channel = excluded.channel,
                state = excluded.state,
                reject_reason = excluded.reject_reason",
            params![
                recording_id,
                index,
                mline,
                row.label,
                row.stream_id,
                row.media,
                row.codec,
                row.payload_type,
                row.clock_rate,
                row.port,
                row.file_path,
                row.channel,
                state,
                row.reject_reason
            ],
        )
        .ctx(OP)?;
        tx.commit().ctx(OP)
    }

    /// Overwrite the RTP counters of stream `index`.
    pub fn set_stream_counters(
        &self,
        recording_id: &str,
        index: usize,
        c: &StreamCounters,
    ) -> Result<(), StoreError> {
        let n = exec_cached(
            &self.conn,
            "UPDATE streams SET packets_received = ?3, packets_lost = ?4,
                    packets_duplicated = ?5, packets_late = ?6, packets_foreign = ?7
                 WHERE recording_id = ?1 AND stream_index = ?2",
            params![
                recording_id,
                index_to_i64(index)?,
                to_i64(c.received, "packets_received")?,
                to_i64(c.lost, "packets_lost")?,
                to_i64(c.duplicated, "packets_duplicated")?,
                to_i64(c.late, "packets_late")?,
                to_i64(c.foreign, "packets_foreign")?
            ],
        )
        .ctx("set stream counters")?;
        require_stream(&self.conn, n, recording_id, index)
    }
}

/// A stream index or m-line position as an SQLite integer.
pub(crate) fn index_to_i64(i: usize) -> Result<i64, StoreError> {
    i64::try_from(i).map_err(|_| StoreError::OutOfRange {
        field: "stream_index",
    })
}

/// An UPDATE of stream `index` must touch a row: say whether the recording or the stream
/// is unknown.
pub(crate) fn require_stream(
    conn: &rusqlite::Connection,
    changed: usize,
    recording_id: &str,
    index: usize,
) -> Result<(), StoreError> {
    if changed > 0 {
        return Ok(());
    }
    ensure_recording(conn, recording_id)?;
    Err(StoreError::UnknownStream {
        recording_id: recording_id.to_owned(),
        index,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use crate::tests::{new_rec, open_temp, row_count};
    use crate::*;

    fn row(index: usize, mline: usize, label: &str) -> StreamRow {
        StreamRow {
            index: Some(index),
            mline,
            label: label.into(),
            media: "audio".into(),
            file_path: Some(format!("/rec/r/stream-{index}.wav")),
            accepted: true,
            ..StreamRow::default()
        }
    }

    fn counters(received: u64) -> StreamCounters {
        StreamCounters {
            received,
            lost: 1,
            duplicated: 2,
            late: 3,
            foreign: 4,
        }
    }

    #[test]
    fn duplicate_labels_are_distinct_streams() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        for i in 0..3 {
            cat.upsert_stream("r", &row(i, i, "1")).unwrap();
        }
        // A generated name equal to a real label, and a rejected m-line: still separate.
        cat.upsert_stream("r", &row(3, 3, "m0")).unwrap();
        let rejected = StreamRow {
            index: None,
            mline: 4,
            label: "1".into(),
            media: "video".into(),
            reject_reason: Some("video".into()),
            ..StreamRow::default()
        };
        cat.upsert_stream("r", &rejected).unwrap();
        for i in 0..4 {
            cat.set_stream_counters("r", i, &counters(100 + i as u64))
                .unwrap();
        }
        let d = cat.get("r").unwrap().unwrap();
        assert_eq!(d.streams.len(), 5);
        for (i, s) in d.streams.iter().take(4).enumerate() {
            assert_eq!(s.index, Some(i));
            assert_eq!(s.mline, Some(i));
            assert_eq!(s.packets_received, 100 + i as u64);
            assert_eq!(s.packets_foreign, 4);
            assert_eq!(
                s.file.as_deref(),
                Some(format!("/rec/r/stream-{i}.wav").as_str())
            );
        }
        assert_eq!(d.streams[4].index, None);
        assert_eq!(d.streams[4].mline, Some(4));
        assert_eq!(d.streams[4].state, "rejected");
        // Every file is listed; repeated labels get their stream index as a suffix.
        let files: Vec<(&str, &str)> = d
            .summary
            .files
            .streams
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            files,
            [
                ("1", "/rec/r/stream-0.wav"),
                ("1#1", "/rec/r/stream-1.wav"),
                ("1#2", "/rec/r/stream-2.wav"),
                ("m0", "/rec/r/stream-3.wav"),
            ]
        );
    }

    #[test]
    fn upsert_by_index_keeps_counters_and_learned_ids() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let mut s = row(0, 0, "L");
        s.stream_id = Some("sid".into());
        s.port = Some(4000);
        cat.upsert_stream("r", &s).unwrap();
        cat.set_stream_counters("r", 0, &counters(10)).unwrap();
        // A re-INVITE moves the port and puts the stream on hold/reject.
        s.stream_id = None;
        s.file_path = None;
        s.port = Some(4002);
        s.accepted = false;
        s.reject_reason = Some("held".into());
        cat.upsert_stream("r", &s).unwrap();
        assert_eq!(row_count(&cat, "streams"), 1);
        let d = cat.get("r").unwrap().unwrap();
        let v = &d.streams[0];
        assert_eq!(v.stream_id.as_deref(), Some("sid"));
        assert_eq!(v.file.as_deref(), Some("/rec/r/stream-0.wav"));
        assert_eq!(v.port, Some(4002));
        assert_eq!(v.state, "rejected");
        assert_eq!(v.reject_reason.as_deref(), Some("held"));
        assert_eq!(
            (
                v.packets_received,
                v.packets_lost,
                v.packets_duplicated,
                v.packets_late,
                v.packets_foreign
            ),
            (10, 1, 2, 3, 4)
        );
        // A re-offer reusing the m-line adds a new stream on it.
        cat.upsert_stream("r", &row(1, 0, "L2")).unwrap();
        let d = cat.get("r").unwrap().unwrap();
        let at: Vec<_> = d.streams.iter().map(|s| (s.index, s.mline)).collect();
        assert_eq!(at, [(Some(0), Some(0)), (Some(1), Some(0))]);
    }

    #[test]
    fn counters_for_unknown_index_or_too_large() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let e = cat
            .set_stream_counters("r", 7, &StreamCounters::default())
            .unwrap_err();
        assert!(
            matches!(e, StoreError::UnknownStream { index: 7, .. }),
            "{e:?}"
        );
        assert!(matches!(
            cat.set_stream_counters("x", 0, &StreamCounters::default()),
            Err(StoreError::UnknownRecording(_))
        ));
        cat.upsert_stream("r", &row(0, 0, "L")).unwrap();
        let big = StreamCounters {
            foreign: u64::MAX,
            ..StreamCounters::default()
        };
        let e = cat.set_stream_counters("r", 0, &big).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::OutOfRange {
                    field: "packets_foreign"
                }
            ),
            "{e:?}"
        );
    }
}

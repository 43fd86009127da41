//! Writes of per-recording detail rows: participants, streams, metadata
//! documents and warnings.

use std::collections::HashSet;

use rusqlite::params;
use time::OffsetDateTime;

use crate::catalogue::{ensure_recording, exec_cached};
use crate::error::DbContext;
use crate::timefmt::format_ts;
use crate::{Catalogue, ParticipantRow, StoreError, StreamCounters, StreamRow};

impl Catalogue {
    /// Replace the participant list (and their send/recv stream links) of a
    /// recording atomically. RFC 7866 §6 lets metadata be re-sent in full, so
    /// the latest snapshot wins; `ordinal` keeps the caller's order.
    pub fn replace_participants(
        &self,
        recording_id: &str,
        rows: &[ParticipantRow],
    ) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        for row in rows {
            if !seen.insert(row.participant_id.as_str()) {
                return Err(StoreError::DuplicateParticipant(row.participant_id.clone()));
            }
            if let Some(role) = row.role.as_deref() {
                if role != "caller" && role != "callee" {
                    return Err(StoreError::InvalidRole(role.to_owned()));
                }
            }
        }
        const OP: &str = "replace participants";
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        exec_cached(
            &tx,
            "DELETE FROM participant_stream WHERE recording_id = ?1",
            [recording_id],
        )
        .ctx(OP)?;
        exec_cached(
            &tx,
            "DELETE FROM participants WHERE recording_id = ?1",
            [recording_id],
        )
        .ctx(OP)?;
        {
            let mut part = tx
                .prepare_cached(
                    "INSERT INTO participants
                     (recording_id, participant_id, aor, name, role, role_source, ordinal)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .ctx(OP)?;
            let mut link = tx
                .prepare_cached(
                    "INSERT INTO participant_stream (recording_id, participant_id, label, direction)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .ctx(OP)?;
            for (ordinal, row) in (0_i64..).zip(rows) {
                part.execute(params![
                    recording_id,
                    row.participant_id,
                    row.aor,
                    row.name,
                    row.role,
                    row.role_source,
                    ordinal
                ])
                .ctx(OP)?;
                for label in &row.sends {
                    link.execute(params![recording_id, row.participant_id, label, "send"])
                        .ctx(OP)?;
                }
                for label in &row.receives {
                    link.execute(params![recording_id, row.participant_id, label, "recv"])
                        .ctx(OP)?;
                }
            }
        }
        tx.commit().ctx(OP)
    }

    /// Insert a stream or update it by `(recording_id, label)`. Packet
    /// counters are kept. `stream_id` and `file_path` of `None` keep any value
    /// already stored: they come from metadata and the media writer, while a
    /// re-INVITE's SDP alone does not know them.
    pub fn upsert_stream(&self, recording_id: &str, row: &StreamRow) -> Result<(), StoreError> {
        const OP: &str = "upsert stream";
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        let state = if row.accepted { "accepted" } else { "rejected" };
        exec_cached(
            &tx,
            "INSERT INTO streams (recording_id, label, stream_id, media, codec, payload_type,
                                  clock_rate, port, file_path, channel, state, reject_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (recording_id, label) DO UPDATE SET
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

    /// Overwrite the RTP counters of one stream.
    pub fn set_stream_counters(
        &self,
        recording_id: &str,
        label: &str,
        c: &StreamCounters,
    ) -> Result<(), StoreError> {
        let n = exec_cached(
            &self.conn,
            "UPDATE streams SET packets_received = ?3, packets_lost = ?4,
                    packets_duplicated = ?5, packets_late = ?6
                 WHERE recording_id = ?1 AND label = ?2",
            params![
                recording_id,
                label,
                to_i64(c.received, "packets_received")?,
                to_i64(c.lost, "packets_lost")?,
                to_i64(c.duplicated, "packets_duplicated")?,
                to_i64(c.late, "packets_late")?
            ],
        )
        .ctx("set stream counters")?;
        if n == 0 {
            ensure_recording(&self.conn, recording_id)?;
            return Err(StoreError::UnknownStream {
                recording_id: recording_id.to_owned(),
                label: label.to_owned(),
            });
        }
        Ok(())
    }

    /// Keep a metadata document byte-for-byte as received (RFC 7866 §9.2),
    /// even if it failed to parse. Returns the document's row id.
    pub fn add_metadata_document(
        &self,
        recording_id: &str,
        received_at: OffsetDateTime,
        sip_method: &str,
        content_type: Option<&str>,
        raw: &[u8],
        parse_error: Option<&str>,
    ) -> Result<i64, StoreError> {
        const OP: &str = "add metadata document";
        let at = format_ts(received_at)?;
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        exec_cached(
            &tx,
            "INSERT INTO metadata_docs
             (recording_id, received_at, sip_method, content_type, raw, parse_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![recording_id, at, sip_method, content_type, raw, parse_error],
        )
        .ctx(OP)?;
        let id = tx.last_insert_rowid();
        tx.commit().ctx(OP)?;
        Ok(id)
    }

    /// Append a human-readable warning to a recording.
    pub fn add_warning(
        &self,
        recording_id: &str,
        at: OffsetDateTime,
        text: &str,
    ) -> Result<(), StoreError> {
        const OP: &str = "add warning";
        let at = format_ts(at)?;
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        exec_cached(
            &tx,
            "INSERT INTO warnings (recording_id, at, text) VALUES (?1, ?2, ?3)",
            params![recording_id, at, text],
        )
        .ctx(OP)?;
        tx.commit().ctx(OP)
    }

    /// The exact bytes of one stored metadata document, if it exists.
    pub fn metadata_raw(&self, doc_id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT raw FROM metadata_docs WHERE id = ?1",
                [doc_id],
                |r| r.get(0),
            )
            .optional()
            .ctx("read metadata document")
    }
}

/// SQLite integers are signed 64-bit.
pub(crate) fn to_i64(v: u64, field: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::OutOfRange { field })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use crate::tests::{new_rec, open_temp};
    use crate::*;

    fn person(id: &str, sends: &[&str]) -> ParticipantRow {
        ParticipantRow {
            participant_id: id.into(),
            aor: Some(format!("sip:{id}@example.com")),
            sends: sends.iter().map(|s| s.to_string()).collect(),
            ..ParticipantRow::default()
        }
    }

    fn count(cat: &Catalogue, table: &str) -> i64 {
        cat.conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn participants_are_replaced_not_duplicated() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        cat.replace_participants("r", &[person("a", &["1"]), person("b", &["2"])])
            .unwrap();
        cat.replace_participants("r", &[person("b", &["2", "3"]), person("c", &[])])
            .unwrap();
        assert_eq!(count(&cat, "participants"), 2);
        assert_eq!(count(&cat, "participant_stream"), 2);
        let d = cat.get("r").unwrap().unwrap();
        let ids: Vec<_> = d
            .summary
            .participants
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["b", "c"]);
        assert_eq!(d.summary.participants[0].sends, ["2", "3"]);
        assert!(d.summary.participants[1].sends.is_empty());
        cat.replace_participants("r", &[]).unwrap();
        assert_eq!(count(&cat, "participants"), 0);
        assert_eq!(count(&cat, "participant_stream"), 0);
    }

    #[test]
    fn bad_participant_lists_write_nothing() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        cat.replace_participants("r", &[person("keep", &["1"])])
            .unwrap();
        let e = cat
            .replace_participants("r", &[person("a", &[]), person("a", &[])])
            .unwrap_err();
        assert!(
            matches!(e, StoreError::DuplicateParticipant(ref s) if s == "a"),
            "{e:?}"
        );
        let mut bad = person("z", &[]);
        bad.role = Some("observer".into());
        let e = cat.replace_participants("r", &[bad]).unwrap_err();
        assert!(
            matches!(e, StoreError::InvalidRole(ref s) if s == "observer"),
            "{e:?}"
        );
        let d = cat.get("r").unwrap().unwrap();
        assert_eq!(d.summary.participants.len(), 1);
        assert_eq!(d.summary.participants[0].id, "keep");
    }

    #[test]
    fn upsert_keeps_counters_and_learned_ids() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let mut row = StreamRow {
            label: "L".into(),
            stream_id: Some("sid".into()),
            media: "audio".into(),
            file_path: Some("/f.wav".into()),
            port: Some(4000),
            accepted: true,
            ..StreamRow::default()
        };
        cat.upsert_stream("r", &row).unwrap();
        let c = StreamCounters {
            received: 10,
            lost: 1,
            duplicated: 2,
            late: 3,
        };
        cat.set_stream_counters("r", "L", &c).unwrap();
        // A re-INVITE moves the port and puts the stream on hold/reject.
        row.stream_id = None;
        row.file_path = None;
        row.port = Some(4002);
        row.accepted = false;
        row.reject_reason = Some("held".into());
        cat.upsert_stream("r", &row).unwrap();
        assert_eq!(count(&cat, "streams"), 1);
        let d = cat.get("r").unwrap().unwrap();
        let s = &d.streams[0];
        assert_eq!(s.stream_id.as_deref(), Some("sid"));
        assert_eq!(s.file.as_deref(), Some("/f.wav"));
        assert_eq!(s.port, Some(4002));
        assert_eq!(s.state, "rejected");
        assert_eq!(s.reject_reason.as_deref(), Some("held"));
        assert_eq!(
            (
                s.packets_received,
                s.packets_lost,
                s.packets_duplicated,
                s.packets_late
            ),
            (10, 1, 2, 3)
        );
    }

    #[test]
    fn counters_for_unknown_label_or_too_large() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let e = cat
            .set_stream_counters("r", "nope", &StreamCounters::default())
            .unwrap_err();
        assert!(
            matches!(e, StoreError::UnknownStream { ref label, .. } if label == "nope"),
            "{e:?}"
        );
        let row = StreamRow {
            label: "L".into(),
            media: "audio".into(),
            ..StreamRow::default()
        };
        cat.upsert_stream("r", &row).unwrap();
        let big = StreamCounters {
            received: u64::MAX,
            ..StreamCounters::default()
        };
        let e = cat.set_stream_counters("r", "L", &big).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::OutOfRange {
                    field: "packets_received"
                }
            ),
            "{e:?}"
        );
    }
}

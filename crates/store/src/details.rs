//! Writes of per-recording detail rows: participants and metadata documents (streams are
//! in `streams.rs`, warnings in `warnings.rs`).

use std::collections::HashSet;

use rusqlite::params;
use time::OffsetDateTime;

use crate::catalogue::{ensure_recording, exec_cached};
use crate::error::DbContext;
use crate::timefmt::format_ts;
use crate::{Catalogue, ParticipantRow, StoreError};

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

    use crate::tests::{new_rec, open_temp, row_count};
    use crate::*;

    fn person(id: &str, sends: &[&str]) -> ParticipantRow {
        ParticipantRow {
            participant_id: id.into(),
            aor: Some(format!("sip:{id}@example.com")),
            sends: sends.iter().map(|s| s.to_string()).collect(),
            ..ParticipantRow::default()
        }
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
        assert_eq!(row_count(&cat, "participants"), 2);
        assert_eq!(row_count(&cat, "participant_stream"), 2);
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
        assert_eq!(row_count(&cat, "participants"), 0);
        assert_eq!(row_count(&cat, "participant_stream"), 0);
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
}

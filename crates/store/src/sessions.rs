//! Communication-session (CS) rows from RFC 7865 metadata: `<session>`,
//! `<participantsessassoc>` and the recording's `<group>`. Times are kept as
//! the raw strings received, because SRCs send non-RFC 3339 values
//! (REQUIREMENTS E-91) and the original must not be lost.

use rusqlite::{Connection, params};

use crate::catalogue::{ensure_recording, exec_cached};
use crate::error::{DbContext, parse_json};
use crate::views::SessionView;
use crate::{Catalogue, StoreError};

/// One `<session>` of the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionRow {
    /// Metadata `session_id`.
    pub session_id: String,
    /// `<sipSessionID>` values (stored as a JSON array).
    pub sip_session_ids: Vec<String>,
    /// `<start-time>` as received.
    pub start_time: Option<String>,
    /// `<stop-time>` as received.
    pub stop_time: Option<String>,
    /// `group_ref`, if any.
    pub group_id: Option<String>,
}

/// One `<participantsessassoc>` of the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantSessionRow {
    /// Metadata `participant_id`.
    pub participant_id: String,
    /// Metadata `session_id`.
    pub session_id: String,
    /// `<associate-time>` as received.
    pub associate_time: Option<String>,
    /// `<disassociate-time>` as received.
    pub disassociate_time: Option<String>,
}

impl Catalogue {
    /// Replace a recording's CS sessions and participant/session links
    /// atomically with the latest metadata snapshot.
    pub fn replace_sessions(
        &self,
        recording_id: &str,
        sessions: &[SessionRow],
        links: &[ParticipantSessionRow],
    ) -> Result<(), StoreError> {
        const OP: &str = "replace sessions";
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        exec_cached(
            &tx,
            "DELETE FROM sessions WHERE recording_id = ?1",
            [recording_id],
        )
        .ctx(OP)?;
        exec_cached(
            &tx,
            "DELETE FROM participant_session WHERE recording_id = ?1",
            [recording_id],
        )
        .ctx(OP)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO sessions
                     (recording_id, session_id, sip_session_ids, start_time, stop_time, group_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .ctx(OP)?;
            for s in sessions {
                let ids = serde_json::to_string(&s.sip_session_ids)?;
                ins.execute(params![
                    recording_id,
                    s.session_id,
                    ids,
                    s.start_time,
                    s.stop_time,
                    s.group_id
                ])
                .ctx(OP)?;
            }
            let mut link = tx
                .prepare_cached(
                    "INSERT INTO participant_session
                     (recording_id, participant_id, session_id, associate_time, disassociate_time)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .ctx(OP)?;
            for l in links {
                link.execute(params![
                    recording_id,
                    l.participant_id,
                    l.session_id,
                    l.associate_time,
                    l.disassociate_time
                ])
                .ctx(OP)?;
            }
        }
        tx.commit().ctx(OP)
    }

    /// Set (or clear) the recording's metadata `<group>` id.
    pub fn set_group(&self, recording_id: &str, group_id: Option<&str>) -> Result<(), StoreError> {
        let n = exec_cached(
            &self.conn,
            "UPDATE recordings SET group_id = ?2 WHERE id = ?1",
            params![recording_id, group_id],
        )
        .ctx("set group")?;
        if n == 0 {
            return Err(StoreError::UnknownRecording(recording_id.to_owned()));
        }
        Ok(())
    }
}

/// A recording's CS sessions in insertion (metadata) order.
pub(crate) fn sessions(conn: &Connection, id: &str) -> Result<Vec<SessionView>, StoreError> {
    const OP: &str = "read sessions";
    let mut stmt = conn
        .prepare_cached(
            "SELECT session_id, sip_session_ids, start_time, stop_time, group_id
             FROM sessions WHERE recording_id = ?1 ORDER BY rowid",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .ctx(OP)?;
    let mut out = Vec::new();
    for row in rows {
        let (session_id, ids, start_time, stop_time, group_id) = row.ctx(OP)?;
        out.push(SessionView {
            session_id,
            sip_session_ids: match ids.as_deref() {
                Some(text) => parse_json(text, "sessions.sip_session_ids")?,
                None => Vec::new(),
            },
            start_time,
            stop_time,
            group_id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::tests::{new_rec, open_temp};

    #[test]
    fn sessions_replaced_with_raw_times() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let s = SessionRow {
            session_id: "cs1".into(),
            sip_session_ids: vec![
                "ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2".into(),
            ],
            start_time: Some("2019-03-09T16:50:20".into()),
            stop_time: None,
            group_id: Some("g1".into()),
        };
        let l = ParticipantSessionRow {
            participant_id: "p1".into(),
            session_id: "cs1".into(),
            associate_time: Some("2010-12-16T23:41:07Z".into()),
            disassociate_time: None,
        };
        let (ss, ls) = (std::slice::from_ref(&s), std::slice::from_ref(&l));
        cat.replace_sessions("r", ss, ls).unwrap();
        // Re-sent snapshot replaces, it does not add.
        cat.replace_sessions("r", ss, ls).unwrap();
        cat.set_group("r", Some("g1")).unwrap();
        let (n, ids, start): (i64, String, String) = cat
            .conn
            .query_row(
                "SELECT count(*), max(sip_session_ids), max(start_time) FROM sessions",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(ids, serde_json::to_string(&s.sip_session_ids).unwrap());
        assert_eq!(start, "2019-03-09T16:50:20");
        let links: i64 = cat
            .conn
            .query_row("SELECT count(*) FROM participant_session", [], |r| r.get(0))
            .unwrap();
        assert_eq!(links, 1);
        let g: Option<String> = cat
            .conn
            .query_row("SELECT group_id FROM recordings WHERE id = 'r'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(g.as_deref(), Some("g1"));
        assert!(matches!(
            cat.replace_sessions("x", &[], &[]),
            Err(StoreError::UnknownRecording(_))
        ));
        assert!(matches!(
            cat.set_group("x", None),
            Err(StoreError::UnknownRecording(_))
        ));
    }
}

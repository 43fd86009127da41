//! Correlating recordings of the same call. An SRC may replace a recording
//! after a transfer with BYE + a new INVITE instead of a re-INVITE
//! (REQUIREMENTS A-37, e.g. NetSapiens); the new recording session reuses
//! the RFC 7865 `<group>` id or a `<sipSessionID>` (RFC 7989 Session-ID).

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::DbContext;
use crate::{Catalogue, StoreError};

/// Why two recordings are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkRelation {
    /// Both recordings carry the same `recordings.group_id`.
    Group,
    /// A CS session of each lists the same `<sipSessionID>` value.
    SipSessionId,
}

impl LinkRelation {
    /// The JSON text of the relation.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRelation::Group => "group",
            LinkRelation::SipSessionId => "sip_session_id",
        }
    }
}

/// Another recording of the same call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedRecording {
    /// Its recording id.
    pub id: String,
    /// Its RS Call-ID.
    pub call_id: String,
    /// How it is linked (`group` wins when both apply).
    pub relation: LinkRelation,
    /// Its start time.
    pub started_at: String,
}

/// The `<sipSessionID>` values of a session row, tolerating bad JSON. The
/// all-zero UUID means "unknown" in RFC 7989 §4 and must not link calls.
const SIP_IDS: &str = "SELECT s.recording_id AS rid, j.value AS v FROM sessions s,
     json_each(CASE WHEN json_valid(s.sip_session_ids) THEN s.sip_session_ids ELSE '[]' END) j
     WHERE j.type = 'text' AND j.value <> ''
       AND j.value NOT LIKE '00000000000000000000000000000000%'";

impl Catalogue {
    /// Other recordings sharing this one's group id or any of its CS
    /// sessions' `<sipSessionID>` values, oldest first. Unknown ids give an
    /// empty list.
    pub fn linked_recordings(
        &self,
        recording_id: &str,
    ) -> Result<Vec<LinkedRecording>, StoreError> {
        linked(&self.conn, recording_id)
    }
}

pub(crate) fn linked(conn: &Connection, id: &str) -> Result<Vec<LinkedRecording>, StoreError> {
    const OP: &str = "read linked recordings";
    let sql = format!(
        "WITH ids AS ({SIP_IDS}),
         links AS (
             SELECT r.id AS id, 0 AS pri FROM recordings r, recordings me
             WHERE me.id = ?1 AND me.group_id IS NOT NULL
               AND r.group_id = me.group_id AND r.id <> ?1
             UNION ALL
             SELECT o.rid, 1 FROM ids o
             WHERE o.rid <> ?1 AND o.v IN (SELECT v FROM ids WHERE rid = ?1)
         )
         SELECT r.id, r.call_id, MIN(l.pri), r.started_at
         FROM links l JOIN recordings r ON r.id = l.id
         GROUP BY r.id ORDER BY r.started_at, r.id"
    );
    let mut stmt = conn.prepare_cached(&sql).ctx(OP)?;
    let rows = stmt
        .query_map(params![id], |r| {
            let pri: i64 = r.get(2)?;
            Ok(LinkedRecording {
                id: r.get(0)?,
                call_id: r.get(1)?,
                relation: if pri == 0 {
                    LinkRelation::Group
                } else {
                    LinkRelation::SipSessionId
                },
                started_at: r.get(3)?,
            })
        })
        .ctx(OP)?;
    rows.collect::<Result<Vec<_>, _>>().ctx(OP)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use crate::tests::{new_rec, open_temp};
    use crate::*;

    fn session(ids: &[&str]) -> SessionRow {
        SessionRow {
            session_id: "cs".into(),
            sip_session_ids: ids.iter().map(|s| s.to_string()).collect(),
            ..SessionRow::default()
        }
    }

    #[test]
    fn linked_by_group_and_by_sip_session_id() {
        let (_d, cat) = open_temp();
        for (id, day) in [("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)] {
            let t = datetime!(2026-01-01 00:00 UTC) + time::Duration::days(day);
            let mut r = new_rec(id, t);
            let call = format!("call-{id}");
            r.call_id = &call;
            cat.insert_recording(&r).unwrap();
        }
        // a, b: same group (transfer as BYE + INVITE). c: same Session-ID
        // as a. d: shares both with a (group wins). e: only the null UUID.
        cat.set_group("a", Some("g1")).unwrap();
        cat.set_group("b", Some("g1")).unwrap();
        cat.set_group("d", Some("g1")).unwrap();
        let null = "00000000000000000000000000000000;remote=11111111111111111111111111111111";
        let sid = "ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2";
        cat.replace_sessions("a", &[session(&[sid, null])], &[])
            .unwrap();
        cat.replace_sessions("c", &[session(&["other", sid])], &[])
            .unwrap();
        cat.replace_sessions("d", &[session(&[sid])], &[]).unwrap();
        cat.replace_sessions("e", &[session(&[null])], &[]).unwrap();

        let got = cat.linked_recordings("a").unwrap();
        let short: Vec<_> = got.iter().map(|l| (l.id.as_str(), l.relation)).collect();
        assert_eq!(
            short,
            [
                ("b", LinkRelation::Group),
                ("c", LinkRelation::SipSessionId),
                ("d", LinkRelation::Group)
            ]
        );
        assert_eq!(
            serde_json::to_value(&got[1]).unwrap(),
            json!({"id": "c", "call_id": "call-c", "relation": "sip_session_id",
                   "started_at": "2026-01-04T00:00:00.000Z"})
        );
        let c: Vec<_> = cat
            .linked_recordings("c")
            .unwrap()
            .into_iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(c, ["a", "d"]);
        assert!(cat.linked_recordings("e").unwrap().is_empty());
        assert!(cat.linked_recordings("nope").unwrap().is_empty());
        let detail = serde_json::to_value(cat.get("b").unwrap().unwrap()).unwrap();
        assert_eq!(detail["group_id"], "g1");
        assert_eq!(detail["linked"][0]["id"], "a");
        assert_eq!(detail["linked"][0]["relation"], "group");
        assert_eq!(detail["linked"][1]["id"], "d");
    }

    #[test]
    fn corrupt_session_json_does_not_break_linking() {
        let (_d, cat) = open_temp();
        let t = datetime!(2026-01-01 00:00 UTC);
        cat.insert_recording(&new_rec("a", t)).unwrap();
        cat.insert_recording(&new_rec("b", t)).unwrap();
        cat.replace_sessions("a", &[session(&["x"])], &[]).unwrap();
        cat.conn
            .execute(
                "INSERT INTO sessions (recording_id, session_id, sip_session_ids)
                 VALUES ('b', 's', 'not json')",
                [],
            )
            .unwrap();
        assert!(cat.linked_recordings("a").unwrap().is_empty());
        assert_eq!(LinkRelation::SipSessionId.as_str(), "sip_session_id");
        assert_eq!(
            serde_json::to_value(LinkRelation::Group).unwrap(),
            LinkRelation::Group.as_str()
        );
    }
}

//! Filtered listing of recordings (CLI and HTTP `search`).

use rusqlite::params_from_iter;
use rusqlite::types::Value;
use time::OffsetDateTime;

use crate::error::DbContext;
use crate::read::{SUMMARY_COLUMNS, base_row, summary};
use crate::timefmt::format_ts;
use crate::views::RecordingSummary;
use crate::{Catalogue, RecordingState, StoreError};

/// Filters for [`Catalogue::search`]; every `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Substring of any participant's AOR, ASCII case-insensitive.
    pub aor: Option<String>,
    /// Exact RS Call-ID.
    pub call_id: Option<String>,
    /// Life-cycle state.
    pub state: Option<RecordingState>,
    /// Started at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Started strictly before this time.
    pub until: Option<OffsetDateTime>,
    /// At most this many results.
    pub limit: Option<u32>,
}

impl Catalogue {
    /// Recordings matching every given filter, newest first.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<RecordingSummary>, StoreError> {
        const OP: &str = "search recordings";
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        if let Some(aor) = &q.aor {
            // instr() rather than LIKE: `%` and `_` in the needle stay literal.
            clauses.push(
                "EXISTS (SELECT 1 FROM participants p WHERE p.recording_id = recordings.id
                         AND instr(lower(p.aor), lower(?)) > 0)",
            );
            args.push(Value::Text(aor.clone()));
        }
        if let Some(call_id) = &q.call_id {
            clauses.push("call_id = ?");
            args.push(Value::Text(call_id.clone()));
        }
        if let Some(state) = q.state {
            clauses.push("state = ?");
            args.push(Value::Text(state.as_str().to_owned()));
        }
        // Stored times are fixed-width UTC text, so text order is time order.
        if let Some(since) = q.since {
            clauses.push("started_at >= ?");
            args.push(Value::Text(format_ts(since)?));
        }
        if let Some(until) = q.until {
            clauses.push("started_at < ?");
            args.push(Value::Text(format_ts(until)?));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        // SQLite treats a negative LIMIT as "no limit".
        args.push(Value::Integer(q.limit.map_or(-1, i64::from)));
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM recordings {filter}
             ORDER BY started_at DESC, rowid DESC LIMIT ?"
        );
        let tx = self.conn.unchecked_transaction().ctx(OP)?;
        let bases = {
            let mut stmt = tx.prepare(&sql).ctx(OP)?;
            let rows = stmt.query_map(params_from_iter(args), base_row).ctx(OP)?;
            rows.collect::<Result<Vec<_>, _>>().ctx(OP)?
        };
        let out = bases
            .into_iter()
            .map(|b| summary(&tx, b).map(|(s, _)| s))
            .collect::<Result<Vec<_>, _>>()?;
        tx.finish().ctx(OP)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use crate::tests::{new_rec, open_temp};
    use crate::*;

    fn setup() -> (tempfile::TempDir, Catalogue) {
        let (d, cat) = open_temp();
        let recs = [
            (
                "a",
                "call-1",
                datetime!(2026-01-01 00:00 UTC),
                "sip:Alice@Example.com",
            ),
            (
                "b",
                "call-2",
                datetime!(2026-01-02 00:00 UTC),
                "sip:bob@example.com",
            ),
            (
                "c",
                "call-3",
                datetime!(2026-01-03 00:00 UTC),
                "sip:100%_x@pbx.test",
            ),
        ];
        for (id, call, t, aor) in recs {
            let mut r = new_rec(id, t);
            r.call_id = call;
            cat.insert_recording(&r).unwrap();
            let p = ParticipantRow {
                participant_id: "p".into(),
                aor: Some(aor.into()),
                ..ParticipantRow::default()
            };
            cat.replace_participants(id, &[p]).unwrap();
        }
        cat.finish_recording(
            "b",
            RecordingState::Complete,
            datetime!(2026-01-02 00:01 UTC),
            1,
            "BYE",
        )
        .unwrap();
        (d, cat)
    }

    fn ids(cat: &Catalogue, q: &SearchQuery) -> Vec<String> {
        cat.search(q).unwrap().into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn each_filter_narrows() {
        let (_d, cat) = setup();
        assert_eq!(ids(&cat, &SearchQuery::default()), ["c", "b", "a"]);
        let q = |f: fn(&mut SearchQuery)| {
            let mut q = SearchQuery::default();
            f(&mut q);
            q
        };
        assert_eq!(
            ids(&cat, &q(|q| q.aor = Some("ALICE@example".into()))),
            ["a"]
        );
        assert_eq!(
            ids(&cat, &q(|q| q.aor = Some("example.com".into()))),
            ["b", "a"]
        );
        // LIKE wildcards are literal.
        assert_eq!(ids(&cat, &q(|q| q.aor = Some("0%_".into()))), ["c"]);
        assert!(ids(&cat, &q(|q| q.aor = Some("%".into()))) == ["c"]);
        assert_eq!(ids(&cat, &q(|q| q.call_id = Some("call-2".into()))), ["b"]);
        assert!(ids(&cat, &q(|q| q.call_id = Some("call".into()))).is_empty());
        assert_eq!(
            ids(&cat, &q(|q| q.state = Some(RecordingState::Active))),
            ["c", "a"]
        );
        assert_eq!(
            ids(
                &cat,
                &q(|q| q.since = Some(datetime!(2026-01-02 00:00 UTC)))
            ),
            ["c", "b"]
        );
        assert_eq!(
            ids(
                &cat,
                &q(|q| q.until = Some(datetime!(2026-01-02 00:00 UTC)))
            ),
            ["a"]
        );
        assert_eq!(ids(&cat, &q(|q| q.limit = Some(1))), ["c"]);
    }

    #[test]
    fn filters_combine() {
        let (_d, cat) = setup();
        let q = SearchQuery {
            aor: Some("example.com".into()),
            state: Some(RecordingState::Active),
            since: Some(datetime!(2025-12-31 00:00 UTC)),
            until: Some(datetime!(2026-01-04 00:00 +02:00)),
            ..SearchQuery::default()
        };
        let found = cat.search(&q).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "a");
        assert_eq!(
            found[0].participants[0].aor.as_deref(),
            Some("sip:Alice@Example.com")
        );
        let none = SearchQuery {
            call_id: Some("call-1".into()),
            state: Some(RecordingState::Complete),
            ..SearchQuery::default()
        };
        assert!(cat.search(&none).unwrap().is_empty());
    }
}

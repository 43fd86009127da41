//! Recording warnings. A text already stored for the recording is not stored again: its
//! row's `count` goes up instead (a hostile INVITE can carry the same problem a thousand
//! times). The row keeps the time of the first occurrence.

use std::collections::HashMap;

use rusqlite::params;
use time::OffsetDateTime;

use crate::catalogue::{ensure_recording, exec_cached};
use crate::details::to_i64;
use crate::error::DbContext;
use crate::timefmt::format_ts;
use crate::{Catalogue, StoreError};

impl Catalogue {
    /// Add a human-readable warning to a recording, or count one more occurrence of an
    /// identical one.
    pub fn add_warning(
        &self,
        recording_id: &str,
        at: OffsetDateTime,
        text: &str,
    ) -> Result<(), StoreError> {
        self.add_warning_times(recording_id, at, text, 1)
    }

    /// Add `times` occurrences of one warning text in one statement.
    pub(crate) fn add_warning_times(
        &self,
        recording_id: &str,
        at: OffsetDateTime,
        text: &str,
        times: u64,
    ) -> Result<(), StoreError> {
        const OP: &str = "add warning";
        let at = format_ts(at)?;
        let times = to_i64(times, "warning count")?;
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        exec_cached(
            &tx,
            "INSERT INTO warnings (recording_id, at, text, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (recording_id, text) DO UPDATE SET count = warnings.count + excluded.count",
            params![recording_id, at, text, times],
        )
        .ctx(OP)?;
        tx.commit().ctx(OP)
    }
}

/// Distinct texts with how often each occurs, in order of first occurrence.
pub(crate) fn collapse(texts: &[String]) -> Vec<(&str, u64)> {
    let mut out: Vec<(&str, u64)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for t in texts {
        match at.get(t.as_str()) {
            Some(&i) => {
                if let Some(entry) = out.get_mut(i) {
                    entry.1 += 1;
                }
            }
            None => {
                at.insert(t, out.len());
                out.push((t, 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use crate::tests::{new_rec, open_temp};
    use crate::*;

    fn rows(cat: &Catalogue) -> i64 {
        cat.conn
            .query_row("SELECT count(*) FROM warnings", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn identical_warnings_collapse_into_a_count() {
        let (_d, cat) = open_temp();
        let t = datetime!(2026-01-01 00:00 UTC);
        cat.insert_recording(&new_rec("r", t)).unwrap();
        cat.insert_recording(&new_rec("other", t)).unwrap();
        cat.add_warning("r", t, "same").unwrap();
        cat.add_warning("r", t, "different").unwrap();
        cat.add_warning("r", datetime!(2026-01-01 00:00:05 UTC), "same")
            .unwrap();
        cat.add_warning("other", t, "same").unwrap();
        assert_eq!(rows(&cat), 3);
        let v = serde_json::to_value(cat.get("r").unwrap().unwrap()).unwrap();
        assert_eq!(
            v["warnings"],
            json!([
                {"at": "2026-01-01T00:00:00.000Z", "text": "same", "count": 2},
                {"at": "2026-01-01T00:00:00.000Z", "text": "different", "count": 1}
            ])
        );
        assert_eq!(cat.get("other").unwrap().unwrap().warnings[0].count, 1);
    }

    #[test]
    fn an_invite_with_1200_identical_warnings_stores_one_row() {
        let (_d, cat) = open_temp();
        let t = datetime!(2026-01-01 00:00 UTC);
        let mut warnings = vec!["ignored body part".to_string(); 1200];
        warnings.insert(3, "other".to_string());
        cat.record_invite(&NewRecordingBundle {
            recording: new_rec("r", t),
            streams: &[],
            participants: &[],
            sessions: &[],
            session_links: &[],
            group_id: None,
            metadata: None,
            warnings: &warnings,
            stereo_path: None,
            channel_map: &[],
            events: &[],
        })
        .unwrap();
        assert_eq!(rows(&cat), 2);
        let d = cat.get("r").unwrap().unwrap();
        let got: Vec<(&str, u64)> = d
            .warnings
            .iter()
            .map(|w| (w.text.as_str(), w.count))
            .collect();
        assert_eq!(got, [("ignored body part", 1200), ("other", 1)]);
        // A later identical warning joins the same row.
        cat.add_warning("r", t, "ignored body part").unwrap();
        assert_eq!(cat.get("r").unwrap().unwrap().warnings[0].count, 1201);
    }

    #[test]
    fn collapse_keeps_first_occurrence_order() {
        let texts: Vec<String> = ["b", "a", "b", "c", "a", "b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(super::collapse(&texts), [("b", 3), ("a", 2), ("c", 1)]);
    }
}

//! The call timeline: events the server observed during a recording
//! (pause/resume, stream and participant changes, ...) and RFC 4733 DTMF
//! digits, each kept in its own table so the detail view can show them.

use rusqlite::{Connection, params};
use time::OffsetDateTime;

use crate::catalogue::{ensure_recording, exec_cached};
use crate::details::to_i64;
use crate::error::{DbContext, parse_json};
use crate::timefmt::format_ts;
use crate::views::{DtmfView, EventView};
use crate::{Catalogue, StoreError};

/// One timeline event. `kind` is free text: the server uses `pause`,
/// `resume`, `stream_added`, `stream_removed`, `codec_changed`,
/// `participant_joined`, `participant_left`, `send_started`,
/// `send_stopped`, `ssrc_changed`, `metadata_update`, `snapshot_requested`,
/// `session_refresh`, `hold`, ... and new kinds need no schema change.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Event kind.
    pub kind: String,
    /// Stream label concerned, if any.
    pub label: Option<String>,
    /// Participant concerned, if any.
    pub participant_id: Option<String>,
    /// Kind-specific details (stored as JSON text).
    pub details: Option<serde_json::Value>,
}

/// One RFC 4733 telephone-event digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtmfRow {
    /// Stream label it arrived on.
    pub label: String,
    /// The digit (`0`-`9`, `*`, `#`, `A`-`D`, or another event name).
    pub digit: String,
    /// Offset from the start of the recording's audio, so a player can seek.
    pub position_ms: u64,
    /// Wall-clock arrival time, if known.
    pub at: Option<OffsetDateTime>,
    /// Tone duration (RFC 4733 §2.5.1.3, converted to ms by the caller).
    pub duration_ms: u32,
    /// RFC 4733 §2.5.1.2 volume, 0-63 (-dBm0); absent for some events.
    pub volume: Option<u8>,
}

impl Catalogue {
    /// Append an event to a recording's timeline. Insertion order is kept
    /// in `seq`, so events stamped within the same millisecond (or with a
    /// wall clock that stepped back) still read back in the order they
    /// happened.
    pub fn add_event(&self, recording_id: &str, e: &EventRow) -> Result<(), StoreError> {
        const OP: &str = "add event";
        let at = format_ts(e.at)?;
        let details = e.details.as_ref().map(serde_json::to_string).transpose()?;
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        exec_cached(
            &tx,
            "INSERT INTO events (recording_id, at, kind, label, participant_id, details, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                     (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE recording_id = ?1))",
            params![recording_id, at, e.kind, e.label, e.participant_id, details],
        )
        .ctx(OP)?;
        tx.commit().ctx(OP)
    }

    /// Record one DTMF digit of a recording.
    pub fn add_dtmf(&self, recording_id: &str, d: &DtmfRow) -> Result<(), StoreError> {
        const OP: &str = "add dtmf";
        let position = to_i64(d.position_ms, "position_ms")?;
        let at = d.at.map(format_ts).transpose()?;
        let tx = self.begin().ctx(OP)?;
        ensure_recording(&tx, recording_id)?;
        exec_cached(
            &tx,
            "INSERT INTO dtmf_events
             (recording_id, label, digit, position_ms, at, duration_ms, volume)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                recording_id,
                d.label,
                d.digit,
                position,
                at,
                d.duration_ms,
                d.volume
            ],
        )
        .ctx(OP)?;
        tx.commit().ctx(OP)
    }
}

/// A recording's events in insertion order.
pub(crate) fn events(conn: &Connection, id: &str) -> Result<Vec<EventView>, StoreError> {
    const OP: &str = "read events";
    let mut stmt = conn
        .prepare_cached(
            "SELECT at, kind, label, participant_id, details FROM events
             WHERE recording_id = ?1 ORDER BY seq, rowid",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .ctx(OP)?;
    let mut out = Vec::new();
    for row in rows {
        let (at, kind, label, participant_id, details) = row.ctx(OP)?;
        out.push(EventView {
            at,
            kind,
            label,
            participant_id,
            details: details
                .as_deref()
                .map(|d| parse_json(d, "event details"))
                .transpose()?,
        });
    }
    Ok(out)
}

/// A recording's DTMF digits ordered by position in the audio.
pub(crate) fn dtmf(conn: &Connection, id: &str) -> Result<Vec<DtmfView>, StoreError> {
    const OP: &str = "read dtmf";
    let mut stmt = conn
        .prepare_cached(
            "SELECT label, digit, position_ms, at, duration_ms, volume FROM dtmf_events
             WHERE recording_id = ?1 ORDER BY position_ms, rowid",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(DtmfView {
                label: r.get(0)?,
                digit: r.get(1)?,
                position_ms: r.get(2)?,
                at: r.get(3)?,
                duration_ms: r.get(4)?,
                volume: r.get(5)?,
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

    fn ev(kind: &str, at: time::OffsetDateTime) -> EventRow {
        EventRow {
            at,
            kind: kind.into(),
            label: None,
            participant_id: None,
            details: None,
        }
    }

    #[test]
    fn events_keep_insertion_order_per_recording() {
        let (_d, cat) = open_temp();
        let t0 = datetime!(2026-01-01 00:00 UTC);
        cat.insert_recording(&new_rec("a", t0)).unwrap();
        cat.insert_recording(&new_rec("b", t0)).unwrap();
        let same = datetime!(2026-01-01 00:00:01.5 UTC);
        cat.add_event("a", &ev("pause", same)).unwrap();
        cat.add_event("b", &ev("hold", same)).unwrap();
        // Same millisecond, then a clock step back: order is insertion order.
        let mut resume = ev("resume", same);
        resume.label = Some("1".into());
        resume.participant_id = Some("p1".into());
        resume.details = Some(json!({"reason": "a=sendrecv", "n": 2}));
        cat.add_event("a", &resume).unwrap();
        cat.add_event("a", &ev("custom_kind", t0)).unwrap();
        let d = cat.get("a").unwrap().unwrap();
        let kinds: Vec<_> = d.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["pause", "resume", "custom_kind"]);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(
            v["events"][1],
            json!({"at": "2026-01-01T00:00:01.500Z", "kind": "resume", "label": "1",
                   "participant_id": "p1", "details": {"reason": "a=sendrecv", "n": 2}})
        );
        assert_eq!(v["events"][0]["details"], serde_json::Value::Null);
        let b = cat.get("b").unwrap().unwrap();
        assert_eq!(b.events.len(), 1);
        assert_eq!(b.events[0].kind, "hold");
    }

    #[test]
    fn dtmf_rows_sorted_by_position() {
        let (_d, cat) = open_temp();
        cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        let five = DtmfRow {
            label: "1".into(),
            digit: "5".into(),
            position_ms: 12_340,
            at: Some(datetime!(2026-01-01 00:00:12.5 UTC)),
            duration_ms: 160,
            volume: Some(10),
        };
        let hash = DtmfRow {
            label: "2".into(),
            digit: "#".into(),
            position_ms: 800,
            at: None,
            duration_ms: 100,
            volume: None,
        };
        cat.add_dtmf("r", &five).unwrap();
        cat.add_dtmf("r", &hash).unwrap();
        let v = serde_json::to_value(cat.get("r").unwrap().unwrap()).unwrap();
        assert_eq!(
            v["dtmf"],
            json!([
                {"label": "2", "digit": "#", "position_ms": 800, "at": null,
                 "duration_ms": 100, "volume": null},
                {"label": "1", "digit": "5", "position_ms": 12340,
                 "at": "2026-01-01T00:00:12.500Z", "duration_ms": 160, "volume": 10}
            ])
        );
    }

    #[test]
    fn timeline_writes_check_recording_and_range() {
        let (_d, cat) = open_temp();
        let t = datetime!(2026-01-01 00:00 UTC);
        assert!(matches!(
            cat.add_event("nope", &ev("pause", t)),
            Err(StoreError::UnknownRecording(_))
        ));
        let mut d = DtmfRow {
            label: "1".into(),
            digit: "1".into(),
            position_ms: 0,
            at: None,
            duration_ms: 0,
            volume: None,
        };
        assert!(matches!(
            cat.add_dtmf("nope", &d),
            Err(StoreError::UnknownRecording(_))
        ));
        cat.insert_recording(&new_rec("r", t)).unwrap();
        d.position_ms = u64::MAX;
        assert!(matches!(
            cat.add_dtmf("r", &d),
            Err(StoreError::OutOfRange {
                field: "position_ms"
            })
        ));
        assert!(cat.get("r").unwrap().unwrap().dtmf.is_empty());
    }
}

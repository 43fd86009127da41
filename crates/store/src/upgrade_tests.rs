//! Schema v3 upgrade, read-only opening and the v3 JSON shape, on real
//! database files.

use serde_json::{Value, json};
use time::macros::datetime;

use crate::tests::{new_rec, open_temp};
use crate::*;

/// Build a database exactly as a v2 build left it, with data in it.
fn write_v2_database(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.execute_batch(crate::migrations::MIGRATIONS[0]).unwrap();
    c.execute_batch(crate::migrations::MIGRATIONS[1]).unwrap();
    c.pragma_update(None, "user_version", 2).unwrap();
    c.execute_batch(
        r#"
INSERT INTO recordings (id, call_id, src_addr, state, started_at, ended_at, duration_ms, dir,
                        end_reason, group_id)
VALUES ('old', 'cid-old', '192.0.2.1:5060', 'complete', '2025-06-01T10:00:00.000Z',
        '2025-06-01T10:01:00.000Z', 60000, '/rec/old', 'BYE from SRC', 'g-old');
INSERT INTO participants (recording_id, participant_id, aor, role, ordinal)
VALUES ('old', 'p1', 'sip:carol@example.com', 'caller', 0);
INSERT INTO streams (recording_id, label, media, codec, packets_received, state)
VALUES ('old', '1', 'audio', 'PCMA', 42, 'accepted');
INSERT INTO sessions (recording_id, session_id, sip_session_ids, group_id)
VALUES ('old', 'cs1', '["abc;remote=def"]', 'g-old');
INSERT INTO warnings (recording_id, at, text) VALUES ('old', '2025-06-01T10:00:05.000Z', 'w');
"#,
    )
    .unwrap();
}

#[test]
fn v2_database_migrates_to_v3_with_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    write_v2_database(&path);
    // A read-only reader must not migrate and says why it cannot read.
    let e = Catalogue::open_read_only(&path).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::SchemaOutdated {
                found: 2,
                expected: 3
            }
        ),
        "{e:?}"
    );
    let cat = Catalogue::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), 3);
    let d = serde_json::to_value(cat.get("old").unwrap().unwrap()).unwrap();
    assert_eq!(d["call_id"], "cid-old");
    assert_eq!(d["state"], "complete");
    assert_eq!(d["duration_ms"], 60_000);
    assert_eq!(d["group_id"], "g-old");
    assert_eq!(d["participants"][0]["aor"], "sip:carol@example.com");
    assert_eq!(d["streams"][0]["packets_received"], 42);
    assert_eq!(d["streams"][0]["packets_cn"], 0);
    assert_eq!(d["streams"][0]["jitter_ms"], Value::Null);
    assert_eq!(d["warnings"][0]["text"], "w");
    assert_eq!(
        d["sessions"][0]["sip_session_ids"],
        json!(["abc;remote=def"])
    );
    assert_eq!(d["events"], json!([]));
    assert_eq!(d["manifest"], Value::Null);
    // The upgraded file takes v3 writes.
    cat.add_event(
        "old",
        &EventRow {
            at: datetime!(2025-06-01 10:00:30 UTC),
            kind: "pause".into(),
            label: None,
            participant_id: None,
            details: None,
        },
    )
    .unwrap();
    let indexes: i64 = cat
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
             ('events_rec', 'dtmf_events_rec', 'recordings_group_id')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 3);
}

#[test]
fn read_only_open_reads_live_and_closed_databases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    {
        let cat = Catalogue::open(&path).unwrap();
        cat.insert_recording(&new_rec("r1", datetime!(2026-01-01 00:00 UTC)))
            .unwrap();
        // While the writer is open (WAL and -shm files exist).
        let ro = Catalogue::open_read_only(&path).unwrap();
        assert_eq!(ro.list(None).unwrap().len(), 1);
        cat.insert_recording(&new_rec("r2", datetime!(2026-01-02 00:00 UTC)))
            .unwrap();
        assert_eq!(ro.list(None).unwrap()[0].id, "r2");
        let e = ro
            .insert_recording(&new_rec("r3", datetime!(2026-01-03 00:00 UTC)))
            .unwrap_err();
        assert!(matches!(e, StoreError::Db { .. }), "{e:?}");
    }
    // After the writer closed.
    let ro = Catalogue::open_read_only(&path).unwrap();
    assert!(ro.get("r1").unwrap().is_some());
    assert_eq!(ro.search(&SearchQuery::default()).unwrap().len(), 2);
    let e = Catalogue::open_read_only(&dir.path().join("missing.db")).unwrap_err();
    assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
    assert!(!dir.path().join("missing.db").exists());
}

#[test]
fn detail_json_has_every_v3_field() {
    let (_d, cat) = open_temp();
    cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
        .unwrap();
    cat.replace_sessions(
        "r",
        &[SessionRow {
            session_id: "cs1".into(),
            sip_session_ids: vec!["x;remote=y".into()],
            start_time: Some("2026-01-01T00:00:00".into()),
            stop_time: None,
            group_id: Some("g".into()),
        }],
        &[],
    )
    .unwrap();
    let v = serde_json::to_value(cat.get("r").unwrap().unwrap()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "id",
        "call_id",
        "state",
        "group_id",
        "channel_map",
        "streams",
        "metadata",
        "warnings",
        "end_reason",
        "events",
        "dtmf",
        "sessions",
        "linked",
        "manifest",
        "last_audio_at",
        "audio_offset_ms",
    ] {
        assert!(keys.contains(&k), "missing {k} in {keys:?}");
    }
    assert_eq!(
        v["sessions"],
        json!([{"session_id": "cs1", "sip_session_ids": ["x;remote=y"],
                "start_time": "2026-01-01T00:00:00", "stop_time": null, "group_id": "g"}])
    );
    assert_eq!(v["group_id"], Value::Null);
    assert_eq!(v["linked"], json!([]));
    let list = serde_json::to_value(cat.list(None).unwrap()).unwrap();
    assert!(list[0].as_object().unwrap().contains_key("group_id"));
    assert!(!list[0].as_object().unwrap().contains_key("events"));
}

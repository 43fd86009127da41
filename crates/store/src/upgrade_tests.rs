//! Schema upgrades (v2 and v3 files to the latest), read-only opening and the JSON shape,
//! on real database files.

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
fn v2_database_migrates_to_latest_with_data_intact() {
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
                expected: 4
            }
        ),
        "{e:?}"
    );
    let cat = Catalogue::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), 4);
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

/// Build a database exactly as a v3 build left it: labels unique per recording, repeated
/// warnings as separate rows, child rows in every table that references `recordings`.
fn write_v3_database(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "foreign_keys", true).unwrap();
    for sql in &crate::migrations::MIGRATIONS[..3] {
        c.execute_batch(sql).unwrap();
    }
    c.pragma_update(None, "user_version", 3).unwrap();
    c.execute_batch(
        r#"
INSERT INTO recordings (id, call_id, src_addr, state, started_at, dir, manifest, audio_offset_ms)
VALUES ('a', 'cid-a', '192.0.2.1:5060', 'complete', '2025-06-01T10:00:00.000Z', '/rec/a',
        '{"version":1}', 120),
       ('b', 'cid-b', '192.0.2.1:5060', 'interrupted', '2025-06-01T10:00:00.000Z', '/rec/b',
        NULL, NULL);
INSERT INTO participants (recording_id, participant_id, aor, ordinal)
VALUES ('a', 'p1', 'sip:carol@example.com', 0);
INSERT INTO participant_stream (recording_id, participant_id, label, direction)
VALUES ('a', 'p1', '2', 'send');
INSERT INTO streams (recording_id, label, media, codec, packets_received, file_path, state,
                     jitter_ms, packets_cn)
VALUES ('b', 'x', 'audio', 'PCMU', 5, '/rec/b/x.wav', 'accepted', NULL, 0),
       ('a', '2', 'audio', 'PCMA', 42, '/rec/a/2.wav', 'accepted', 1.5, 3),
       ('a', '1', 'audio', 'PCMA', 41, '/rec/a/1.wav', 'accepted', NULL, 0),
       ('a', 'v', 'video', NULL, 0, NULL, 'rejected', NULL, 0);
INSERT INTO events (recording_id, at, kind, seq) VALUES ('a', '2025-06-01T10:00:01.000Z', 'pause', 1);
INSERT INTO dtmf_events (recording_id, label, digit, position_ms, duration_ms)
VALUES ('a', '1', '5', 100, 80);
INSERT INTO metadata_docs (recording_id, received_at, sip_method, raw)
VALUES ('a', '2025-06-01T10:00:00.000Z', 'INVITE', X'3C2F3E');
INSERT INTO sessions (recording_id, session_id) VALUES ('a', 'cs1');
INSERT INTO participant_session (recording_id, participant_id, session_id)
VALUES ('a', 'p1', 'cs1');
INSERT INTO warnings (recording_id, at, text) VALUES
    ('a', '2025-06-01T10:00:01.000Z', 'dup'),
    ('a', '2025-06-01T10:00:02.000Z', 'once'),
    ('a', '2025-06-01T10:00:03.000Z', 'dup'),
    ('b', '2025-06-01T10:00:04.000Z', 'dup');
"#,
    )
    .unwrap();
}

fn rows(cat: &Catalogue, table: &str) -> i64 {
    cat.conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn v3_database_migrates_to_v4_with_streams_indexed_and_children_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    write_v3_database(&path);
    let cat = Catalogue::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), 4);
    // Rebuilding `recordings` cascaded nothing away; foreign keys are enforced again.
    for (table, n) in [
        ("recordings", 2),
        ("participants", 1),
        ("participant_stream", 1),
        ("streams", 4),
        ("events", 1),
        ("dtmf_events", 1),
        ("metadata_docs", 1),
        ("sessions", 1),
        ("participant_session", 1),
        ("warnings", 3),
    ] {
        assert_eq!(rows(&cat, table), n, "{table}");
    }
    let fk: i64 = cat
        .conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    // Streams: indexed by their order within their recording, m-line unknown.
    let d = serde_json::to_value(cat.get("a").unwrap().unwrap()).unwrap();
    let s = &d["streams"];
    let got: Vec<(Value, Value, Value)> = s
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["index"].clone(), v["label"].clone(), v["mline"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            (json!(0), json!("2"), Value::Null),
            (json!(1), json!("1"), Value::Null),
            (json!(2), json!("v"), Value::Null)
        ]
    );
    assert_eq!(s[0]["packets_received"], 42);
    assert_eq!(s[0]["jitter_ms"], 1.5);
    assert_eq!(s[0]["packets_cn"], 3);
    assert_eq!(s[0]["packets_foreign"], 0);
    assert_eq!(
        d["files"]["streams"],
        json!({"1": "/rec/a/1.wav", "2": "/rec/a/2.wav"})
    );
    assert_eq!(d["manifest"], json!({"version": 1}));
    assert_eq!(d["audio_offset_ms"], 120);
    assert_eq!(d["dtmf"][0]["digit"], "5");
    assert_eq!(d["participants"][0]["sends"], json!(["2"]));
    // Repeated warnings were merged, keeping the first time.
    assert_eq!(
        d["warnings"],
        json!([
            {"at": "2025-06-01T10:00:01.000Z", "text": "dup", "count": 2},
            {"at": "2025-06-01T10:00:02.000Z", "text": "once", "count": 1}
        ])
    );
    let b = cat.get("b").unwrap().unwrap();
    assert_eq!(b.summary.state, RecordingState::Interrupted);
    assert_eq!(b.streams[0].index, Some(0));
    assert_eq!(b.warnings[0].count, 1);
    // The upgraded file takes v4 writes: counters by index, the empty state, more warnings,
    // a second stream with an existing label.
    let t = datetime!(2025-06-01 10:02 UTC);
    cat.set_stream_counters(
        "a",
        1,
        &StreamCounters {
            received: 7,
            foreign: 9,
            ..StreamCounters::default()
        },
    )
    .unwrap();
    cat.upsert_stream(
        "a",
        &StreamRow {
            index: Some(3),
            mline: 0,
            label: "1".into(),
            media: "audio".into(),
            file_path: Some("/rec/a/1-3.wav".into()),
            accepted: true,
            ..StreamRow::default()
        },
    )
    .unwrap();
    cat.add_warning("a", t, "dup").unwrap();
    cat.finish_recording("a", RecordingState::Empty, t, 1, "BYE")
        .unwrap();
    let d = cat.get("a").unwrap().unwrap();
    assert_eq!(d.streams[1].packets_received, 7);
    assert_eq!(d.streams[1].packets_foreign, 9);
    assert_eq!(d.streams.len(), 4);
    assert_eq!(d.summary.files.streams.len(), 3);
    assert_eq!(d.warnings[0].count, 3);
    assert_eq!(d.summary.state, RecordingState::Empty);
    // Listing order survives the rebuild (same start time: later insert first).
    let ids: Vec<String> = cat.list(None).unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["b", "a"]);
    // Deleting a recording still cascades to its rows.
    cat.conn
        .execute("DELETE FROM recordings WHERE id = 'b'", [])
        .unwrap();
    assert_eq!(rows(&cat, "streams"), 4);
    assert_eq!(rows(&cat, "warnings"), 2);
}

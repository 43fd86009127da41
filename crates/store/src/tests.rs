//! End-to-end catalogue tests on a real file: life cycle and JSON views.

use serde_json::{Value, json};
use time::macros::datetime;

use crate::*;

const METADATA_XML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/siprec/corpus/rfc/rfc8068-3.2.1-basic-metadata.xml"
);

/// Rows in `table` (test helper shared by the store's test modules).
pub(crate) fn row_count(cat: &Catalogue, table: &str) -> i64 {
    cat.conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

pub(crate) fn open_temp() -> (tempfile::TempDir, Catalogue) {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalogue::open(&dir.path().join("catalogue.db")).unwrap();
    (dir, cat)
}

pub(crate) fn new_rec<'a>(id: &'a str, started_at: time::OffsetDateTime) -> NewRecording<'a> {
    NewRecording {
        id,
        call_id: "cid-1@src.example",
        src_addr: "192.0.2.10:5060",
        started_at,
        dir: "/var/rec/r1",
    }
}

fn stream(label: &str, port: u16) -> StreamRow {
    let index = label.parse::<usize>().unwrap_or(1) - 1;
    StreamRow {
        index: Some(index),
        mline: index,
        label: label.into(),
        stream_id: None,
        media: "audio".into(),
        codec: Some("PCMU".into()),
        payload_type: Some(0),
        clock_rate: Some(8000),
        port: Some(port),
        file_path: Some(format!("/var/rec/r1/{label}.wav")),
        channel: None,
        accepted: true,
        reject_reason: None,
    }
}

#[test]
fn open_configures_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let v1 = {
        let cat = Catalogue::open(&path).unwrap();
        let mode: String = cat
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode.to_ascii_lowercase(), "wal");
        let fk: i64 = cat
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        cat.insert_recording(&new_rec("r1", datetime!(2026-11-26 05:39:44.123 UTC)))
            .unwrap();
        cat.schema_version().unwrap()
    };
    assert_eq!(v1, 4);
    let cat = Catalogue::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), v1);
    // Data survives the reopen and the second migration pass.
    assert_eq!(cat.active_recording_ids().unwrap(), vec!["r1".to_string()]);
}

#[test]
fn open_fails_when_parent_dir_missing() {
    let dir = tempfile::tempdir().unwrap();
    let e = Catalogue::open(&dir.path().join("missing/c.db")).unwrap_err();
    assert!(matches!(e, StoreError::Open { .. }), "{e:?}");
}

#[test]
fn full_life_cycle_json() {
    let (_d, cat) = open_temp();
    let id = "0b9f3c4e-1111-4222-8333-444455556666";
    cat.insert_recording(&new_rec(id, datetime!(2026-11-26 05:39:44.123 UTC)))
        .unwrap();

    cat.replace_participants(
        id,
        &[
            ParticipantRow {
                participant_id: "p-alice".into(),
                aor: Some("sip:alice@example.com".into()),
                name: Some("Alice".into()),
                role: Some("caller".into()),
                role_source: Some("metadata".into()),
                sends: vec!["1".into()],
                receives: vec!["2".into()],
            },
            ParticipantRow {
                participant_id: "p-bob".into(),
                aor: Some("sip:bob@example.com".into()),
                name: None,
                role: Some("callee".into()),
                role_source: None,
                sends: vec!["2".into()],
                receives: vec!["1".into()],
            },
        ],
    )
    .unwrap();

    cat.upsert_stream(id, &stream("1", 20000)).unwrap();
    cat.upsert_stream(id, &stream("2", 20002)).unwrap();
    let video = StreamRow {
        index: None,
        mline: 2,
        label: "3".into(),
        media: "video".into(),
        accepted: false,
        reject_reason: Some("media type not recorded".into()),
        ..StreamRow::default()
    };
    cat.upsert_stream(id, &video).unwrap();
    // Metadata later links stream ids; SDP data is refreshed, counters kept.
    cat.set_stream_counters(
        id,
        0,
        &StreamCounters {
            received: 1500,
            lost: 3,
            duplicated: 1,
            late: 2,
            foreign: 7,
        },
    )
    .unwrap();
    let mut s1 = stream("1", 20000);
    s1.stream_id = Some("s-1".into());
    s1.channel = Some(0);
    cat.upsert_stream(id, &s1).unwrap();

    let xml = std::fs::read(METADATA_XML).unwrap();
    assert!(!xml.is_empty(), "corpus file {METADATA_XML} is empty");
    let doc1 = cat
        .add_metadata_document(
            id,
            datetime!(2026-11-26 05:39:44.200 UTC),
            "INVITE",
            Some("application/rs-metadata+xml"),
            &xml,
            None,
        )
        .unwrap();
    let junk: &[u8] = b"<recording>\xff\xfe\x00bad</recording>";
    let doc2 = cat
        .add_metadata_document(
            id,
            datetime!(2026-11-26 05:39:50.5 UTC),
            "UPDATE",
            None,
            junk,
            Some("invalid UTF-8"),
        )
        .unwrap();
    assert_ne!(doc1, doc2);
    assert_eq!(cat.metadata_raw(doc1).unwrap().unwrap(), xml);
    assert_eq!(cat.metadata_raw(doc2).unwrap().unwrap(), junk);
    assert_eq!(cat.metadata_raw(doc2 + 100).unwrap(), None);

    cat.add_warning(
        id,
        datetime!(2026-11-26 05:39:45 UTC),
        "no RTP on label 2 for 5 s",
    )
    .unwrap();
    let map = vec![
        ChannelMapEntry {
            channel: 0,
            label: "1".into(),
            participant_id: Some("p-alice".into()),
            role: Some("caller".into()),
        },
        ChannelMapEntry {
            channel: 1,
            label: "2".into(),
            participant_id: Some("p-bob".into()),
            role: Some("callee".into()),
        },
    ];
    cat.set_outputs(id, Some("/var/rec/r1/stereo.wav"), &map)
        .unwrap();

    // While active: no end time, no duration.
    let active = serde_json::to_value(cat.list(None).unwrap()).unwrap();
    assert_eq!(active[0]["state"], "active");
    assert_eq!(active[0]["ended_at"], Value::Null);
    assert_eq!(active[0]["duration_ms"], Value::Null);

    cat.finish_recording(
        id,
        RecordingState::Complete,
        datetime!(2026-11-26 07:40:44.623999 +02:00),
        60_500,
        "BYE from SRC",
    )
    .unwrap();

    let list = serde_json::to_value(cat.list(Some(10)).unwrap()).unwrap();
    let arr = list.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    check_summary(&arr[0], id);

    let detail = serde_json::to_value(cat.get(id).unwrap().unwrap()).unwrap();
    check_summary(&detail, id);
    assert_eq!(detail["end_reason"], "BYE from SRC");
    let streams = detail["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 3);
    assert_eq!(
        streams[0],
        json!({
            "index": 0, "mline": 0,
            "label": "1", "stream_id": "s-1", "media": "audio", "codec": "PCMU",
            "payload_type": 0, "clock_rate": 8000, "port": 20000,
            "file": "/var/rec/r1/1.wav", "channel": 0, "state": "accepted",
            "reject_reason": null, "packets_received": 1500, "packets_lost": 3,
            "packets_duplicated": 1, "packets_late": 2, "packets_foreign": 7,
            "jitter_ms": null,
            "packets_cn": 0, "ssrc_changes": 0, "sample_rate": null
        })
    );
    assert_eq!(streams[1]["packets_received"], 0);
    assert_eq!(streams[2]["label"], "3");
    assert_eq!(streams[2]["index"], Value::Null);
    assert_eq!(streams[2]["mline"], 2);
    assert_eq!(streams[2]["state"], "rejected");
    assert_eq!(streams[2]["reject_reason"], "media type not recorded");
    assert_eq!(streams[2]["file"], Value::Null);

    let md = detail["metadata"].as_array().unwrap();
    assert_eq!(md.len(), 2);
    assert_eq!(md[0]["id"], doc1);
    assert_eq!(md[0]["received_at"], "2026-11-26T05:39:44.200Z");
    assert_eq!(md[0]["sip_method"], "INVITE");
    assert_eq!(md[0]["content_type"], "application/rs-metadata+xml");
    assert_eq!(md[0]["raw"], String::from_utf8(xml).unwrap());
    assert_eq!(md[0]["parse_error"], Value::Null);
    assert_eq!(md[1]["sip_method"], "UPDATE");
    assert_eq!(md[1]["content_type"], Value::Null);
    assert_eq!(
        md[1]["raw"],
        "<recording>\u{fffd}\u{fffd}\u{0}bad</recording>"
    );
    assert_eq!(md[1]["parse_error"], "invalid UTF-8");

    assert_eq!(
        detail["warnings"],
        json!([{"at": "2026-11-26T05:39:45.000Z", "text": "no RTP on label 2 for 5 s", "count": 1}])
    );
    assert!(cat.active_recording_ids().unwrap().is_empty());
}

fn check_summary(v: &Value, id: &str) {
    assert_eq!(v["id"], id);
    assert_eq!(v["call_id"], "cid-1@src.example");
    assert_eq!(v["state"], "complete");
    assert_eq!(v["src_addr"], "192.0.2.10:5060");
    assert_eq!(v["started_at"], "2026-11-26T05:39:44.123Z");
    assert_eq!(v["ended_at"], "2026-11-26T05:40:44.623Z");
    assert_eq!(v["duration_ms"], 60_500);
    assert_eq!(
        v["participants"],
        json!([
            {"id": "p-alice", "aor": "sip:alice@example.com", "name": "Alice",
             "role": "caller", "sends": ["1"], "receives": ["2"]},
            {"id": "p-bob", "aor": "sip:bob@example.com", "name": null,
             "role": "callee", "sends": ["2"], "receives": ["1"]}
        ])
    );
    assert_eq!(
        v["files"],
        json!({
            "dir": "/var/rec/r1",
            "stereo": "/var/rec/r1/stereo.wav",
            "streams": {"1": "/var/rec/r1/1.wav", "2": "/var/rec/r1/2.wav"}
        })
    );
    assert_eq!(
        v["channel_map"],
        json!([
            {"channel": 0, "label": "1", "participant_id": "p-alice", "role": "caller"},
            {"channel": 1, "label": "2", "participant_id": "p-bob", "role": "callee"}
        ])
    );
}

#[test]
fn list_is_newest_first_and_limited() {
    let (_d, cat) = open_temp();
    cat.insert_recording(&new_rec("old", datetime!(2026-01-01 00:00 UTC)))
        .unwrap();
    cat.insert_recording(&new_rec("new", datetime!(2026-03-01 00:00 UTC)))
        .unwrap();
    cat.insert_recording(&new_rec("mid", datetime!(2026-02-01 00:00 UTC)))
        .unwrap();
    let ids = |l: Vec<RecordingSummary>| l.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(cat.list(None).unwrap()), ["new", "mid", "old"]);
    assert_eq!(ids(cat.list(Some(2)).unwrap()), ["new", "mid"]);
    assert!(cat.list(Some(0)).unwrap().is_empty());
    let v = serde_json::to_value(&cat.list(Some(1)).unwrap()[0]).unwrap();
    // A fresh recording has empty collections, never missing fields.
    assert_eq!(v["participants"], json!([]));
    assert_eq!(
        v["files"],
        json!({"dir": "/var/rec/r1", "stereo": null, "streams": {}})
    );
    assert_eq!(v["channel_map"], json!([]));
}

#[test]
fn active_ids_track_state() {
    let (_d, cat) = open_temp();
    cat.insert_recording(&new_rec("a", datetime!(2026-01-01 00:00 UTC)))
        .unwrap();
    cat.insert_recording(&new_rec("b", datetime!(2026-01-02 00:00 UTC)))
        .unwrap();
    cat.insert_recording(&new_rec("c", datetime!(2026-01-03 00:00 UTC)))
        .unwrap();
    assert_eq!(cat.active_recording_ids().unwrap(), ["a", "b", "c"]);
    let end = datetime!(2026-01-04 00:00 UTC);
    cat.finish_recording("b", RecordingState::Failed, end, 1, "media timeout")
        .unwrap();
    cat.finish_recording("a", RecordingState::Interrupted, end, 2, "restart")
        .unwrap();
    assert_eq!(cat.active_recording_ids().unwrap(), ["c"]);
    let a = cat.get("a").unwrap().unwrap();
    assert_eq!(a.summary.state, RecordingState::Interrupted);
    assert_eq!(a.end_reason.as_deref(), Some("restart"));
}

#[test]
fn unknown_id_reads_none_and_writes_fail() {
    let (_d, cat) = open_temp();
    assert_eq!(cat.get("nope").unwrap(), None);
    let t = datetime!(2026-01-01 00:00 UTC);
    let unknown = |e: StoreError| matches!(e, StoreError::UnknownRecording(ref s) if s == "nope");
    assert!(unknown(cat.replace_participants("nope", &[]).unwrap_err()));
    assert!(unknown(
        cat.upsert_stream("nope", &stream("1", 1)).unwrap_err()
    ));
    assert!(unknown(
        cat.set_stream_counters("nope", 0, &StreamCounters::default())
            .unwrap_err()
    ));
    assert!(unknown(
        cat.add_metadata_document("nope", t, "INVITE", None, b"x", None)
            .unwrap_err()
    ));
    assert!(unknown(cat.add_warning("nope", t, "w").unwrap_err()));
    assert!(unknown(cat.set_outputs("nope", None, &[]).unwrap_err()));
    assert!(unknown(
        cat.finish_recording("nope", RecordingState::Complete, t, 0, "x")
            .unwrap_err()
    ));
}

#[test]
fn duplicate_insert_is_typed_error() {
    let (_d, cat) = open_temp();
    let r = new_rec("dup", datetime!(2026-01-01 00:00 UTC));
    cat.insert_recording(&r).unwrap();
    let e = cat.insert_recording(&r).unwrap_err();
    assert!(
        matches!(e, StoreError::DuplicateRecording(ref s) if s == "dup"),
        "{e:?}"
    );
}

#[test]
fn oversized_duration_is_rejected() {
    let (_d, cat) = open_temp();
    cat.insert_recording(&new_rec("r", datetime!(2026-01-01 00:00 UTC)))
        .unwrap();
    let e = cat
        .finish_recording(
            "r",
            RecordingState::Complete,
            datetime!(2026-01-01 00:01 UTC),
            u64::MAX,
            "x",
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::OutOfRange {
                field: "duration_ms"
            }
        ),
        "{e:?}"
    );
    assert_eq!(cat.active_recording_ids().unwrap(), ["r"]);
}

#[test]
fn empty_state_is_stored_read_and_searchable() {
    let (_d, cat) = open_temp();
    let t = datetime!(2026-01-01 00:00 UTC);
    cat.insert_recording(&new_rec("silent", t)).unwrap();
    cat.insert_recording(&new_rec("heard", t)).unwrap();
    cat.finish_recording("silent", RecordingState::Empty, t, 1000, "BYE")
        .unwrap();
    cat.finish_recording("heard", RecordingState::Complete, t, 1000, "BYE")
        .unwrap();
    let d = cat.get("silent").unwrap().unwrap();
    assert_eq!(d.summary.state, RecordingState::Empty);
    assert_eq!(serde_json::to_value(&d).unwrap()["state"], "empty");
    let q = SearchQuery {
        state: Some("empty".parse().unwrap()),
        ..SearchQuery::default()
    };
    let found: Vec<String> = cat.search(&q).unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(found, ["silent"]);
    assert!(cat.active_recording_ids().unwrap().is_empty());
}

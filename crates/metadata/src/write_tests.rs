//! Tests for `to_xml` / `request_snapshot_xml`.

use super::*;

use crate::model::{Group, NameId, Participant, Reason, Session, Stream};
use crate::{MetadataError, parse, parse_request_snapshot};

fn sample() -> Metadata {
    let ts = |s: &str| Some(Timestamp::parse(s));
    Metadata {
        datamode: DataMode::Partial,
        groups: vec![Group {
            id: "g1".into(),
            associate_time: ts("2020-01-01T00:00:00Z"),
            disassociate_time: ts("2020-01-01T01:00:00.5+01:00"),
            extensions: vec![Extension {
                namespace: Some("urn:x".into()),
                name: "foo".into(),
                raw: "<foo xmlns=\"urn:x\" a=\"1\"><b>v &amp; w</b></foo>".into(),
                fields: vec![("@a".into(), "1".into()), ("b".into(), "v & w".into())],
            }],
        }],
        sessions: vec![Session {
            id: "s1".into(),
            group_ref: Some("g1".into()),
            sip_session_ids: vec!["ab;remote=cd".into()],
            stop_time: ts("2020-01-01T00:00:09Z"),
            reasons: vec![Reason {
                cause: Some(16),
                protocol: "Q.850".into(),
                text: "Normal <clearing> & \"bye\"".into(),
            }],
            ..Session::default()
        }],
        participants: vec![Participant {
            id: "p\"1'".into(),
            name_ids: vec![
                NameId {
                    aor: "sip:a@b?x=<y>&z".into(),
                    name: Some("A & <B>".into()),
                    name_lang: Some("en".into()),
                },
                NameId {
                    aor: "tel:+1".into(),
                    name: None,
                    name_lang: None,
                },
            ],
            ..Participant::default()
        }],
        streams: vec![Stream {
            id: "st1".into(),
            session_id: Some("s1".into()),
            label: Some("a_leg".into()),
            ..Stream::default()
        }],
        session_recording_assocs: vec![SessionRecordingAssoc {
            session_id: "s1".into(),
            ..Default::default()
        }],
        participant_session_assocs: vec![ParticipantSessionAssoc {
            participant_id: "p\"1'".into(),
            session_id: "s1".into(),
            params: vec![("isfocus".into(), "a\nb\tc".into())],
            ..Default::default()
        }],
        participant_stream_assocs: vec![ParticipantStreamAssoc {
            participant_id: "p\"1'".into(),
            send: vec!["st1".into()],
            recv: vec!["st1".into()],
            ..Default::default()
        }],
        ..Metadata::default()
    }
}

#[test]
fn round_trip_is_exact() {
    let m = sample();
    let xml = to_xml(&m);
    assert_schema_order(&xml);
    let back = parse(xml.as_bytes()).unwrap();
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    assert_eq!(back.metadata, m);
}

#[test]
fn extensions_written_only_when_portable() {
    let mut m = Metadata::default();
    let ext = |ns: Option<&str>, raw: &str| Extension {
        namespace: ns.map(str::to_string),
        name: "e".into(),
        raw: raw.into(),
        fields: vec![],
    };
    m.extensions = vec![
        // Prefix declared by an ancestor in the source: re-declared.
        ext(Some("urn:x"), "<x:e>1</x:e>"),
        // Recording-namespace wrapper: not ##other, dropped.
        ext(
            Some(crate::xmlutil::NS_NO_VERSION),
            "<extensiondata><e/></extensiondata>",
        ),
        // Unusable raw text: dropped rather than corrupting the document.
        ext(Some("urn:y"), "<y:e><z:f/></y:e>"),
    ];
    let xml = to_xml(&m);
    assert_schema_order(&xml);
    let back = parse(xml.as_bytes()).unwrap().metadata;
    assert_eq!(back.extensions.len(), 1);
    assert_eq!(back.extensions[0].raw, "<x:e xmlns:x=\"urn:x\">1</x:e>");
    assert_eq!(back.extensions[0].namespace.as_deref(), Some("urn:x"));
}

#[test]
fn forbidden_characters_are_replaced() {
    let mut m = sample();
    m.participants[0].name_ids[0].name = Some("x\u{1}y".into());
    let xml = to_xml(&m);
    let back = parse(xml.as_bytes()).unwrap().metadata;
    assert_eq!(
        back.participants[0].name_ids[0].name.as_deref(),
        Some("x\u{FFFD}y")
    );
}

#[test]
fn participant_without_name_id_stays_schema_valid() {
    let m = Metadata {
        participants: vec![Participant {
            id: "p".into(),
            ..Participant::default()
        }],
        ..Metadata::default()
    };
    assert_schema_order(&to_xml(&m));
}

#[test]
fn snapshot_request() {
    let x = request_snapshot_xml(Some("SRS lost <state> & more"));
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<requestsnapshot xmlns=\"urn:ietf:params:xml:ns:recording:1\">"));
    assert_eq!(
        parse_request_snapshot(x.as_bytes()).unwrap().as_deref(),
        Some("SRS lost <state> & more")
    );
    assert_eq!(
        parse(x.as_bytes()).unwrap_err(),
        MetadataError::SnapshotRequest
    );
    assert_eq!(
        parse_request_snapshot(request_snapshot_xml(None).as_bytes()).unwrap(),
        None
    );
}

/// Test helper: asserts `xml` follows the XSD `recording` sequence (RFC 7865 §9).
pub(crate) fn assert_schema_order(xml: &str) {
    const ORDER: [&str; 8] = [
        "datamode",
        "group",
        "session",
        "participant",
        "stream",
        "sessionrecordingassoc",
        "participantsessionassoc",
        "participantstreamassoc",
    ];
    let doc = roxmltree::Document::parse(xml).expect("to_xml output is well-formed");
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(NS_RFC));
    assert_eq!(root.tag_name().name(), "recording");
    let mut last = 0;
    for c in root.children().filter(roxmltree::Node::is_element) {
        let rank = if c.tag_name().namespace() == Some(NS_RFC) {
            ORDER
                .iter()
                .position(|n| *n == c.tag_name().name())
                .expect("only schema elements in the RFC namespace")
        } else {
            ORDER.len()
        };
        assert!(rank >= last, "<{}> out of XSD order", c.tag_name().name());
        last = rank;
        if c.tag_name().name() == "participant" {
            assert!(
                c.children().any(|n| n.tag_name().name() == "nameID"),
                "participant needs a nameID"
            );
        }
    }
}

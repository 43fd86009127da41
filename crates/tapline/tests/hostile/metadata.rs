//! Metadata spoilt by one bad byte or character: the document is repaired (invalid UTF-8
//! becomes U+FFFD, characters XML forbids are dropped), both participants are recorded and
//! the recording carries a warning saying what was repaired.

use crate::common::{
    Server, UdpLink, branch, metadata_xml, multipart, offer_sdp, participant, show,
};
use crate::hostile::util::record_complete;

/// Record one call whose metadata is `xml` (raw bytes); returns `recordings show`.
fn record_with_metadata(xml: &[u8]) -> serde_json::Value {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let sdp = offer_sdp(call.local.ip(), [40_000, 40_002]);
    let (ct, body) = multipart(&[
        ("application/sdp", None, sdp.as_bytes()),
        (
            "application/rs-metadata+xml",
            Some("recording-session"),
            xml,
        ),
    ]);
    let invite = call.invite(&branch(), &[], &ct, &body);
    let rec = record_complete(&server, &mut link, &call, &invite);
    show(server.data_dir(), rec["id"].as_str().unwrap())
}

/// The standard two-party metadata with the caller's name replaced by `name` bytes.
fn metadata_with_caller_name(name: &[u8]) -> Vec<u8> {
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    let (head, tail) = xml.split_once("Caller").unwrap();
    [head.as_bytes(), name, tail.as_bytes()].concat()
}

fn warnings(detail: &serde_json::Value) -> Vec<String> {
    detail["warnings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|w| w.as_str().map_or_else(|| w.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_both_participants(detail: &serde_json::Value) {
    assert_eq!(participant(detail, "sip:bob@example.com")["name"], "Callee");
    let alice = participant(detail, "sip:alice@example.com");
    assert_eq!(alice["role"], "caller", "{alice:#}");
}

#[test]
fn invalid_utf8_byte_in_a_name_keeps_both_participants() {
    // "Jörg" in Latin-1 inside a document that says UTF-8.
    let detail = record_with_metadata(&metadata_with_caller_name(b"J\xf6rg"));
    assert_both_participants(&detail);
    assert_eq!(
        participant(&detail, "sip:alice@example.com")["name"],
        "J\u{fffd}rg"
    );
    let w = warnings(&detail);
    assert!(
        w.iter().any(|w| w.contains(
            "metadata repaired: 1 invalid UTF-8 sequence(s) (1 byte(s)) replaced by U+FFFD"
        )),
        "{w:#?}"
    );
}

#[test]
fn xml_illegal_characters_in_a_name_are_dropped() {
    let detail = record_with_metadata(&metadata_with_caller_name(
        "Al\0i\x1b[1mce\x01\u{ffff}".as_bytes(),
    ));
    assert_both_participants(&detail);
    assert_eq!(
        participant(&detail, "sip:alice@example.com")["name"],
        "Ali[1mce"
    );
    let w = warnings(&detail);
    assert!(
        w.iter()
            .any(|w| w.contains("metadata repaired: 4 character(s) not allowed in XML")),
        "{w:#?}"
    );
}

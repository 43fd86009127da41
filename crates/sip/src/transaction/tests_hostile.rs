//! Stateless answers to hostile requests: control characters (400) and a SIP-Version
//! other than 2.0 (505).

use std::time::Instant;

use super::tests_server::{drain, sent, udp};
use crate::{Endpoint, EndpointConfig, Event, Message, Output};

fn options(version: &str, call_id: &str, to: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:srs@192.0.2.1 {version}\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKh1\r\n\
Max-Forwards: 70\r\nFrom: <sip:src@example.com>;tag=f1\r\nTo: {to}\r\n\
Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Feed one datagram; the status lines sent back and whether the event says answered.
fn feed(bytes: &[u8]) -> (Vec<String>, Vec<Vec<u8>>, bool) {
    let mut ep = Endpoint::new(EndpointConfig::default());
    ep.handle_input(Instant::now(), udp(), bytes);
    let outs = drain(&mut ep);
    let raw = outs
        .iter()
        .filter_map(|o| match o {
            Output::Transmit { bytes, .. } => Some(bytes.clone()),
            Output::Event(_) => None,
        })
        .collect();
    let answered = outs
        .iter()
        .any(|o| matches!(o, Output::Event(Event::Malformed { answered: true, .. })));
    (sent(&outs), raw, answered)
}

#[test]
fn ctl_in_call_id_gets_400_naming_the_header() {
    for cid in ["a\x1b[31mred@h", "a\rb@h", "a\0b@h", "a\x7fb@h", "a\x01"] {
        let (status, _, answered) = feed(&options("SIP/2.0", cid, "<sip:srs@example.com>"));
        assert_eq!(
            status,
            vec!["SIP/2.0 400 Bad Request - Control Character in Call-ID"],
            "{cid:?}"
        );
        assert!(answered);
    }
}

#[test]
fn ctl_in_to_tag_gets_400_but_quoted_pair_is_accepted() {
    let (status, _, _) = feed(&options(
        "SIP/2.0",
        "c1",
        "<sip:srs@example.com>;tag=a\x1bb",
    ));
    assert_eq!(
        status,
        vec!["SIP/2.0 400 Bad Request - Control Character in To"]
    );
    let (status, _, _) = feed(&options(
        "SIP/2.0",
        "c1",
        "\"a\\\x07\" <sip:srs@example.com>",
    ));
    assert!(status.is_empty(), "a quoted-pair BEL is legal: {status:?}");
}

#[test]
fn reason_phrase_never_echoes_the_control_characters() {
    let (_, raw, _) = feed(&options(
        "SIP/2.0",
        "x\x1b]0;pwned\x07y",
        "<sip:srs@example.com>",
    ));
    let first = raw[0].split(|b| *b == b'\n').next().unwrap().to_vec();
    assert!(first.iter().all(|b| !b.is_ascii_control() || *b == b'\r'));
}

#[test]
fn other_sip_version_gets_505() {
    let (status, raw, answered) = feed(&options("SIP/3.0", "v1", "<sip:srs@example.com>"));
    assert_eq!(status, vec!["SIP/2.0 505 Version Not Supported"]);
    assert!(answered);
    let Message::Response(r) = Message::parse(&raw[0]).unwrap() else {
        panic!("not a response")
    };
    assert_eq!(r.call_id(), Some("v1"));
    assert!(r.to_tag().is_some());
}

#[test]
fn ack_with_other_version_gets_nothing() {
    let ack = String::from_utf8(options("SIP/3.0", "v2", "<sip:srs@example.com>;tag=t"))
        .unwrap()
        .replace("OPTIONS", "ACK");
    let (status, _, answered) = feed(ack.as_bytes());
    assert!(status.is_empty() && !answered);
}

#[test]
fn rfc4475_badvers_gets_505() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/rfc4475/badvers.dat");
    let bytes = std::fs::read(path).unwrap();
    let (status, _, answered) = feed(&bytes);
    assert_eq!(status, vec!["SIP/2.0 505 Version Not Supported"]);
    assert!(answered);
}

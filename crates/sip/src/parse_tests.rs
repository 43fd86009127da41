//! Parser tests: RFC 4475 torture messages, SIPREC corpus INVITEs, round trips, fuzz-ish.

use super::*;
use crate::Method;

fn torture(name: &str) -> Vec<u8> {
    let path = format!("{}/testdata/rfc4475/{name}.dat", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("missing test vector {path}: {e}"))
}

fn corpus(rel: &str) -> String {
    let path = format!(
        "{}/../../../shared/siprec/corpus/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("missing corpus file {path}: {e}"))
}

fn req(m: Message) -> Request {
    match m {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

#[test]
fn valid_torture_messages_parse() {
    for name in [
        "wsinv",
        "intmeth",
        "esc01",
        "lwsdisp",
        "longreq",
        "esc02",
        "escnull",
        "semiuri",
        "transports",
        "mpart01",
        "unreason",
        "noreason",
        "dblreq",
        "cparam01",
        "cparam02",
        "regescrt",
        "novelsc",
        "unkscm",
        "zeromf",
        "inv2543",
        "sdp01",
    ] {
        let bytes = torture(name);
        if let Err(e) = Message::parse(&bytes) {
            panic!("{name} should parse: {e}");
        }
    }
}

#[test]
fn wsinv_details() {
    let r = req(Message::parse(&torture("wsinv")).unwrap());
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.to_tag().as_deref(), Some("1918181833n"));
    assert_eq!(r.from_tag().as_deref(), Some("98asjd8"));
    assert_eq!(
        r.from().unwrap().display_name.as_deref(),
        Some("J Rosenberg \\\"")
    );
    assert_eq!(r.cseq().unwrap().seq, 9);
    assert_eq!(r.header("max-forwards"), Some("0068"));
    assert_eq!(r.header("Subject"), Some(""));
    assert_eq!(
        r.header("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    let vias = r.headers.get_all("Via");
    assert_eq!(vias.len(), 3);
    assert_eq!(r.top_via().unwrap().branch(), Some("390skdjuw"));
    assert_eq!(Via::parse(vias[2]).unwrap().branch(), Some("z9hG4bK30239"));
    assert_eq!(r.body.len(), 150);
}

#[test]
fn intmeth_and_esc01_details() {
    let r = req(Message::parse(&torture("intmeth")).unwrap());
    assert_eq!(
        r.method,
        Method::Other("!interesting-Method0123456789_*+`.%indeed'~".into())
    );
    assert!(r.to().unwrap().display_name.unwrap().contains("NUL:\0"));
    let r = req(Message::parse(&torture("esc01")).unwrap());
    assert_eq!(r.call_id(), Some("esc01.239409asdfakjkn23onasd0-3234"));
    assert_eq!(r.header("Content-Type"), Some("application/sdp"));
}

#[test]
fn udp_extra_trailing_octets_are_cut_to_content_length() {
    let r = req(Message::parse(&torture("dblreq")).unwrap());
    assert_eq!(r.body, b"");
}

#[test]
fn invalid_torture_messages_error() {
    type Check = fn(&ParseError) -> bool;
    let cases: &[(&str, Check)] = &[
        ("badinv01", |e| {
            matches!(e, ParseError::BadHeader { name: "Via", .. })
        }),
        ("clerr", |e| {
            matches!(e, ParseError::BodyTruncated { expected: 9999, .. })
        }),
        ("ncl", |e| *e == ParseError::BadContentLength),
        ("scalar02", |e| {
            matches!(e, ParseError::BadHeader { name: "CSeq", .. })
        }),
        ("mismatch01", |e| *e == ParseError::CSeqMethodMismatch),
        ("mismatch02", |e| *e == ParseError::CSeqMethodMismatch),
        ("mcl01", |e| *e == ParseError::BadContentLength),
        ("multi01", |e| matches!(e, ParseError::DuplicateHeader(_))),
        ("insuf", |e| matches!(e, ParseError::MissingHeader(_))),
        // The endpoint answers it 505 (transaction::tests_hostile).
        ("badvers", |e| {
            *e == ParseError::UnsupportedVersion("SIP/7.0".into())
        }),
        ("lwsstart", |e| matches!(e, ParseError::BadStartLine(_))),
        ("trws", |e| matches!(e, ParseError::BadStartLine(_))),
        ("ltgtruri", |e| *e == ParseError::BadRequestUri),
        ("lwsruri", |e| matches!(e, ParseError::BadStartLine(_))),
        ("baddn", |e| {
            matches!(e, ParseError::BadHeader { name: "From", .. })
        }),
        ("quotbal", |e| {
            matches!(e, ParseError::BadHeader { name: "To", .. })
        }),
        ("bigcode", |e| matches!(e, ParseError::BadStatusCode(_))),
        ("scalarlg", |e| {
            matches!(e, ParseError::BadHeader { name: "CSeq", .. })
        }),
        ("test", |e| matches!(e, ParseError::BadStartLine(_))),
    ];
    for (name, check) in cases {
        match Message::parse(&torture(name)) {
            Ok(_) => panic!("{name} must be rejected"),
            Err(e) => assert!(check(&e), "{name}: unexpected error {e:?}"),
        }
    }
}

const CTL_BASE: &str = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\ni: c\r\nCSeq: 1 OPTIONS\r\n\r\n";

#[test]
fn control_characters_in_headers_are_refused() {
    for (header, from, to) in [
        ("Call-ID", "i: c", "i: c\x1b[2J"),
        ("Call-ID", "i: c", "Call-ID: c\rX-Injected: 1"),
        ("Call-ID", "i: c", "i: c\x7f"),
        ("CSeq", "CSeq: 1 OPTIONS", "CSeq: 1\x00 OPTIONS"),
        ("From", "tag=1", "tag=1\x1b"),
        ("Via", "z9hG4bK1", "z9hG4bK\x01"),
        ("Request-URI", "sip:a@b SIP", "sip:a\x01@b SIP"),
        ("X-Other", "\r\n\r\n", "\r\nX-Other: \"\x00\"\r\n\r\n"),
    ] {
        let wire = CTL_BASE.replacen(from, to, 1);
        let err = Message::parse(wire.as_bytes()).unwrap_err();
        assert_eq!(err, ParseError::ControlCharacter(header.into()), "{to:?}");
        assert_eq!(
            err.reason_phrase(),
            format!("Control Character in {header}")
        );
        assert!(!err.to_string().chars().any(|c| c.is_control()));
    }
}

#[test]
fn htab_and_quoted_pairs_are_not_control_characters() {
    let wire = CTL_BASE.replacen("<sip:a@b>", "\"A\\\x1b\\\x00\"\t<sip:a@b>", 1);
    assert!(Message::parse(wire.as_bytes()).is_ok());
}

#[test]
fn lenient_accepts_short_body() {
    let r = req(Message::parse_lenient(&torture("clerr")).unwrap());
    assert!(r.body.starts_with(b"v=0"));
}

/// RFC figures are indented, LF-only and use `[length]`: de-indent and fill in.
fn wire_from_figure(text: &str) -> Vec<u8> {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect();
    let blank = lines.iter().position(|l| l.is_empty()).unwrap();
    let body = lines[blank + 1..].join("\r\n") + "\r\n";
    let head = lines[..blank]
        .join("\r\n")
        .replace("[length]", &body.len().to_string());
    format!("{head}\r\n\r\n{body}").into_bytes()
}

#[test]
fn rfc7866_figure12_invite() {
    let r = req(Message::parse(&wire_from_figure(&corpus(
        "rfc/rfc7866-9.1-fig12-invite.txt",
    )))
    .unwrap());
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.header("Require"), Some("siprec"));
    let contact = NameAddr::parse(r.header("Contact").unwrap()).unwrap();
    assert!(contact.has_param("+sip.src"));
    assert_eq!(r.top_via().unwrap().transport, "TCP");
    assert!(String::from_utf8_lossy(&r.body).contains("--foobar"));
}

/// SIPp templates: substitute keywords, LF -> CRLF (INDEX.md section 2).
fn wire_from_sipp(text: &str) -> Vec<u8> {
    let text = text
        .replace("[remote_ip]", "192.0.2.10")
        .replace("[remote_port]", "5060")
        .replace("[local_ip]", "192.0.2.20")
        .replace("[local_port]", "5070")
        .replace("[transport]", "UDP")
        .replace("[branch]", "z9hG4bK-sipp-1")
        .replace("[call_id]", "1-sipp@192.0.2.20")
        .replace("[pid]", "42")
        .replace("[call_number]", "1")
        .replace("[auto_media_port]", "6000")
        .replace("[media_port]", "6000")
        .replace("[peer_tag_param]", ";tag=peer1")
        .replace("[cseq]", "2");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.trim_end(), ""));
    let body = body.replace('\n', "\r\n");
    let head = head
        .replace('\n', "\r\n")
        .replace("[len]", &body.len().to_string());
    format!("{head}\r\n\r\n{body}").into_bytes()
}

#[test]
fn vendor_sipp_invites() {
    let r = req(Message::parse(&wire_from_sipp(&corpus(
        "vendor/vendor-metaswitch-invite.sipp.txt",
    )))
    .unwrap());
    assert_eq!(r.cseq().unwrap().seq, 672675354);
    assert!(r.from().unwrap().tag().is_some());
    let r = req(Message::parse(&wire_from_sipp(&corpus(
        "vendor/vendor-broadworks-invite.sipp.txt",
    )))
    .unwrap());
    assert_eq!(r.cseq().unwrap().seq, 604674513);
    let contact = NameAddr::parse(r.header("Contact").unwrap()).unwrap();
    assert!(contact.has_param("src"));
}

#[test]
fn every_vendor_sipp_template_parses() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/siprec/corpus/vendor"
    );
    let mut n = 0;
    for f in std::fs::read_dir(dir).expect("corpus/vendor missing") {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".sipp.txt") {
            let wire = wire_from_sipp(&corpus(&format!("vendor/{name}")));
            let m = Message::parse(&wire).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(m.headers().call_id().is_some());
            n += 1;
        }
    }
    assert!(n >= 5, "expected the SIPp templates, found {n}");
}

#[test]
fn rfc7866_figure13_update_and_cisco_debug_artefacts() {
    let wire = wire_from_figure(&corpus("rfc/rfc7866-9.2-fig13-update-snapshot-request.txt"));
    let r = req(Message::parse(&wire).unwrap());
    assert_eq!(r.method, Method::Update);
    assert!(
        NameAddr::parse(r.header("Contact").unwrap())
            .unwrap()
            .has_param("+sip.srs")
    );
    // Documentation transcription with an unindented folded line: rejected, no panic.
    let text = corpus("vendor/vendor-cisco-cube-invite-debug.txt");
    assert!(matches!(
        Message::parse_lenient(text.as_bytes()),
        Err(ParseError::BadHeaderLine(_))
    ));
}

#[test]
fn message_with_every_compact_form() {
    let raw = "MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:x@y>;tag=1\r\n\
t: <sip:a@b>\r\ni: cid\r\nCSeq: 1 MESSAGE\r\nm: <sip:x@h>\r\nc: text/plain\r\nk: timer\r\n\
s: hi\r\ne: gzip\r\no: dialog\r\nu: refer\r\nr: <sip:c@d>\r\nx: 1800\r\na: *;+sip.src\r\n\
j: *;video\r\nd: proxy\r\nb: <sip:e@f>\r\nl: 2\r\n\r\nok";
    let r = req(Message::parse(raw.as_bytes()).unwrap());
    for (name, value) in [
        ("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"),
        ("From", "<sip:x@y>;tag=1"),
        ("To", "<sip:a@b>"),
        ("Call-ID", "cid"),
        ("Contact", "<sip:x@h>"),
        ("Content-Type", "text/plain"),
        ("Supported", "timer"),
        ("Subject", "hi"),
        ("Content-Encoding", "gzip"),
        ("Event", "dialog"),
        ("Allow-Events", "refer"),
        ("Refer-To", "<sip:c@d>"),
        ("Session-Expires", "1800"),
        ("Accept-Contact", "*;+sip.src"),
        ("Reject-Contact", "*;video"),
        ("Request-Disposition", "proxy"),
        ("Referred-By", "<sip:e@f>"),
        ("Content-Length", "2"),
    ] {
        assert_eq!(r.header(name), Some(value), "{name}");
    }
    assert_eq!(r.body, b"ok");
    // Serialisation uses the full names.
    let text = String::from_utf8(r.to_bytes()).unwrap();
    assert!(text.contains("\r\nReferred-By: <sip:e@f>\r\n") && !text.contains("\r\nb:"));
}

#[test]
fn lf_only_and_leading_crlf_and_compact() {
    let raw = b"\r\n\r\nBYE sip:a@b SIP/2.0\nv: SIP/2.0/UDP h;branch=z9hG4bK1\nf: <sip:x@y>;tag=1\nt:<sip:a@b>;tag=2\ni: c1\nCSeq:2 BYE\nl: 4\n\nabcdEXTRA";
    let r = req(Message::parse(raw).unwrap());
    assert_eq!(r.method, Method::Bye);
    assert_eq!(r.call_id(), Some("c1"));
    assert_eq!(r.to_tag().as_deref(), Some("2"));
    assert_eq!(r.body, b"abcd");
}

#[test]
fn round_trip_rewrites_content_length() {
    let raw = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g;branch=z9hG4bK2\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 2\r\n\r\nhi";
    let m = Message::parse(raw).unwrap();
    let Message::Response(mut resp) = m.clone() else {
        panic!()
    };
    assert_eq!(resp.status, 200);
    assert_eq!(resp.reason, "OK");
    assert_eq!(Message::parse(&m.to_bytes()).unwrap(), m);
    resp.body = b"hello".to_vec();
    let again = Message::parse(&resp.to_bytes()).unwrap();
    assert_eq!(again.headers().get("Content-Length"), Some("5"));
    assert_eq!(again.body(), b"hello");
}

#[test]
fn mutated_invite_never_panics() {
    let base = torture("wsinv");
    let fillers = [
        0u8, b' ', b'\r', b'\n', b':', b';', b'"', b'<', b',', 0xff, b'9',
    ];
    for i in 0..base.len() {
        for f in fillers {
            let mut m = base.clone();
            m[i] = f;
            let _ = Message::parse(&m);
            let _ = Message::parse_lenient(&m);
            m.truncate(i);
            let _ = Message::parse(&m);
        }
    }
}

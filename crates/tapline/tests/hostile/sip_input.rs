//! Control characters in SIP and SDP input: a request carrying raw CTLs in a header gets a
//! 400 naming the header (RFC 3261 25.1), a SIP version other than 2.0 gets 505, and
//! whatever the network sends is written escaped in the server's log, one event per line.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::common::{
    MLine, Server, SipLink, UdpLink, branch, final_response, metadata_xml, sdp_offer, siprec_body,
};
use crate::hostile::util::record_complete;

const LIMIT: Duration = Duration::from_secs(5);

/// The status line of the next datagram (the 400 echoes the broken header: unparseable).
fn status_line(link: &mut UdpLink) -> String {
    let raw = link
        .recv_raw(Instant::now() + LIMIT)
        .expect("an answer to the broken request");
    raw.split("\r\n").next().unwrap_or_default().to_owned()
}

/// A request of a fresh call with `from` replaced by `to` in its bytes.
fn mangled(link: &UdpLink, method: &str, from: &str, to: &str) -> Vec<u8> {
    let call = link.call();
    let text = String::from_utf8(call.request(method, 1, &branch(), None, &[], None)).unwrap();
    assert!(text.contains(from), "{from:?} not in {text}");
    text.replacen(from, to, 1).into_bytes()
}

/// Every line the server logged so far is one clean event: no raw control character at all
/// (stderr is a pipe, so there are no colours either).
fn assert_clean_log(server: &Server) -> Vec<String> {
    let lines = server.log_lines();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(
            !line.chars().any(char::is_control),
            "raw control character in a log line: {line:?}"
        );
    }
    lines
}

/// A normal SIPREC call records completely (the server is not upset by what came before).
fn record_normal_call(server: &Server, link: &mut UdpLink) {
    let call = link.call();
    record_complete(server, link, &call, &call.siprec_invite(&branch(), &[]));
}

#[test]
fn call_id_with_escape_and_cr_gets_400_and_recording_goes_on() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    for evil in ["\x1b[2J\x1b]0;pwned\x07", "\rX-Injected: 1", "\0"] {
        let to = format!("{evil}@e2e.test\r\n");
        link.send(&mangled(&link, "INVITE", "@e2e.test\r\n", &to));
        assert_eq!(
            status_line(&mut link),
            "SIP/2.0 400 Bad Request - Control Character in Call-ID",
            "{evil:?}"
        );
    }
    record_normal_call(&server, &mut link);
    let lines = assert_clean_log(&server);
    let malformed: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("malformed SIP message"))
        .collect();
    assert_eq!(malformed.len(), 3, "{lines:#?}");
    assert!(
        malformed[0].contains("control character in Call-ID"),
        "{}",
        malformed[0]
    );
}

#[test]
fn control_characters_in_other_headers_get_400_naming_them() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let cases: [(&str, &str, &str); 5] = [
        ("From", ";tag=", ";tag=\x1b[31m"),
        ("To", "To: <sip:srs@", "To: \"\x1b[2J\" <sip:srs@"),
        ("Via", ";branch=", ";branch=\0"),
        ("CSeq", "CSeq: 1 ", "CSeq: 1\x7f "),
        ("Contact", ";+sip.src", ";+sip.src;x=a\rb"),
    ];
    for (header, from, to) in cases {
        link.send(&mangled(&link, "OPTIONS", from, to));
        assert_eq!(
            status_line(&mut link),
            format!("SIP/2.0 400 Bad Request - Control Character in {header}")
        );
    }
    // A BEL as a quoted-pair in a display name is legal (RFC 4475 intmeth): answered 200.
    let call = link.call();
    let text = String::from_utf8(call.request("OPTIONS", 1, &branch(), None, &[], None)).unwrap();
    let ok = text.replacen("To: <sip:srs@", "To: \"bell \\\x07\" <sip:srs@", 1);
    link.send(ok.as_bytes());
    let r = final_response(&mut link, &call.call_id, "OPTIONS", LIMIT);
    assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
    assert_clean_log(&server);
}

#[test]
fn other_sip_version_gets_505() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    for method in ["OPTIONS", "INVITE"] {
        let call = link.call();
        let text = String::from_utf8(call.request(method, 1, &branch(), None, &[], None)).unwrap();
        let bad = text.replacen(" SIP/2.0\r\n", " SIP/3.0\r\n", 1);
        link.send(bad.as_bytes());
        let r = final_response(&mut link, &call.call_id, method, LIMIT);
        assert_eq!(r.status, 505, "{} {}", r.status, r.reason);
        assert_eq!(r.reason, "Version Not Supported");
        assert!(r.to_tag().is_some());
    }
    record_normal_call(&server, &mut link);
}

#[test]
fn hostile_sdp_label_and_metadata_text_are_escaped_in_the_log() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let ip: IpAddr = call.local.ip();
    let evil_label = "evil\x1b[31m\rX\x1b]0;t\x07";
    let sdp = sdp_offer(
        ip,
        1,
        &[MLine::audio(40_000, "1"), MLine::audio(40_002, evil_label)],
    );
    // The metadata: a name with ESC (not XML: dropped, with a warning) and a stream label
    // with a CR (a character reference survives XML parsing) that no m-line carries.
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0)
        .replacen("<name>Caller</name>", "<name>Mal\x1b[2Jlory</name>", 1)
        .replacen("<label>2</label>", "<label>2&#13;x</label>", 1);
    let (ct, body) = siprec_body(&sdp, &xml);
    let invite = call.invite(&branch(), &[], &ct, &body);
    record_complete(&server, &mut link, &call, &invite);

    let lines = assert_clean_log(&server);
    let all = lines.join("\n");
    let ended = lines
        .iter()
        .find(|l| l.contains("stream ended") && l.contains("label=evil"))
        .unwrap_or_else(|| panic!("no stream ended line for the label: {all}"));
    assert!(
        ended.contains(r"label=evil\x1b[31m\rX\x1b]0;t\x07"),
        "{ended}"
    );
    let warned = |needle: &str| {
        lines
            .iter()
            .any(|l| l.contains("recording warning") && l.contains(needle))
    };
    assert!(warned(r"(label evil\x1b[31m\rX\x1b]0;t\x07)"), "{all}");
    assert!(warned(r"has label 2\rx"), "{all}");
    assert!(warned("metadata repaired: 1 character(s)"), "{all}");
}

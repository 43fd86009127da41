//! What the real server answers, over UDP: OPTIONS capabilities (RFC 3261 11.2), refusals
//! (501, 400, 415, 488, 420, 481) and the content of the 200 OK to a SIPREC INVITE
//! (RFC 7866 6.2, 7.2; RFC 3261 12.1.1).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{
    Message, Response, Server, SipLink, SrcCall, UdpLink, answer_media, branch, establish,
    final_response, hang_up, list, metadata_xml, multipart, wait_final,
};

const LIMIT: Duration = Duration::from_secs(5);

fn list_items(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .collect()
}

/// The first final response for `call_id`, whatever its CSeq (a 400 may echo a broken one).
fn any_final(link: &mut UdpLink, call_id: &str) -> Response {
    let deadline = Instant::now() + LIMIT;
    while let Some((_, _, msg)) = link.recv(deadline) {
        if let Message::Response(r) = msg {
            if r.status >= 200 && r.call_id() == Some(call_id) {
                return r;
            }
        }
    }
    panic!("no final response for {call_id}");
}

/// Send an INVITE, expect a final `status`, ACK it (non-2xx ACK: same branch).
fn refused_invite(link: &mut UdpLink, extra: &[(&str, &str)], ct: &str, body: &[u8]) -> Response {
    let call = link.call();
    let b = branch();
    link.send(&call.invite(&b, extra, ct, body));
    let r = final_response(link, &call.call_id, "INVITE", LIMIT);
    link.send(&call.ack(&b, &r.to_tag().expect("To tag on a final response")));
    r
}

#[test]
fn options_advertises_methods_types_and_siprec() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    link.send(&call.request("OPTIONS", 1, &branch(), None, &[], None));
    let r = final_response(&mut link, &call.call_id, "OPTIONS", LIMIT);
    assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
    assert!(r.to_tag().is_some(), "To tag on an out-of-dialog 200");
    let allow = list_items(r.header("Allow"));
    for m in ["invite", "ack", "cancel", "bye", "options", "update"] {
        assert!(allow.contains(&m.to_owned()), "Allow lacks {m}: {allow:?}");
    }
    let accept = list_items(r.header("Accept"));
    for t in ["application/sdp", "application/rs-metadata+xml"] {
        assert!(
            accept.contains(&t.to_owned()),
            "Accept lacks {t}: {accept:?}"
        );
    }
    let supported = list_items(r.header("Supported"));
    assert!(
        supported.contains(&"siprec".to_owned()),
        "Supported: {supported:?}"
    );
}

#[test]
fn unknown_method_gets_501() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    link.send(&call.request("FOO", 1, &branch(), None, &[], None));
    let r = final_response(&mut link, &call.call_id, "FOO", LIMIT);
    assert_eq!(r.status, 501, "{} {}", r.status, r.reason);
}

#[test]
fn malformed_requests_get_400_naming_the_problem() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);

    // Garbage CSeq.
    let call = link.call();
    let good = String::from_utf8(call.request("OPTIONS", 1, &branch(), None, &[], None)).unwrap();
    let bad = good.replace("CSeq: 1 OPTIONS", "CSeq: banana OPTIONS");
    assert_ne!(good, bad);
    link.send(bad.as_bytes());
    let raw = link
        .recv_raw(Instant::now() + LIMIT)
        .expect("no answer to a garbage CSeq");
    let status_line = raw.lines().next().unwrap_or_default();
    assert!(status_line.starts_with("SIP/2.0 400 "), "{raw}");
    assert!(status_line.contains("CSeq"), "reason phrase: {status_line}");
    assert!(raw.contains(&call.call_id), "Call-ID copied: {raw}");
    assert!(
        raw.contains("CSeq: banana OPTIONS"),
        "CSeq copied as received: {raw}"
    );

    // CSeq method differing from the request method.
    let call = link.call();
    let good = String::from_utf8(call.request("OPTIONS", 1, &branch(), None, &[], None)).unwrap();
    link.send(good.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE").as_bytes());
    let r = any_final(&mut link, &call.call_id);
    assert_eq!(r.status, 400, "{} {}", r.status, r.reason);
    assert!(r.reason.contains("CSeq"), "reason phrase {:?}", r.reason);

    // Still serving after all that.
    let call = link.call();
    link.send(&call.request("OPTIONS", 1, &branch(), None, &[], None));
    let r = final_response(&mut link, &call.call_id, "OPTIONS", LIMIT);
    assert_eq!(r.status, 200);
}

#[test]
fn request_without_call_id_gets_400_naming_it() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    // A 400 naming the missing header, built from what the request has: the client matches
    // it by Via branch and CSeq (RFC 3261 17.1.3), it cannot copy a Call-ID that is not there.
    let call = link.call();
    let good = String::from_utf8(call.request("OPTIONS", 1, &branch(), None, &[], None)).unwrap();
    let bad = good.replace(&format!("Call-ID: {}\r\n", call.call_id), "");
    assert_ne!(good, bad);
    link.send(bad.as_bytes());
    let deadline = Instant::now() + Duration::from_millis(1500);
    // The answer cannot carry a Call-ID, so it is read as text, not parsed strictly.
    let raw = link
        .recv_raw(deadline)
        .expect("no response to a request without Call-ID");
    let status_line = raw.lines().next().unwrap_or_default();
    assert!(status_line.starts_with("SIP/2.0 400 "), "{raw}");
    assert!(
        status_line.contains("Call-ID"),
        "reason phrase {status_line:?}"
    );
    assert!(raw.contains("CSeq: 1 OPTIONS"), "{raw}");
}

#[test]
fn refusals_415_488_420_481() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let ip = link.local().ip();

    // A body that is only text/plain, bare or as the only part of a multipart: 415 + Accept.
    let (mct, mbody) = multipart(&[("text/plain", None, b"hello")]);
    for (ct, body) in [("text/plain", b"hello".to_vec()), (mct.as_str(), mbody)] {
        let r = refused_invite(&mut link, &[], ct, &body);
        assert_eq!(r.status, 415, "{ct}: {} {}", r.status, r.reason);
        let accept = list_items(r.header("Accept"));
        assert!(
            accept.contains(&"application/sdp".to_owned()),
            "Accept: {accept:?}"
        );
    }

    // Nothing recordable offered: only video, or only G.729.
    let xml = metadata_xml("sip:a@example.com", "sip:b@example.com", 0);
    for m in [
        "m=video 40000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=label:1\r\na=sendonly\r\n",
        "m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\na=label:1\r\na=sendonly\r\n",
    ] {
        let sdp = format!("v=0\r\no=src 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n{m}");
        let (ct, body) = common::siprec_body(&sdp, &xml);
        let r = refused_invite(&mut link, &[], &ct, &body);
        assert_eq!(r.status, 488, "{m}: {} {}", r.status, r.reason);
    }

    // An option tag we do not know.
    let sdp = common::offer_sdp(ip, [40_000, 40_002]);
    let (ct, body) = common::siprec_body(&sdp, &xml);
    let r = refused_invite(&mut link, &[("Require", "foo")], &ct, &body);
    assert_eq!(r.status, 420, "{} {}", r.status, r.reason);
    assert_eq!(list_items(r.header("Unsupported")), ["foo"]);

    // BYE for a dialog that does not exist, with or without a To tag.
    for to_tag in [Some("nosuchdialog"), None] {
        let call = link.call();
        link.send(&call.request("BYE", 2, &branch(), to_tag, &[], None));
        let r = final_response(&mut link, &call.call_id, "BYE", LIMIT);
        assert_eq!(r.status, 481, "{to_tag:?}: {} {}", r.status, r.reason);
    }

    // None of that created a recording.
    std::thread::sleep(Duration::from_millis(200));
    let l = list(server.data_dir());
    assert_eq!(l.as_array().unwrap().len(), 0, "{l:#}");
}

#[test]
fn the_200_ok_answers_the_siprec_offer() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call: SrcCall = link.call();
    let rr = ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr;ftag=x>"];
    let invite = call.siprec_invite(
        &branch(),
        &[("Record-Route", rr[0]), ("Record-Route", rr[1])],
    );
    let ok = establish(&mut link, &call, &invite);

    assert!(ok.to_tag().is_some_and(|t| !t.is_empty()), "To tag");
    let contact = ok.header("Contact").expect("Contact");
    assert!(contact.contains("+sip.srs"), "Contact {contact}");
    assert_eq!(
        ok.headers.get_all("Record-Route"),
        rr,
        "Record-Route copied in order"
    );
    let via = ok.top_via().expect("Via");
    assert_eq!(
        via.rport(),
        Some(Some(link.local().port())),
        "rport filled in"
    );

    let ct = ok
        .header("Content-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(ct.starts_with("application/sdp"), "Content-Type {ct}");
    let media = answer_media(&ok.body);
    assert_eq!(media.len(), 2, "{}", String::from_utf8_lossy(&ok.body));
    let mut ports = Vec::new();
    for ((addr, attrs), label) in media.iter().zip(["1", "2"]) {
        assert!(
            attrs.iter().any(|a| a == "recvonly"),
            "m-line {label}: {attrs:?}"
        );
        assert!(!attrs.iter().any(|a| a == "sendonly" || a == "sendrecv"));
        assert!(
            attrs.contains(&format!("label:{label}")),
            "m-line {label}: {attrs:?}"
        );
        assert!(addr.port() != 0 && addr.port() % 2 == 0, "RTP port {addr}");
        assert!(addr.ip().is_loopback(), "media address {addr}");
        ports.push(addr.port());
    }
    assert_ne!(ports[0], ports[1], "distinct ports");

    hang_up(&mut link, &call, &ok);
    let l = wait_final(server.data_dir(), 1);
    // No RTP was sent: the recording ends `empty` (a normal end, not `failed`).
    assert_eq!(l[0]["state"], "empty", "{:#}", l[0]);
}

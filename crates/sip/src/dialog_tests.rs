//! Dialog tests.

use super::*;
use crate::message::Message;

fn peer() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "192.0.2.7:5060".parse().unwrap(),
        conn: 0,
    }
}

fn invite() -> Request {
    let raw = b"INVITE sip:srs@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK1\r\n\
Record-Route: <sip:p1.example.com;lr>\r\n\
Record-Route: <sip:p2.example.com;lr>\r\n\
From: \"SRC\" <sip:src@example.com>;tag=src1\r\n\
To: <sip:srs@example.com>\r\n\
Call-ID: dlg-1\r\nCSeq: 10 INVITE\r\n\
Contact: <sip:src@192.0.2.7:5060;transport=udp>;+sip.src\r\nContent-Length: 0\r\n\r\n";
    match Message::parse(raw).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => panic!(),
    }
}

#[test]
fn uas_dialog_builds_bye() {
    let inv = invite();
    let mut d = Dialog::uas(&inv, "srs9", "<sip:srs@192.0.2.1:5060>;+sip.srs", peer()).unwrap();
    assert_eq!(
        d.id(),
        &DialogId {
            call_id: "dlg-1".into(),
            local_tag: "srs9".into(),
            remote_tag: "src1".into()
        }
    );
    assert_eq!(d.remote_target(), "sip:src@192.0.2.7:5060;transport=udp");
    let bye = d.request(Method::Bye, Transport::Udp, "192.0.2.1:5060", "z9hG4bKb1");
    assert_eq!(bye.uri, "sip:src@192.0.2.7:5060;transport=udp");
    assert_eq!(
        bye.headers.get_all("Route"),
        vec!["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    assert_eq!(bye.from_tag().as_deref(), Some("srs9"));
    assert_eq!(bye.to_tag().as_deref(), Some("src1"));
    assert_eq!(bye.cseq().unwrap().seq, 1);
    assert_eq!(bye.top_via().unwrap().branch(), Some("z9hG4bKb1"));
    assert!(bye.header("Contact").is_none());
    // The request must survive our own strict parser.
    assert!(Message::parse(&bye.to_bytes()).is_ok());
    // DialogId from the BYE as the peer would see it is the mirror image.
    let upd = d.request(
        Method::Update,
        Transport::Udp,
        "192.0.2.1:5060",
        "z9hG4bKb2",
    );
    assert_eq!(upd.cseq().unwrap().seq, 2);
    assert_eq!(
        upd.header("Contact"),
        Some("<sip:srs@192.0.2.1:5060>;+sip.srs")
    );
}

#[test]
fn remote_cseq_checks() {
    let inv = invite();
    let mut d = Dialog::uas(&inv, "srs9", "<sip:srs@h>", peer()).unwrap();
    let mut req = inv.clone();
    req.headers.set("To", "<sip:srs@example.com>;tag=srs9");
    assert_eq!(DialogId::for_uas_request(&req).as_ref(), Some(d.id()));
    let err = d.check_remote_cseq(&req).unwrap_err();
    assert_eq!(err.status, 500, "equal CSeq for a new request");
    req.method = Method::Ack;
    req.headers.set("CSeq", "10 ACK");
    assert!(d.check_remote_cseq(&req).is_ok());
    req.method = Method::Bye;
    req.headers.set("CSeq", "11 BYE");
    assert!(d.check_remote_cseq(&req).is_ok());
    req.headers.set("CSeq", "5 BYE");
    assert_eq!(d.check_remote_cseq(&req).unwrap_err().status, 500);
    assert_eq!(d.remote_seq(), Some(11));
}

#[test]
fn uac_dialog_reverses_route_set_and_acks_with_invite_cseq() {
    let inv = invite();
    let mut ok = Response::for_request(&inv, 200, "OK").with_to_tag("far");
    ok.copy_record_route(&inv);
    ok.headers.push("Contact", "<sip:srs@198.51.100.1>");
    let mut d = Dialog::uac(&inv, &ok, peer()).unwrap();
    assert_eq!(DialogId::for_uac_response(&ok).as_ref(), Some(d.id()));
    assert_eq!(
        d.route_set(),
        ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    );
    let ack = d.request(Method::Ack, Transport::Tcp, "192.0.2.7", "z9hG4bKa");
    assert_eq!(ack.cseq().unwrap().to_string(), "10 ACK");
    assert_eq!(ack.uri, "sip:srs@198.51.100.1");
    assert_eq!(ack.top_via().unwrap().transport, "TCP");
    let reinv = d.request(Method::Invite, Transport::Tcp, "192.0.2.7", "z9hG4bKr");
    assert_eq!(reinv.cseq().unwrap().seq, 11);
    assert_eq!(reinv.header("Contact"), inv.header("Contact"));
    let ack2 = d.request(Method::Ack, Transport::Tcp, "192.0.2.7", "z9hG4bKa2");
    assert_eq!(ack2.cseq().unwrap().seq, 11);
}

#[test]
fn strict_route_puts_first_route_in_request_uri() {
    let mut inv = invite();
    inv.headers.remove("Record-Route");
    inv.headers.push(
        "Record-Route",
        "<sip:strict.example.com>, <sip:p2.example.com;lr>",
    );
    let mut d = Dialog::uas(&inv, "t", "<sip:srs@h>", peer()).unwrap();
    let bye = d.request(Method::Bye, Transport::Udp, "h", "z9hG4bKs");
    assert_eq!(bye.uri, "sip:strict.example.com");
    assert_eq!(
        bye.headers.get_all("Route"),
        vec![
            "<sip:p2.example.com;lr>",
            "<sip:src@192.0.2.7:5060;transport=udp>"
        ]
    );
}

#[test]
fn missing_pieces_are_errors() {
    let mut inv = invite();
    inv.headers.remove("Contact");
    assert_eq!(
        Dialog::uas(&inv, "t", "", peer()),
        Err(DialogError::BadHeader("Contact"))
    );
    let inv = invite();
    let ok = Response::for_request(&inv, 200, "OK");
    assert_eq!(
        Dialog::uac(&inv, &ok, peer()),
        Err(DialogError::MissingTag("To"))
    );
    assert!(DialogId::for_uas_request(&inv).is_none());
}

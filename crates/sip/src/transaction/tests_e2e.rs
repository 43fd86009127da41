//! A UAC endpoint and a UAS endpoint wired back to back: INVITE, 200, ACK, BYE.

use std::time::Instant;

use super::tests_server::{drain, ms};
use crate::{
    Dialog, Endpoint, EndpointConfig, Event, Method, Output, Peer, Request, Response, Transport,
};

fn peer(port: u16) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: format!("192.0.2.1:{port}").parse().unwrap(),
        conn: 0,
    }
}

/// Deliver every Transmit from `src` to `dst`; return the events of `src`.
fn pump(src: &mut Endpoint, dst: &mut Endpoint, now: Instant, src_peer: Peer) -> Vec<Event> {
    let mut evs = Vec::new();
    for o in drain(src) {
        match o {
            Output::Transmit { bytes, .. } => dst.handle_input(now, src_peer, &bytes),
            Output::Event(e) => evs.push(e),
        }
    }
    evs
}

#[test]
fn call_setup_and_teardown() {
    let (uac_peer, uas_peer) = (peer(5070), peer(5060));
    let mut uac = Endpoint::new(EndpointConfig::default());
    let mut uas = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();

    let mut invite = Request::new(Method::Invite, "sip:srs@192.0.2.1:5060");
    let h = &mut invite.headers;
    h.push("Via", "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKe2e1;rport");
    h.push("Max-Forwards", "70");
    h.push("From", "<sip:src@example.com>;tag=src1");
    h.push("To", "<sip:srs@example.com>");
    h.push("Call-ID", "e2e-1");
    h.push("CSeq", "1 INVITE");
    h.push("Contact", "<sip:src@192.0.2.1:5070>;+sip.src");
    h.push("Require", "siprec");
    let ctx = uac.send_request(t0, uas_peer, invite.clone());
    pump(&mut uac, &mut uas, t0, uac_peer);

    // UAS: 100 went out automatically; the TU sees the INVITE and answers 200.
    let evs = pump(&mut uas, &mut uac, t0, uas_peer);
    let Some(Event::Request { tx, request, from }) = evs.into_iter().next() else {
        panic!()
    };
    let mut uas_dlg =
        Dialog::uas(&request, "srs1", "<sip:srs@192.0.2.1:5060>;+sip.srs", from).unwrap();
    let mut ok = Response::for_request(&request, 200, "OK").with_to_tag("srs1");
    ok.headers
        .push("Contact", "<sip:srs@192.0.2.1:5060>;+sip.srs");
    uas.respond(t0 + ms(10), tx, ok).unwrap();
    pump(&mut uas, &mut uac, t0 + ms(10), uas_peer);

    // UAC: 100 then 200 reach the TU; it builds the dialog and ACKs statelessly.
    let evs = pump(&mut uac, &mut uas, t0 + ms(10), uac_peer);
    let statuses: Vec<u16> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Response { tx, response } if *tx == ctx => Some(response.status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, vec![100, 200]);
    let Some(Event::Response { response: ok, .. }) = evs.last() else {
        panic!()
    };
    let mut uac_dlg = Dialog::uac(&invite, ok, uas_peer).unwrap();
    assert_eq!(uac_dlg.id().local_tag, uas_dlg.id().remote_tag);
    let ack = uac_dlg.request(Method::Ack, Transport::Udp, "192.0.2.1:5070", "z9hG4bKe2e2");
    uac.send_stateless(uac_dlg.peer(), crate::Message::Request(ack));
    pump(&mut uac, &mut uas, t0 + ms(20), uac_peer);
    let evs = pump(&mut uas, &mut uac, t0 + ms(20), uas_peer);
    assert!(
        matches!(evs.as_slice(), [Event::Ack { matched: true, .. }]),
        "{evs:?}"
    );
    uas.handle_timeout(t0 + ms(600));
    assert!(
        drain(&mut uas).is_empty(),
        "no 2xx retransmission after the ACK"
    );

    // UAS hangs up.
    let bye = uas_dlg.request(Method::Bye, Transport::Udp, "192.0.2.1:5060", "z9hG4bKe2e3");
    let btx = uas.send_request(t0 + ms(30), uas_dlg.peer(), bye);
    pump(&mut uas, &mut uac, t0 + ms(30), uas_peer);
    let evs = pump(&mut uac, &mut uas, t0 + ms(30), uac_peer);
    let Some(Event::Request { tx, request, .. }) = evs.into_iter().next() else {
        panic!()
    };
    assert_eq!(request.method, Method::Bye);
    uac_dlg.check_remote_cseq(&request).unwrap();
    uac.respond(t0 + ms(40), tx, Response::for_request(&request, 200, "OK"))
        .unwrap();
    pump(&mut uac, &mut uas, t0 + ms(40), uac_peer);
    let evs = pump(&mut uas, &mut uac, t0 + ms(40), uas_peer);
    assert!(
        matches!(&evs[..], [Event::Response { tx, response }] if *tx == btx && response.status == 200)
    );

    // Everything drains away once the timers run out.
    uac.handle_timeout(t0 + ms(60_000));
    uas.handle_timeout(t0 + ms(60_000));
    assert_eq!(
        (uac.active_transactions(), uas.active_transactions()),
        (0, 0)
    );
}

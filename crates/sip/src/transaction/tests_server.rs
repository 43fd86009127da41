//! Server transaction tests driven by a fake clock (base Instant + offsets).

use std::time::{Duration, Instant};

use crate::{
    Endpoint, EndpointConfig, Event, Message, Output, Peer, Request, Response, ServerTxId,
    Transport,
};

pub(super) fn udp() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "192.0.2.7:5062".parse().unwrap(),
        conn: 0,
    }
}

pub(super) fn tcp() -> Peer {
    Peer {
        transport: Transport::Tcp,
        addr: "192.0.2.7:40000".parse().unwrap(),
        conn: 9,
    }
}

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn drain(ep: &mut Endpoint) -> Vec<Output> {
    std::iter::from_fn(|| ep.poll_output()).collect()
}

pub(super) fn sent(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Transmit { bytes, .. } => Some(
                String::from_utf8_lossy(bytes)
                    .lines()
                    .next()
                    .unwrap()
                    .to_string(),
            ),
            Output::Event(_) => None,
        })
        .collect()
}

fn events(outs: Vec<Output>) -> Vec<Event> {
    outs.into_iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            Output::Transmit { .. } => None,
        })
        .collect()
}

fn request(method: &str, branch: &str, to_tag: &str, cseq: u32) -> Vec<u8> {
    let to_tag = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    format!(
        "{method} sip:srs@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch={branch};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:src@example.com>;tag=f1\r\nTo: <sip:srs@example.com>{to_tag}\r\n\
Call-ID: call-1\r\nCSeq: {cseq} {method}\r\nContact: <sip:src@192.0.2.7:5062>;+sip.src\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Feed an INVITE; returns the tx and the parsed request.
fn invite(ep: &mut Endpoint, now: Instant, peer: Peer) -> (ServerTxId, Request) {
    ep.handle_input(now, peer, &request("INVITE", "z9hG4bKinv1", "", 1));
    let outs = drain(ep);
    assert_eq!(sent(&outs), vec!["SIP/2.0 100 Trying"]);
    match events(outs).as_slice() {
        [Event::Request { tx, request, .. }] => (*tx, request.clone()),
        other => panic!("expected one Request event, got {other:?}"),
    }
}

#[test]
fn invite_100_first_and_via_stamped() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let (tx, req) = invite(&mut ep, t0, udp());
    let via = req.top_via().unwrap();
    assert_eq!(via.received(), Some("192.0.2.7"));
    assert_eq!(via.rport(), Some(Some(5062)));
    assert_eq!(ep.server_tx_request(tx).unwrap().call_id(), Some("call-1"));
    assert_eq!(ep.active_transactions(), 1);
}

#[test]
fn ok_retransmitted_until_ack_then_removed() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let (tx, req) = invite(&mut ep, t0, udp());
    let ok = Response::for_request(&req, 200, "OK").with_to_tag("srs1");
    ep.respond(t0, tx, ok).unwrap();
    assert_eq!(sent(&drain(&mut ep)), vec!["SIP/2.0 200 OK"]);
    let mut times = Vec::new();
    let mut now = t0;
    while let Some(t) = ep.poll_timeout() {
        if t > t0 + ms(12_000) {
            break;
        }
        now = t;
        ep.handle_timeout(now);
        if !sent(&drain(&mut ep)).is_empty() {
            times.push(now - t0);
        }
    }
    assert_eq!(
        times,
        vec![ms(500), ms(1500), ms(3500), ms(7500), ms(11_500)]
    );
    // ACK for the 2xx: new branch, To tag = ours.
    ep.handle_input(now, udp(), &request("ACK", "z9hG4bKack1", "srs1", 1));
    let evs = events(drain(&mut ep));
    assert!(
        matches!(evs.as_slice(), [Event::Ack { matched: true, .. }]),
        "{evs:?}"
    );
    ep.handle_timeout(now + ms(5000));
    assert!(sent(&drain(&mut ep)).is_empty(), "ACK stops retransmission");
    // INVITE retransmission in Accepted: answered with the 2xx, no new event.
    ep.handle_input(now, udp(), &request("INVITE", "z9hG4bKinv1", "", 1));
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["SIP/2.0 200 OK"]);
    assert!(events(outs).is_empty());
    ep.handle_timeout(t0 + ms(32_000));
    assert!(events(drain(&mut ep)).is_empty(), "no AckTimeout after ACK");
    assert_eq!(ep.active_transactions(), 0);
}

#[test]
fn ack_timeout_at_64_t1() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let (tx, req) = invite(&mut ep, t0, tcp());
    ep.respond(
        t0,
        tx,
        Response::for_request(&req, 200, "OK").with_to_tag("a"),
    )
    .unwrap();
    drain(&mut ep);
    ep.handle_timeout(t0 + ms(500));
    assert_eq!(
        sent(&drain(&mut ep)),
        vec!["SIP/2.0 200 OK"],
        "2xx retransmitted on TCP too"
    );
    ep.handle_timeout(t0 + ms(31_999));
    assert!(events(drain(&mut ep)).is_empty());
    ep.handle_timeout(t0 + ms(32_000));
    let evs = events(drain(&mut ep));
    assert_eq!(
        evs,
        vec![Event::AckTimeout {
            tx,
            call_id: "call-1".into()
        }]
    );
    assert_eq!(ep.active_transactions(), 0);
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn invite_retransmission_gets_same_response_and_no_event() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let (tx, req) = invite(&mut ep, t0, udp());
    ep.handle_input(
        t0 + ms(500),
        udp(),
        &request("INVITE", "z9hG4bKinv1", "", 1),
    );
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["SIP/2.0 100 Trying"]);
    assert!(events(outs).is_empty());
    ep.respond(
        t0,
        tx,
        Response::for_request(&req, 180, "Ringing").with_to_tag("r"),
    )
    .unwrap();
    drain(&mut ep);
    ep.handle_input(
        t0 + ms(900),
        udp(),
        &request("INVITE", "z9hG4bKinv1", "", 1),
    );
    assert_eq!(sent(&drain(&mut ep)), vec!["SIP/2.0 180 Ringing"]);
}

#[test]
fn cancel_then_487_and_ack_absorbed() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let (tx, req) = invite(&mut ep, t0, udp());
    ep.handle_input(
        t0 + ms(100),
        udp(),
        &request("CANCEL", "z9hG4bKinv1", "", 1),
    );
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["SIP/2.0 200 OK"]);
    assert_eq!(
        events(outs),
        vec![Event::Cancelled {
            tx,
            call_id: "call-1".into()
        }]
    );
    ep.respond(
        t0 + ms(100),
        tx,
        Response::for_request(&req, 487, "Request Terminated").with_to_tag("z"),
    )
    .unwrap();
    assert_eq!(
        sent(&drain(&mut ep)),
        vec!["SIP/2.0 487 Request Terminated"]
    );
    ep.handle_timeout(t0 + ms(600));
    assert_eq!(
        sent(&drain(&mut ep)),
        vec!["SIP/2.0 487 Request Terminated"],
        "Timer G"
    );
    ep.handle_input(t0 + ms(700), udp(), &request("ACK", "z9hG4bKinv1", "z", 1));
    assert!(drain(&mut ep).is_empty(), "ACK for non-2xx absorbed");
    ep.handle_timeout(t0 + ms(1600));
    assert!(drain(&mut ep).is_empty(), "no Timer G after ACK");
    ep.handle_timeout(t0 + ms(40_000));
    assert_eq!(
        ep.active_transactions(),
        0,
        "Timer I and Timer J removed both"
    );
}

#[test]
fn cancel_without_invite_gets_481() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    ep.handle_input(
        Instant::now(),
        tcp(),
        &request("CANCEL", "z9hG4bKnone", "", 1),
    );
    let outs = drain(&mut ep);
    assert_eq!(
        sent(&outs),
        vec!["SIP/2.0 481 Call/Transaction Does Not Exist"]
    );
    assert!(events(outs).is_empty());
    assert_eq!(ep.active_transactions(), 0);
}

#[test]
fn non_invite_retransmissions_and_timer_j() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    ep.handle_input(t0, udp(), &request("OPTIONS", "z9hG4bKo1", "", 5));
    let evs = events(drain(&mut ep));
    let Event::Request { tx, request, .. } = &evs[0] else {
        panic!()
    };
    ep.handle_input(t0 + ms(500), udp(), &request_bytes_again());
    assert!(drain(&mut ep).is_empty(), "absorbed in Trying");
    ep.respond(
        t0 + ms(600),
        *tx,
        Response::for_request(request, 200, "OK").with_to_tag("o"),
    )
    .unwrap();
    assert_eq!(sent(&drain(&mut ep)), vec!["SIP/2.0 200 OK"]);
    ep.handle_input(t0 + ms(700), udp(), &request_bytes_again());
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["SIP/2.0 200 OK"]);
    assert!(events(outs).is_empty());
    assert!(
        ep.respond(t0, *tx, Response::for_request(request, 500, "X"))
            .is_err()
    );
    ep.handle_timeout(t0 + ms(600) + ms(32_000));
    assert_eq!(ep.active_transactions(), 0);
}

fn request_bytes_again() -> Vec<u8> {
    request("OPTIONS", "z9hG4bKo1", "", 5)
}

#[test]
fn unknown_method_delivered_and_unanswered_non_invite_expires() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    ep.handle_input(t0, tcp(), &request("FOO", "z9hG4bKf", "", 2));
    let evs = events(drain(&mut ep));
    assert!(matches!(&evs[0], Event::Request { request, .. } if request.method.as_str() == "FOO"));
    ep.handle_timeout(t0 + ms(32_000));
    assert_eq!(ep.active_transactions(), 0);
}

#[test]
fn tcp_non_2xx_no_timer_g_and_ack_terminates() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let (tx, req) = invite(&mut ep, t0, tcp());
    ep.respond(
        t0,
        tx,
        Response::for_request(&req, 486, "Busy Here").with_to_tag("b"),
    )
    .unwrap();
    drain(&mut ep);
    ep.handle_timeout(t0 + ms(500));
    assert!(drain(&mut ep).is_empty());
    ep.handle_input(t0 + ms(600), tcp(), &request("ACK", "z9hG4bKinv1", "b", 1));
    assert!(drain(&mut ep).is_empty());
    assert_eq!(ep.active_transactions(), 0);
}

#[test]
fn unmatched_ack_reported() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    ep.handle_input(
        Instant::now(),
        udp(),
        &request("ACK", "z9hG4bKzz", "nobody", 3),
    );
    let evs = events(drain(&mut ep));
    assert!(matches!(
        evs.as_slice(),
        [Event::Ack { matched: false, .. }]
    ));
}

#[test]
fn malformed_requests() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let bad = String::from_utf8(request("INVITE", "z9hG4bKm", "", 1))
        .unwrap()
        .replace("1 INVITE", "1 BYE");
    ep.handle_input(Instant::now(), udp(), bad.as_bytes());
    let outs = drain(&mut ep);
    assert_eq!(
        sent(&outs),
        vec!["SIP/2.0 400 Bad Request - CSeq Method Mismatch"]
    );
    let Output::Transmit { bytes, .. } = &outs[0] else {
        panic!()
    };
    let Message::Response(r) = Message::parse(bytes).unwrap() else {
        panic!()
    };
    assert!(r.to_tag().is_some());
    assert!(matches!(
        events(outs).as_slice(),
        [Event::Malformed { answered: true, .. }]
    ));
    ep.handle_input(
        Instant::now(),
        udp(),
        b"INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n",
    );
    let outs = drain(&mut ep);
    assert!(sent(&outs).is_empty());
    assert!(matches!(
        events(outs).as_slice(),
        [Event::Malformed {
            answered: false,
            ..
        }]
    ));
    ep.handle_input(Instant::now(), udp(), b"\x00\xff garbage");
    assert!(matches!(
        events(drain(&mut ep)).as_slice(),
        [Event::Malformed {
            answered: false,
            ..
        }]
    ));
    assert_eq!(ep.active_transactions(), 0);
}

#[test]
fn rfc2543_retransmission_matched_without_cookie() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let raw = String::from_utf8(request("INVITE", "old1", "", 7))
        .unwrap()
        .replace(";branch=old1", "");
    ep.handle_input(t0, udp(), raw.as_bytes());
    assert_eq!(events(drain(&mut ep)).len(), 1);
    ep.handle_input(t0 + ms(500), udp(), raw.as_bytes());
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["SIP/2.0 100 Trying"]);
    assert!(events(outs).is_empty());
}

#[test]
fn cancel_200_reuses_provisional_to_tag_and_tcp_via_stamped() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let (tx, req) = invite(&mut ep, t0, tcp());
    assert_eq!(req.top_via().unwrap().received(), Some("192.0.2.7"));
    assert_eq!(req.top_via().unwrap().rport(), Some(Some(40000)));
    ep.respond(
        t0,
        tx,
        Response::for_request(&req, 180, "Ringing").with_to_tag("early1"),
    )
    .unwrap();
    drain(&mut ep);
    ep.handle_input(t0, tcp(), &request("CANCEL", "z9hG4bKinv1", "", 1));
    let outs = drain(&mut ep);
    let Output::Transmit { bytes, to } = &outs[0] else {
        panic!()
    };
    assert_eq!(*to, tcp());
    let Message::Response(r) = Message::parse(bytes).unwrap() else {
        panic!()
    };
    assert_eq!((r.status, r.to_tag().as_deref()), (200, Some("early1")));
    assert_eq!(
        ep.active_transactions(),
        1,
        "CANCEL tx gone at once on TCP (Timer J = 0)"
    );
}

#[test]
fn endpoint_and_framer_survive_mutated_input() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let base = request("INVITE", "z9hG4bKfz", "", 1);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut pending_invites = std::collections::HashSet::new();
    for round in 0..3000u64 {
        let mut m = base.clone();
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let pos = (seed % m.len() as u64) as usize;
            m[pos] = (seed >> 32) as u8;
        }
        let peer = if round % 2 == 0 { udp() } else { tcp() };
        ep.handle_input(t0 + ms(round), peer, &m);
        for e in events(drain(&mut ep)) {
            if let Event::Request { tx, request, .. } = e {
                if request.method == crate::Method::Invite {
                    pending_invites.insert(tx);
                }
            }
        }
        let mut framer = crate::StreamFramer::new();
        framer.push(&m);
        while let Some(Ok(_)) = framer.next_message() {}
    }
    ep.handle_timeout(t0 + ms(100_000));
    drain(&mut ep);
    // Only the unanswered INVITEs remain (the TU owns them); all else drained away.
    assert!(!pending_invites.is_empty());
    assert_eq!(ep.active_transactions(), pending_invites.len());
}

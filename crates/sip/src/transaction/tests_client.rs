//! Client transaction tests driven by a fake clock.

use std::time::{Duration, Instant};

use super::tests_server::{drain, ms, sent, tcp, udp};
use crate::{Endpoint, EndpointConfig, Event, Message, Method, Output, Request, Response};

fn out_request(method: Method, branch: &str) -> Request {
    let mut r = Request::new(method.clone(), "sip:srs@192.0.2.1");
    r.headers
        .push("Via", format!("SIP/2.0/UDP 192.0.2.7:5062;branch={branch}"));
    r.headers.push("Max-Forwards", "70");
    r.headers.push("From", "<sip:src@example.com>;tag=u1");
    r.headers.push("To", "<sip:srs@example.com>");
    r.headers.push("Call-ID", "uac-1");
    r.headers.push("CSeq", format!("1 {method}"));
    r.headers.push("Route", "<sip:proxy.example.com;lr>");
    r
}

fn answer(req: &Request, status: u16) -> Vec<u8> {
    Response::for_request(req, status, "X")
        .with_to_tag("s9")
        .to_bytes()
}

fn events(outs: &[Output]) -> Vec<&Event> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            Output::Transmit { .. } => None,
        })
        .collect()
}

/// Run the timers up to `until`, returning (offset, first lines sent) for each firing.
fn run(ep: &mut Endpoint, t0: Instant, until: Duration) -> Vec<(Duration, Vec<String>, usize)> {
    let mut log = Vec::new();
    while let Some(t) = ep.poll_timeout() {
        if t > t0 + until {
            break;
        }
        ep.handle_timeout(t);
        let outs = drain(ep);
        log.push((t - t0, sent(&outs), events(&outs).len()));
    }
    log
}

#[test]
fn client_invite_timer_a_and_b() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let tx = ep.send_request(t0, udp(), out_request(Method::Invite, "z9hG4bKc1"));
    assert_eq!(
        sent(&drain(&mut ep)),
        vec!["INVITE sip:srs@192.0.2.1 SIP/2.0"]
    );
    let log = run(&mut ep, t0, ms(40_000));
    let retrans: Vec<Duration> = log
        .iter()
        .filter(|l| !l.1.is_empty())
        .map(|l| l.0)
        .collect();
    // Timer A: T1, then doubling without cap: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s.
    assert_eq!(
        retrans,
        vec![
            ms(500),
            ms(1500),
            ms(3500),
            ms(7500),
            ms(15_500),
            ms(31_500)
        ]
    );
    let last = log.last().unwrap();
    assert_eq!(last.0, ms(32_000), "Timer B at 64*T1");
    ep.handle_timeout(t0 + ms(32_000));
    assert_eq!(ep.active_transactions(), 0);
    let _ = tx;
}

#[test]
fn client_invite_timer_b_event() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let tx = ep.send_request(t0, tcp(), out_request(Method::Invite, "z9hG4bKc2"));
    drain(&mut ep);
    assert_eq!(
        ep.poll_timeout(),
        Some(t0 + ms(32_000)),
        "no Timer A on TCP"
    );
    ep.handle_timeout(t0 + ms(32_000));
    let outs = drain(&mut ep);
    assert_eq!(events(&outs), vec![&Event::ClientTimeout { tx }]);
    assert_eq!(ep.active_transactions(), 0);
}

#[test]
fn client_invite_non_2xx_acked_by_transaction() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let req = out_request(Method::Invite, "z9hG4bKc3");
    let tx = ep.send_request(t0, udp(), req.clone());
    drain(&mut ep);
    ep.handle_input(t0 + ms(100), udp(), &answer(&req, 180));
    let outs = drain(&mut ep);
    assert!(
        matches!(events(&outs)[..], [Event::Response { response, .. }] if response.status == 180)
    );
    ep.handle_timeout(t0 + ms(600));
    assert!(drain(&mut ep).is_empty(), "1xx stops Timer A");
    ep.handle_input(t0 + ms(700), udp(), &answer(&req, 486));
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["ACK sip:srs@192.0.2.1 SIP/2.0"]);
    let Output::Transmit { bytes, .. } = &outs[0] else {
        panic!()
    };
    let Message::Request(ack) = Message::parse(bytes).unwrap() else {
        panic!()
    };
    assert_eq!(ack.to_tag().as_deref(), Some("s9"));
    assert_eq!(ack.top_via().unwrap().branch(), Some("z9hG4bKc3"));
    assert_eq!(ack.cseq().unwrap().method, Method::Ack);
    assert_eq!(ack.header("Route"), Some("<sip:proxy.example.com;lr>"));
    assert!(matches!(events(&outs)[..], [Event::Response { tx: t, .. }] if *t == tx));
    ep.handle_input(t0 + ms(800), udp(), &answer(&req, 486));
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["ACK sip:srs@192.0.2.1 SIP/2.0"]);
    assert!(events(&outs).is_empty(), "retransmitted final absorbed");
    ep.handle_timeout(t0 + ms(700) + Duration::from_secs(32));
    assert_eq!(ep.active_transactions(), 0, "Timer D");
}

#[test]
fn client_invite_2xx_retransmissions_reach_tu() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let req = out_request(Method::Invite, "z9hG4bKc4");
    ep.send_request(t0, udp(), req.clone());
    drain(&mut ep);
    ep.handle_input(t0, udp(), &answer(&req, 200));
    assert_eq!(events(&drain(&mut ep)).len(), 1);
    ep.handle_input(t0 + ms(500), udp(), &answer(&req, 200));
    let outs = drain(&mut ep);
    assert!(
        sent(&outs).is_empty(),
        "the TU, not the transaction, ACKs a 2xx"
    );
    assert_eq!(events(&outs).len(), 1);
    ep.handle_timeout(t0 + ms(32_000));
    assert_eq!(ep.active_transactions(), 0, "Timer M");
}

#[test]
fn client_non_invite_timer_e_and_f() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let tx = ep.send_request(t0, udp(), out_request(Method::Bye, "z9hG4bKb1"));
    drain(&mut ep);
    let log = run(&mut ep, t0, ms(40_000));
    let retrans: Vec<Duration> = log
        .iter()
        .filter(|l| !l.1.is_empty())
        .map(|l| l.0)
        .collect();
    // Timer E: 0.5, 1.5, 3.5, 7.5 then every T2 (4 s).
    assert_eq!(
        &retrans[..6],
        &[
            ms(500),
            ms(1500),
            ms(3500),
            ms(7500),
            ms(11_500),
            ms(15_500)
        ]
    );
    let (at, _, n_events) = log.last().unwrap();
    assert_eq!((*at, *n_events), (ms(32_000), 1), "Timer F");
    assert_eq!(ep.active_transactions(), 0);
    let _ = tx;
}

#[test]
fn client_non_invite_final_then_timer_k() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    let t0 = Instant::now();
    let req = out_request(Method::Bye, "z9hG4bKb2");
    ep.send_request(t0, udp(), req.clone());
    drain(&mut ep);
    ep.handle_input(t0 + ms(100), udp(), &answer(&req, 200));
    assert_eq!(events(&drain(&mut ep)).len(), 1);
    ep.handle_input(t0 + ms(200), udp(), &answer(&req, 200));
    assert!(drain(&mut ep).is_empty(), "absorbed in Completed");
    assert_eq!(ep.poll_timeout(), Some(t0 + ms(5100)), "Timer K = T4");
    ep.handle_timeout(t0 + ms(5100));
    assert_eq!(ep.active_transactions(), 0);
}

#[test]
fn ack_is_sent_without_transaction() {
    let mut ep = Endpoint::new(EndpointConfig::default());
    ep.send_request(Instant::now(), udp(), out_request(Method::Ack, "z9hG4bKa"));
    assert_eq!(sent(&drain(&mut ep)), vec!["ACK sip:srs@192.0.2.1 SIP/2.0"]);
    assert_eq!(ep.active_transactions(), 0);
    ep.send_stateless(
        udp(),
        Message::Request(out_request(Method::Ack, "z9hG4bKb")),
    );
    assert_eq!(drain(&mut ep).len(), 1);
}

//! Many concurrent transactions: the timer queue must fire exactly the due ones, in
//! deadline order, and forget terminated transactions (RFC 3261 17.2.1, RFC 6026 Timer L).

use std::time::Instant;

use super::tests_server::{drain, ms, sent, udp};
use crate::{Endpoint, EndpointConfig, Event, Output, Response};

fn invite(n: usize) -> Vec<u8> {
    format!(
        "INVITE sip:srs@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKm{n};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:src@example.com>;tag=f{n}\r\nTo: <sip:srs@example.com>\r\n\
Call-ID: many-{n}\r\nCSeq: 1 INVITE\r\nContact: <sip:src@192.0.2.7:5062>\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn ack(n: usize) -> Vec<u8> {
    format!(
        "ACK sip:srs@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKa{n};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:src@example.com>;tag=f{n}\r\nTo: <sip:srs@example.com>;tag=t{n}\r\n\
Call-ID: many-{n}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn ack_timeouts(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(Event::AckTimeout { call_id, .. }) => Some(call_id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn thousands_of_invites_fire_only_due_timers() {
    const N: usize = 5000;
    let cfg = EndpointConfig::default();
    let mut ep = Endpoint::new(cfg);
    let t0 = Instant::now();
    // Call n arrives at t0 + n ms and is answered at once; even calls are ACKed 1 ms later.
    for n in 0..N {
        let now = t0 + ms(n as u64);
        ep.handle_input(now, udp(), &invite(n));
        let tx = drain(&mut ep)
            .into_iter()
            .find_map(|o| match o {
                Output::Event(Event::Request { tx, request, .. }) => Some((tx, request)),
                _ => None,
            })
            .unwrap();
        let ok = Response::for_request(&tx.1, 200, "OK").with_to_tag(&format!("t{n}"));
        ep.respond(now, tx.0, ok).unwrap();
        if n % 2 == 0 {
            ep.handle_input(now + ms(1), udp(), &ack(n));
        }
        drain(&mut ep);
        // Earliest deadline: the first unACKed 200's retransmission (call 1, T1 after it).
        if n >= 1 {
            assert_eq!(
                ep.poll_timeout(),
                Some(t0 + ms(1) + cfg.t1),
                "after call {n}"
            );
        }
    }
    assert_eq!(ep.active_transactions(), N);

    // Just before call 1's retransmission nothing fires.
    ep.handle_timeout(t0 + ms(500));
    assert!(drain(&mut ep).is_empty());

    // At t0 + 600 ms the 200s of odd calls 1..=99 (answered at 1..=99 ms) are due once.
    ep.handle_timeout(t0 + ms(600));
    let outs = drain(&mut ep);
    assert_eq!(sent(&outs), vec!["SIP/2.0 200 OK"; 50]);
    // Retransmissions come out in deadline order (call 1 first, call 99 last).
    let call_ids: Vec<String> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Transmit { bytes, .. } => String::from_utf8_lossy(bytes)
                .lines()
                .find_map(|l| l.strip_prefix("Call-ID: ").map(str::to_owned)),
            Output::Event(_) => None,
        })
        .collect();
    assert_eq!(call_ids.first().map(String::as_str), Some("many-1"));
    assert_eq!(call_ids.last().map(String::as_str), Some("many-99"));
    // Next: call 1 again at +1 s (T1 doubled) is after call 101's first one (601 ms).
    assert_eq!(ep.poll_timeout(), Some(t0 + ms(601)));

    // Timer L: 64*T1 after the last answer every transaction is gone; only unACKed calls
    // report AckTimeout, each once.
    let end = t0 + ms(N as u64) + cfg.t1 * 64;
    ep.handle_timeout(end);
    let outs = drain(&mut ep);
    let timeouts = ack_timeouts(&outs);
    assert_eq!(timeouts.len(), N / 2);
    assert!(timeouts.iter().all(|c| {
        let n: usize = c.trim_start_matches("many-").parse().unwrap();
        n % 2 == 1
    }));
    assert_eq!(ep.active_transactions(), 0);
    assert_eq!(ep.poll_timeout(), None);
    ep.handle_timeout(end + ms(100_000));
    assert!(drain(&mut ep).is_empty());
}

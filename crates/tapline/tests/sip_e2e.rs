//! SIP transaction behaviour of the real server, driven with hand-written messages over UDP:
//! 2xx retransmission and the ACK timeout (RFC 3261 13.3.1.4, RFC 6026), retransmitted and
//! merged INVITEs (17.2.3, 8.2.2.2), and CANCEL (9.2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{
    Message, Server, SipLink, UdpLink, branch, final_response, hang_up, list, ok_to, wait_final,
};

/// When the 200 OK copies must leave, relative to the first one, for timer T1 (ms): Timer G
/// doubles from T1 up to T2 = 4 s, and Timer H stops everything at 64*T1 (RFC 3261 17.2.1,
/// 13.3.1.4).
fn expected_offsets(t1: u64) -> Vec<u64> {
    let (t2, h) = (4000, 64 * t1);
    let mut out = vec![0];
    let (mut at, mut interval) = (t1, t1);
    while at < h {
        out.push(at);
        interval = (interval * 2).min(t2);
        at += interval;
    }
    out
}

/// INVITE over UDP, never ACKed: returns nothing, asserts the whole schedule.
fn unacked_invite(t1: u64) {
    let server = Server::start_with(&[], Some(&format!("sip_t1_ms = {t1}\n")));
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    link.send(&call.siprec_invite(&branch(), &[]));

    let expected = expected_offsets(t1);
    let h = Duration::from_millis(64 * t1);
    let mut oks: Vec<(Instant, Vec<u8>)> = Vec::new();
    let mut byes: Vec<(Instant, common::Request)> = Vec::new();
    let mut deadline = Instant::now() + Duration::from_secs(10);
    while let Some((at, bytes, msg)) = link.recv(deadline) {
        match msg {
            Message::Response(r) if r.status == 200 => {
                if oks.is_empty() {
                    // Listen until well after Timer H.
                    deadline = at + h + Duration::from_millis(1500);
                }
                oks.push((at, bytes));
            }
            Message::Response(r) => assert_eq!(r.status, 100, "unexpected {r:?}"),
            Message::Request(r) => {
                assert_eq!(r.method.as_str(), "BYE", "unexpected request {r:?}");
                link.send(&ok_to(&r));
                byes.push((at, r));
            }
        }
    }
    assert!(!oks.is_empty(), "no 200 OK at all");

    // Identical copies: same bytes, hence the same To tag.
    let first = &oks[0].1;
    let ok = match Message::parse(first).unwrap() {
        Message::Response(r) => r,
        Message::Request(_) => unreachable!(),
    };
    let to_tag = ok.to_tag().expect("To tag").to_owned();
    for (i, (_, b)) in oks.iter().enumerate() {
        assert_eq!(b, first, "copy {i} of the 200 OK differs from the first");
    }

    // The schedule: doubling gaps, capped at T2, nothing after 64*T1.
    let t0 = oks[0].0;
    let offsets: Vec<u64> = oks
        .iter()
        .map(|(at, _)| at.duration_since(t0).as_millis() as u64)
        .collect();
    eprintln!("T1={t1} ms: 200 OK at {offsets:?} ms (expected {expected:?})");
    assert_eq!(
        offsets.len(),
        expected.len(),
        "200 OK copies at {offsets:?} ms, expected {expected:?}"
    );
    for (i, w) in offsets.windows(2).enumerate() {
        let gap = w[1] - w[0];
        let want = expected[i + 1] - expected[i];
        assert!(
            gap * 2 >= want && gap <= want + want / 2 + 60,
            "gap {i} is {gap} ms, expected about {want} ms (all: {offsets:?})"
        );
    }
    let last = *offsets.last().unwrap();
    let want_last = *expected.last().unwrap();
    assert!(
        last + 100 >= want_last && last <= want_last + 150,
        "last copy at {last} ms, expected {want_last} ms"
    );

    // The SRS gave up and said so with a BYE in the dialog of the unacknowledged 200.
    assert!(
        !byes.is_empty(),
        "the server did not send BYE after the ACK timeout"
    );
    let (bye_at, bye) = &byes[0];
    let bye_after = bye_at.duration_since(t0).as_millis() as u64;
    assert!(
        bye_after + 100 >= 64 * t1,
        "BYE {bye_after} ms after the first 200, before Timer H (64*T1)"
    );
    assert_eq!(bye.call_id(), Some(call.call_id.as_str()));
    assert_eq!(
        bye.from_tag(),
        Some(to_tag.clone()),
        "BYE From tag = our To tag"
    );
    assert_eq!(
        bye.to_tag(),
        Some(call.from_tag.clone()),
        "BYE To tag = our From tag"
    );
    assert!(
        bye.uri.contains(&call.local.to_string()),
        "BYE to our Contact: {}",
        bye.uri
    );

    let l = wait_final(server.data_dir(), 1);
    let rec = common::show(server.data_dir(), l[0]["id"].as_str().unwrap());
    assert_eq!(rec["call_id"], call.call_id.as_str());
    assert_eq!(rec["state"], "failed", "{rec:#}");
    let reason = rec["end_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("ACK"), "end_reason {reason:?}");
}

#[test]
fn unacked_200_is_retransmitted_doubling_then_abandoned_with_bye() {
    // 0, 50, 150, 350, 750, 1550, 3150 ms; Timer H at 3.2 s.
    unacked_invite(50);
}

#[test]
fn the_200_retransmission_interval_is_capped_at_t2() {
    // 0, 200, 600, 1400, 3000, 6200, then 10200 (a 4 s gap, not 6.4 s); Timer H at 12.8 s.
    assert_eq!(
        expected_offsets(200),
        [0, 200, 600, 1400, 3000, 6200, 10200]
    );
    unacked_invite(200);
}

#[test]
fn retransmitted_invite_gets_the_same_200_and_makes_one_recording() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let invite = call.siprec_invite(&branch(), &[]);
    // Two copies back to back (while the recording is being prepared)...
    link.send(&invite);
    link.send(&invite);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut first_ok: Option<Vec<u8>> = None;
    while let Some((_, bytes, msg)) = link.recv(deadline) {
        let Message::Response(r) = msg else {
            panic!("unexpected request")
        };
        match r.status {
            100 => {}
            200 => {
                first_ok = Some(bytes);
                break;
            }
            s => panic!("retransmitted INVITE answered {s} {}", r.reason),
        }
    }
    let first_ok = first_ok.expect("a 200 OK");
    // ...and a third once answered: the transaction answers with the very same 200 at once
    // (well before Timer G's first retransmission at 500 ms).
    link.send(&invite);
    let sent = Instant::now();
    let again = loop {
        let (at, bytes, msg) = link
            .recv(sent + Duration::from_millis(400))
            .expect("the retransmitted INVITE got no answer");
        if let Message::Response(r) = &msg {
            if r.status >= 200 {
                assert!(at.duration_since(sent) < Duration::from_millis(400));
                break bytes;
            }
        }
    };
    assert_eq!(
        again, first_ok,
        "the retransmission got a different response"
    );

    std::thread::sleep(Duration::from_millis(300));
    let l = list(server.data_dir());
    assert_eq!(
        l.as_array().unwrap().len(),
        1,
        "one INVITE, one recording: {l:#}"
    );

    let ok = match Message::parse(&first_ok).unwrap() {
        Message::Response(r) => r,
        Message::Request(_) => unreachable!(),
    };
    link.send(&call.ack(&branch(), &ok.to_tag().unwrap()));
    hang_up(&mut link, &call, &ok);
    let l = wait_final(server.data_dir(), 1);
    assert_eq!(l.as_array().unwrap().len(), 1);
    // No RTP was sent: the recording ends `empty` (a normal end, not `failed`).
    assert_eq!(l[0]["state"], "empty", "{:#}", l[0]);
}

#[test]
fn merged_invite_with_another_branch_gets_482() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    // Same Call-ID, From tag and CSeq, different branch, sent right behind the first.
    let (b1, b2) = (branch(), branch());
    link.send(&call.siprec_invite(&b1, &[]));
    link.send(&call.siprec_invite(&b2, &[]));
    let mut finals = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while finals.len() < 2 {
        let Some((_, _, Message::Response(r))) = link.recv(deadline) else {
            panic!("missing final responses; got {finals:?}");
        };
        if r.status >= 200 {
            let b = r.top_via().unwrap().branch().unwrap().to_owned();
            finals.push((b, r));
        }
    }
    let ok = finals
        .iter()
        .find(|(b, _)| *b == b1)
        .expect("answer to the first")
        .1
        .clone();
    let merged = &finals
        .iter()
        .find(|(b, _)| *b == b2)
        .expect("answer to the second")
        .1;
    assert_eq!(ok.status, 200, "first INVITE: {} {}", ok.status, ok.reason);
    assert_eq!(
        merged.status, 482,
        "merged INVITE: {} {}",
        merged.status, merged.reason
    );
    link.send(&call.ack(&b2, &merged.to_tag().expect("482 To tag")));
    link.send(&call.ack(&branch(), &ok.to_tag().unwrap()));

    // Once the dialog exists, a merged copy is still refused.
    let b3 = branch();
    link.send(&call.siprec_invite(&b3, &[]));
    let r = final_response(&mut link, &call.call_id, "INVITE", Duration::from_secs(5));
    assert_eq!(r.top_via().unwrap().branch(), Some(b3.as_str()));
    assert_eq!(r.status, 482, "{} {}", r.status, r.reason);
    link.send(&call.ack(&b3, &r.to_tag().unwrap()));

    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(list(server.data_dir()).as_array().unwrap().len(), 1);
    hang_up(&mut link, &call, &ok);
    let l = wait_final(server.data_dir(), 1);
    assert_eq!(l.as_array().unwrap().len(), 1, "{l:#}");
    // No RTP was sent: the recording ends `empty` (a normal end, not `failed`).
    assert_eq!(l[0]["state"], "empty");
}

#[test]
fn cancel_right_behind_the_invite() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let attempts = 5;
    let mut cancelled = 0;
    for _ in 0..attempts {
        let call = link.call();
        let b = branch();
        link.send(&call.siprec_invite(&b, &[]));
        link.send(&call.request("CANCEL", 1, &b, None, &[], None));
        let (mut cancel_resp, mut invite_resp) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(10);
        while cancel_resp.is_none() || invite_resp.is_none() {
            let Some((_, _, msg)) = link.recv(deadline) else {
                panic!("CANCEL: {cancel_resp:?} INVITE: {invite_resp:?}");
            };
            let Message::Response(r) = msg else { continue };
            match r.cseq().map(|c| c.method.as_str().to_owned()).as_deref() {
                Some("CANCEL") => cancel_resp = Some(r),
                Some("INVITE") if r.status >= 200 => invite_resp = Some(r),
                _ => {}
            }
        }
        let (c, i) = (cancel_resp.unwrap(), invite_resp.unwrap());
        assert_eq!(c.status, 200, "CANCEL answered {} {}", c.status, c.reason);
        let tag = i.to_tag().expect("final response To tag").to_owned();
        match i.status {
            487 => {
                cancelled += 1;
                link.send(&call.ack(&b, &tag));
            }
            200 => {
                link.send(&call.ack(&branch(), &tag));
                hang_up(&mut link, &call, &i);
            }
            s => panic!("cancelled INVITE answered {s} {}", i.reason),
        }
    }
    eprintln!("CANCEL race: 487 won {cancelled} of {attempts} attempts");

    // Every final response was ACKed: none is retransmitted (T1 = 500 ms).
    let quiet_until = Instant::now() + Duration::from_millis(1200);
    while let Some((_, _, msg)) = link.recv(quiet_until) {
        if let Message::Response(r) = msg {
            assert!(
                r.status < 200,
                "final response retransmitted after ACK: {r:?}"
            );
        }
    }
    // No recording is left active; cancelled ones are not complete.
    let l = wait_final(server.data_dir(), attempts);
    let recs = l.as_array().unwrap();
    assert_eq!(recs.len(), attempts, "{l:#}");
    let failed = recs.iter().filter(|r| r["state"] == "failed").count();
    assert_eq!(failed, cancelled, "cancelled recordings are failed: {l:#}");
}

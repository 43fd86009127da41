//! Transport-level behaviour of the real server: TCP framing (RFC 3261 18.3), a UDP INVITE
//! near the datagram limit, and SIGTERM with a call in progress.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    BIN, Message, Server, SipLink, TcpLink, UdpLink, answer_media, branch, establish,
    final_response, hang_up, metadata_xml, offer_sdp, ok_to, path_of, recording_of, show,
    siprec_body, wait_final, wav,
};

const LIMIT: Duration = Duration::from_secs(5);

#[test]
fn tcp_two_requests_in_one_segment_and_one_invite_in_three_writes() {
    let server = Server::start();
    let mut link = TcpLink::connect(server.sip);

    // Two whole OPTIONS in one write: two answers.
    let (a, b) = (link.call(), link.call());
    let mut both = a.request("OPTIONS", 1, &branch(), None, &[], None);
    both.extend(b.request("OPTIONS", 1, &branch(), None, &[], None));
    link.send(&both);
    for call in [&a, &b] {
        let r = final_response(&mut link, &call.call_id, "OPTIONS", LIMIT);
        assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
    }

    // One INVITE cut mid-header and mid-body, with pauses.
    let call = link.call();
    let invite = call.siprec_invite(&branch(), &[]);
    let head_end = invite.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let cuts = [head_end / 2, head_end + (invite.len() - head_end) / 2];
    link.send(&invite[..cuts[0]]);
    std::thread::sleep(Duration::from_millis(200));
    link.send(&invite[cuts[0]..cuts[1]]);
    std::thread::sleep(Duration::from_millis(200));
    link.send(&invite[cuts[1]..]);
    let ok = final_response(&mut link, &call.call_id, "INVITE", LIMIT);
    assert_eq!(ok.status, 200, "{} {}", ok.status, ok.reason);
    let via = ok.top_via().unwrap();
    assert!(via.to_string().contains("TCP"), "Via {via}");
    let contact = ok.header("Contact").unwrap_or_default();
    assert!(contact.contains("transport=tcp"), "Contact {contact}");

    link.send(&call.ack(&branch(), &ok.to_tag().unwrap()));
    hang_up(&mut link, &call, &ok);
    let l = wait_final(server.data_dir(), 1);
    assert_eq!(l.as_array().unwrap().len(), 1);
    // No RTP was sent: the recording ends `empty` (a normal end, not `failed`).
    assert_eq!(l[0]["state"], "empty", "{:#}", l[0]);
    assert_eq!(l[0]["call_id"], call.call_id.as_str());
}

#[test]
fn udp_invite_of_60_kb_is_answered_and_its_metadata_stored_verbatim() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let sdp = offer_sdp(link.local().ip(), [40_000, 40_002]);
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 58_000);
    let (ct, body) = siprec_body(&sdp, &xml);
    let invite = call.invite(&branch(), &[], &ct, &body);
    assert!(
        (59_000..65_000).contains(&invite.len()),
        "datagram of {} bytes",
        invite.len()
    );
    let ok = establish(&mut link, &call, &invite);

    let rec = recording_of(server.data_dir(), &call.call_id);
    let detail = show(server.data_dir(), rec["id"].as_str().unwrap());
    let docs = detail["metadata"].as_array().expect("metadata list");
    assert_eq!(docs.len(), 1, "{detail:#}");
    let raw = docs[0]["raw"].as_str().expect("raw metadata text");
    assert_eq!(raw.len(), xml.len(), "stored metadata length");
    assert!(raw == xml, "stored metadata differs from what was sent");
    // It was understood too, padding and all.
    let aors: Vec<&str> = detail["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["aor"].as_str())
        .collect();
    assert!(aors.contains(&"sip:alice@example.com"), "{aors:?}");

    hang_up(&mut link, &call, &ok);
    let l = wait_final(server.data_dir(), 1);
    // No RTP was sent: the recording ends `empty` (a normal end, not `failed`).
    assert_eq!(l[0]["state"], "empty");
}

#[test]
fn sigterm_during_a_call_says_bye_and_completes_the_recording() {
    let mut server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let ok = establish(&mut link, &call, &call.siprec_invite(&branch(), &[]));
    let media = answer_media(&ok.body);
    assert_eq!(media.len(), 2);

    // Real RTP on both streams (label 1: 440 Hz, label 2: 880 Hz) for 3 s; SIGTERM after 1 s.
    let mut rtp = Command::new(BIN)
        .arg("rtp-send")
        .args([
            "--to",
            &media[0].0.to_string(),
            "--to",
            &media[1].0.to_string(),
        ])
        .args(["--duration", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rtp-send");
    std::thread::sleep(Duration::from_millis(1200));
    let pid = server.child.id().to_string();
    let term_at = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );

    // The server ends the recording session with a BYE, and exits 0 within a few seconds.
    let mut bye = None;
    let mut status = None;
    let deadline = term_at + Duration::from_secs(10);
    while Instant::now() < deadline && (bye.is_none() || status.is_none()) {
        if let Some((_, _, Message::Request(r))) =
            link.recv(Instant::now() + Duration::from_millis(50))
        {
            if r.method.as_str() == "BYE" {
                link.send(&ok_to(&r));
                bye.get_or_insert(r);
            }
        }
        if status.is_none() {
            status = server.child.try_wait().unwrap();
        }
    }
    let _ = rtp.kill();
    let _ = rtp.wait();
    let status = status.expect("server still running 10 s after SIGTERM");
    assert!(status.success(), "server exit status {status}");
    let bye = bye.expect("no BYE from the server on shutdown");
    assert_eq!(bye.call_id(), Some(call.call_id.as_str()));
    assert_eq!(bye.from_tag(), ok.to_tag());

    let rec = recording_of(server.data_dir(), &call.call_id);
    assert_eq!(rec["state"], "complete", "{rec:#}");
    let detail = show(server.data_dir(), rec["id"].as_str().unwrap());
    let stereo = wav(path_of(&detail["files"]["stereo"]));
    assert_eq!((stereo.channels, stereo.sample_rate), (2, 8000));
    let secs = stereo.samples.len() as f64 / 2.0 / 8000.0;
    assert!((0.8..2.5).contains(&secs), "stereo lasts {secs} s");
    for (label, f) in [("1", 440.0), ("2", 880.0)] {
        let mono = wav(path_of(&detail["files"]["streams"][label]));
        assert!(
            mono.samples.len() >= 6000,
            "stream {label}: {} samples",
            mono.samples.len()
        );
        let got = tapline_media::dominant_frequency(&mono.samples[800..6000], 8000);
        assert!((got - f).abs() < 15.0, "stream {label} is {got} Hz");
    }
}

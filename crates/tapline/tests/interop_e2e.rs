//! Interop with real third-party peers (Debian packages `kamailio`, `rtpengine-daemon`,
//! `sip-tester`; .ci/run installs them and these tests fail loudly without them):
//!
//! * Kamailio as a stateful, record-routing proxy between sipp (the SRC, running the shared
//!   `tests/sipp/siprec_uac.xml`) and Tapline: the 200 OK carries Kamailio's Record-Route
//!   (RFC 3261 12.1.1: the UAS copies it), and the ACK and BYE follow that route set through
//!   Kamailio (RFC 3261 12.2.1.1).
//! * rtpengine as the SRC's media plane: two fake endpoints set up a call through rtpengine,
//!   `subscribe request` (flags `all`, `SIPREC`) makes rtpengine offer a copy of both sides as
//!   two sendonly labelled m-lines, the test wraps that offer with RFC 7865 metadata into a
//!   SIPREC INVITE to Tapline, hands Tapline's answer back with `subscribe answer`, and the
//!   endpoints' tones go through rtpengine to each other and to Tapline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "interop/mod.rs"]
mod interop;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{
    BIN, Server, UdpLink, answer_media, branch, channel, establish, hang_up, path_of, show,
    siprec_body, wait_final, wav,
};
use interop::bencode::Bencode;
use interop::daemon::{Daemon, free_port, require, udp_port_taken};
use interop::ng::NgClient;
use interop::rtp_peer::{Endpoint, send_tones};
use interop::sipp;

const KAMAILIO_CFG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/kamailio.cfg");

/// First/last loud sample, seconds between them, and the dominant frequency mid-way.
fn tone_of(samples: &[i16]) -> (f64, f64) {
    let loud = |s: &i16| s.unsigned_abs() > 256;
    let first = samples.iter().position(loud).expect("no audio");
    let last = samples.iter().rposition(loud).expect("no audio");
    let secs = (last + 1 - first) as f64 / 8000.0;
    let mid = first + (last - first) / 2;
    let window = &samples[mid.saturating_sub(4000)..(mid + 4000).min(samples.len())];
    (secs, tapline_media::dominant_frequency(window, 8000))
}

/// `samples` hold `secs` (±40 ms) of a `freq` Hz tone.
fn check_tone(what: &str, samples: &[i16], freq: f64, secs: f64) {
    let (got_secs, got_freq) = tone_of(samples);
    assert!(
        (got_secs - secs).abs() <= 0.040,
        "{what} holds {got_secs} s of tone, expected {secs}"
    );
    assert!(
        (got_freq - freq).abs() < 10.0,
        "{what} is {got_freq} Hz, expected {freq}"
    );
}

/// The recording's participant with `aor`.
fn participant<'a>(rec: &'a serde_json::Value, aor: &str) -> &'a serde_json::Value {
    rec["participants"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["aor"] == aor))
        .unwrap_or_else(|| panic!("{aor} not listed: {rec:#}"))
}

/// Check a finished two-party recording: roles from the metadata, the caller's tone on
/// `labels.0`, the callee's on `labels.1`, stereo caller-left, every packet counted.
fn check_recording(
    server: &Server,
    rec: &serde_json::Value,
    (caller, callee): (&str, &str),
    labels: (&str, &str),
    packets: u64,
) {
    assert_eq!(rec["state"], "complete", "{rec:#}");
    assert_eq!(rec["participants"].as_array().unwrap().len(), 2, "{rec:#}");
    let (a, b) = (participant(rec, caller), participant(rec, callee));
    assert_eq!(a["role"], "caller", "{rec:#}");
    assert_eq!(b["role"], "callee", "{rec:#}");
    assert_eq!(a["sends"], serde_json::json!([labels.0]), "{rec:#}");
    assert_eq!(b["sends"], serde_json::json!([labels.1]), "{rec:#}");

    let streams = rec["files"]["streams"].as_object().expect("stream files");
    assert_eq!(streams.len(), 2, "{rec:#}");
    for (label, freq) in [(labels.0, 440.0), (labels.1, 880.0)] {
        let mono = wav(path_of(&streams[label]));
        assert_eq!((mono.channels, mono.sample_rate), (1, 8000));
        check_tone(&format!("stream {label}"), &mono.samples, freq, 3.0);
    }
    let stereo = wav(path_of(&rec["files"]["stereo"]));
    assert_eq!((stereo.channels, stereo.sample_rate), (2, 8000));
    check_tone("left", &channel(&stereo.samples, 2, 0), 440.0, 3.0);
    check_tone("right", &channel(&stereo.samples, 2, 1), 880.0, 3.0);

    let detail = show(server.data_dir(), rec["id"].as_str().unwrap());
    let counters = detail["streams"].as_array().unwrap();
    assert_eq!(counters.len(), 2, "{detail:#}");
    for s in counters {
        assert_eq!(s["codec"], "PCMU", "{s}");
        assert_eq!(s["packets_received"], packets, "{s}");
        assert_eq!(s["packets_lost"], 0, "{s}");
    }
}

fn start_kamailio(dir: &std::path::Path, srs: SocketAddr) -> (Daemon, SocketAddr) {
    require("kamailio", "-v", "kamailio");
    let port = free_port();
    let mut cmd = Command::new("kamailio");
    cmd.args(["-f", KAMAILIO_CFG, "-DD", "-E", "-n", "1", "-T"])
        .args(["-l", &format!("udp:127.0.0.1:{port}")])
        .arg("-Y")
        .arg(dir)
        .arg("-P")
        .arg(dir.join("kamailio.pid"))
        .arg("-w")
        .arg(dir)
        .args(["-m", "32", "-M", "8"])
        .args(["-A", &format!("SRS_HOSTPORT=\"{srs}\"")]);
    let mut kam = Daemon::spawn("kamailio", cmd, dir);
    kam.wait_ready(Duration::from_secs(10), |_| udp_port_taken(port));
    (kam, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[test]
fn sipp_through_kamailio_record_route() {
    require("sipp", "-v", "sip-tester");
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let (mut kam, proxy) = start_kamailio(work.path(), server.sip);

    sipp::run(proxy, BIN, work.path(), || {
        format!("--- kamailio log ---\n{}", kam.log_text())
    });
    kam.assert_running();

    let msgs = sipp::traced_messages(work.path());
    let find = |dir: &str, start: &str, cseq: &str| {
        msgs.iter()
            .find(|(d, m)| {
                d == dir && m.starts_with(start) && sipp::header(m, "CSeq") == Some(cseq)
            })
            .map(|(_, m)| m.as_str())
            .unwrap_or_else(|| panic!("no {dir} {start} ({cseq}) in\n{}", sipp::logs(work.path())))
    };
    let rr = format!("<sip:{proxy};lr");
    let ok = find("received", "SIP/2.0 200", "1 INVITE");
    let record_route = sipp::header(ok, "Record-Route").unwrap_or_default();
    assert!(record_route.starts_with(&rr), "200 OK Record-Route: {ok}");
    // Kamailio removed its own Via from the response: only sipp's is left.
    assert_eq!(ok.matches("\nVia:").count(), 1, "{ok}");
    for (method, cseq) in [("ACK", "1 ACK"), ("BYE", "2 BYE")] {
        let req = find("sent", method, cseq);
        let route = sipp::header(req, "Route").unwrap_or_default();
        assert!(route.starts_with(&rr), "{method} Route: {req}");
        // The Request-URI is Tapline's Contact, reached through the proxy.
        let target = format!("{method} sip:tapline@{} ", server.sip);
        assert!(req.starts_with(&target), "{method} target: {req}");
    }
    find("received", "SIP/2.0 200", "2 BYE");

    let rec = wait_final(server.data_dir(), 1)[0].clone();
    let call_id = rec["call_id"].as_str().unwrap().to_owned();
    let kam_log = kam.log_text();
    for line in [
        "TAPLINE-KAM initial INVITE",
        "TAPLINE-KAM reply 200 OK cseq=1 INVITE",
        "TAPLINE-KAM loose-route ACK",
        "TAPLINE-KAM loose-route BYE",
        "TAPLINE-KAM reply 200 OK cseq=2 BYE",
    ] {
        assert!(
            kam_log
                .lines()
                .any(|l| l.contains(line) && l.contains(&format!("cid={call_id}"))),
            "Kamailio did not log `{line}` for {call_id}:\n{kam_log}"
        );
    }
    let tap_log = server.log_lines();
    assert!(
        tap_log.iter().any(|l| l.contains(&call_id)
            && l.contains("method=\"BYE\"")
            && l.contains("status=200")),
        "Tapline did not answer the proxied BYE:\n{}",
        tap_log.join("\n")
    );
    check_recording(
        &server,
        &rec,
        ("sip:alice@sipp.example", "sip:bob@sipp.example"),
        ("1", "2"),
        150,
    );
}

/// rtpengine in userspace only, on loopback, with a private port range outside Tapline's
/// default RTP range (16384-32767) and the ephemeral range the endpoints use.
fn start_rtpengine(dir: &std::path::Path) -> (Daemon, NgClient) {
    require("rtpengine", "--version", "rtpengine-daemon");
    let ng_port = free_port();
    let base = 10_000 + 100 * fastrand::u16(0..60);
    let mut cmd = Command::new("rtpengine");
    cmd.args(["--config-file=none", "--table=-1", "--interface=127.0.0.1"])
        .arg(format!("--listen-ng=127.0.0.1:{ng_port}"))
        .args(["--foreground", "--log-stderr", "--log-level=6"])
        .arg(format!("--port-min={base}"))
        .arg(format!("--port-max={}", base + 99))
        .arg(format!("--pidfile={}", dir.join("rtpengine.pid").display()));
    let mut daemon = Daemon::spawn("rtpengine", cmd, dir);
    let ng = NgClient::new(SocketAddr::from(([127, 0, 0, 1], ng_port)));
    let ping = Bencode::dict(vec![("command", Bencode::str("ping"))]);
    daemon.wait_ready(Duration::from_secs(10), |_| {
        ng.try_request(&ping, Duration::from_millis(200))
            .is_some_and(|r| r.get("result").and_then(Bencode::as_str) == Some("pong"))
    });
    (daemon, ng)
}

/// The first m-line's RTP address of an SDP rtpengine returned.
fn media_addr(sdp: &str) -> SocketAddr {
    let m = answer_media(sdp.as_bytes());
    assert_eq!(m.len(), 1, "one m-line expected: {sdp}");
    m[0].0
}

/// RFC 7865 complete snapshot: `caller` sends `labels.0`, `callee` sends `labels.1`.
fn metadata(caller: &str, callee: &str, labels: (&str, &str)) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <session session_id="cnRwZW5naW5lLXNlc3Npb24=">
    <sipSessionID>rtpengine-interop</sipSessionID>
  </session>
  <participant participant_id="cnRwZS1jYWxsZXItcGFydA==">
    <nameID aor="{caller}"><name>Alice</name></nameID>
  </participant>
  <participant participant_id="cnRwZS1jYWxsZWUtcGFydA==">
    <nameID aor="{callee}"><name>Bob</name></nameID>
  </participant>
  <stream stream_id="cnRwZS1zdHJlYW0tY2FsbGVy" session_id="cnRwZW5naW5lLXNlc3Npb24=">
    <label>{la}</label>
  </stream>
  <stream stream_id="cnRwZS1zdHJlYW0tY2FsbGVl" session_id="cnRwZW5naW5lLXNlc3Npb24=">
    <label>{lb}</label>
  </stream>
  <participantstreamassoc participant_id="cnRwZS1jYWxsZXItcGFydA==">
    <send>cnRwZS1zdHJlYW0tY2FsbGVy</send>
    <recv>cnRwZS1zdHJlYW0tY2FsbGVl</recv>
  </participantstreamassoc>
  <participantstreamassoc participant_id="cnRwZS1jYWxsZWUtcGFydA==">
    <send>cnRwZS1zdHJlYW0tY2FsbGVl</send>
    <recv>cnRwZS1zdHJlYW0tY2FsbGVy</recv>
  </participantstreamassoc>
</recording>
"#,
        la = labels.0,
        lb = labels.1
    )
}

/// The SDP label rtpengine gave each call party (`tag-medias` of the subscribe reply).
fn labels_by_tag(reply: &Bencode) -> BTreeMap<String, String> {
    let parties = reply
        .get("tag-medias")
        .and_then(Bencode::as_list)
        .unwrap_or_else(|| panic!("subscribe reply without tag-medias: {reply:?}"));
    parties
        .iter()
        .map(|p| {
            let tag = p.get("tag").and_then(Bencode::as_str).expect("tag");
            let medias = p.get("medias").and_then(Bencode::as_list).expect("medias");
            assert_eq!(medias.len(), 1, "one medium per party: {p:?}");
            let label = medias[0]
                .get("label")
                .and_then(Bencode::as_str)
                .expect("label");
            (tag.to_owned(), label.to_owned())
        })
        .collect()
}

#[test]
fn rtpengine_forks_a_call_to_tapline() {
    let work = tempfile::tempdir().unwrap();
    let (mut rtpe, ng) = start_rtpengine(work.path());
    let server = Server::start();
    let call_id = format!("rtpe-{}", common::token());
    let id = || ("call-id", Bencode::str(&call_id));

    // The communication session: alice offers, bob answers, both through rtpengine.
    let (alice, bob) = (Endpoint::bind(), Endpoint::bind());
    let offer = ng.command(
        "offer",
        vec![
            id(),
            ("from-tag", Bencode::str("alice-tag")),
            ("sdp", Bencode::str(&alice.sdp("alice"))),
        ],
    );
    let bob_sends_to = media_addr(&NgClient::sdp_of(&offer));
    let answer = ng.command(
        "answer",
        vec![
            id(),
            ("from-tag", Bencode::str("alice-tag")),
            ("to-tag", Bencode::str("bob-tag")),
            ("sdp", Bencode::str(&bob.sdp("bob"))),
        ],
    );
    let alice_sends_to = media_addr(&NgClient::sdp_of(&answer));

    // The recording session: rtpengine (the SRC's media side) offers both parties' media.
    let sub = ng.command(
        "subscribe request",
        vec![id(), ("flags", Bencode::strs(&["all", "SIPREC"]))],
    );
    let src_offer = NgClient::sdp_of(&sub);
    let srs_tag = sub.get("to-tag").and_then(Bencode::as_str).expect("to-tag");
    let labels = labels_by_tag(&sub);
    let (la, lb) = (&labels["alice-tag"], &labels["bob-tag"]);
    let offered = answer_media(src_offer.as_bytes());
    assert_eq!(offered.len(), 2, "two m-lines: {src_offer}");
    for (_, attrs) in &offered {
        assert!(attrs.iter().any(|a| a == "sendonly"), "{src_offer}");
        assert!(attrs.iter().any(|a| a.starts_with("label:")), "{src_offer}");
    }

    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let xml = metadata(
        "sip:alice@rtpengine.example",
        "sip:bob@rtpengine.example",
        (la, lb),
    );
    let (ct, body) = siprec_body(&src_offer, &xml);
    let invite = call.invite(&branch(), &[], &ct, &body);
    let ok = establish(&mut link, &call, &invite);
    let srs_answer = String::from_utf8(ok.body.clone()).expect("UTF-8 SDP answer");
    let answered = answer_media(srs_answer.as_bytes());
    assert_eq!(answered.len(), 2, "{srs_answer}");
    assert!(answered.iter().all(|(a, _)| a.port() != 0), "{srs_answer}");
    ng.command(
        "subscribe answer",
        vec![
            id(),
            ("to-tag", Bencode::str(srs_tag)),
            ("sdp", Bencode::str(&srs_answer)),
        ],
    );

    // 3 s of tone each way: 440 Hz from alice, 880 Hz from bob.
    let stop = Arc::new(AtomicBool::new(false));
    let (alice_hears, bob_hears) = (alice.collect(stop.clone()), bob.collect(stop.clone()));
    send_tones(
        &[(&alice, alice_sends_to, 440.0), (&bob, bob_sends_to, 880.0)],
        150,
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (alice_heard, bob_heard) = (alice_hears.join().unwrap(), bob_hears.join().unwrap());
    rtpe.assert_running();

    hang_up(&mut link, &call, &ok);
    ng.command(
        "delete",
        vec![id(), ("from-tag", Bencode::str("alice-tag"))],
    );

    // The call itself still works: each endpoint heard the other through rtpengine.
    check_tone("what alice heard", &alice_heard, 880.0, 3.0);
    check_tone("what bob heard", &bob_heard, 440.0, 3.0);

    let rec = wait_final(server.data_dir(), 1)[0].clone();
    assert_eq!(rec["call_id"], call.call_id.as_str(), "{rec:#}");
    check_recording(
        &server,
        &rec,
        ("sip:alice@rtpengine.example", "sip:bob@rtpengine.example"),
        (la, lb),
        150,
    );
    drop(rtpe);
}

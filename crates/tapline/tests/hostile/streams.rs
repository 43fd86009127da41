//! Labels that do not tell streams apart, and warnings repeated by the thousand. Every
//! answered m-line is its own stream in the catalogue (identified by its stream index, not
//! its label), with its own file holding its own audio; the label problem is a warning. An
//! INVITE that repeats one problem 1,200 times leaves one warning row with a count.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;

use crate::common::*;

const ALICE: &str = "sip:alice@example.com";
const BOB: &str = "sip:bob@example.com";

fn ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// Send one tone per answered m-line for 1.5 s, hang up, and return the final catalogue
/// entry of the call.
fn record_tones(server: &Server, mut d: SrcDialog, freqs: &[f64]) -> Value {
    let media = answer_media(&d.ok.body);
    assert_eq!(
        media.len(),
        freqs.len(),
        "{}",
        String::from_utf8_lossy(&d.ok.body)
    );
    let mut ports: Vec<u16> = media.iter().map(|(a, _)| a.port()).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), freqs.len(), "one port per m-line: {media:?}");
    assert!(!ports.contains(&0), "every m-line answered: {media:?}");
    let mut tones: Vec<ToneRtp> = media
        .iter()
        .zip(freqs)
        .map(|((addr, _), f)| ToneRtp::new(*addr, *f))
        .collect();
    let mut refs: Vec<&mut ToneRtp> = tones.iter_mut().collect();
    play(&mut refs, Duration::from_millis(1500));
    std::thread::sleep(Duration::from_millis(100));
    d.bye(None);
    wait_final(server.data_dir(), 1);
    let id = recording_of(server.data_dir(), &d.call.call_id)["id"]
        .as_str()
        .expect("recording id")
        .to_owned();
    show(server.data_dir(), &id)
}

/// Each stream in m-line order is its own accepted stream with its own file playing `freqs[i]`.
fn assert_own_audio(rec: &Value, freqs: &[f64]) {
    let streams = rec["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), freqs.len(), "{:#}", rec["streams"]);
    let mut files = Vec::new();
    for (i, (s, want)) in streams.iter().zip(freqs).enumerate() {
        assert_eq!(s["index"], i, "{s:#}");
        assert_eq!(s["mline"], i, "{s:#}");
        assert_eq!(s["state"], "accepted", "{s:#}");
        assert!(s["packets_received"].as_u64().unwrap_or(0) > 50, "{s:#}");
        let w = wav(path_of(&s["file"]));
        assert_eq!((w.channels, w.sample_rate), (1, 8000));
        let got = freq_between(&w.samples, 0.2, 1.2);
        assert!(
            (got - want).abs() < 30.0,
            "stream {i} holds {got} Hz, sent {want} Hz"
        );
        files.push(s["file"].as_str().expect("file").to_owned());
    }
    files.sort();
    files.dedup();
    assert_eq!(files.len(), freqs.len(), "distinct files: {files:?}");
    let listed = rec["files"]["streams"].as_object().expect("files.streams");
    assert_eq!(listed.len(), freqs.len(), "{:#}", rec["files"]);
}

fn warning_texts(rec: &Value) -> Vec<String> {
    rec["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["text"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn three_m_lines_labelled_1_are_three_streams_each_with_its_own_tone() {
    let server = Server::start();
    let lines = [
        MLine::audio(40_000, "1"),
        MLine::audio(40_002, "1"),
        MLine::audio(40_004, "1"),
    ];
    let sdp = sdp_offer(ip(), 1, &lines);
    let xml = metadata_xml(ALICE, BOB, 0);
    let d = SrcDialog::start_siprec(server.sip, &sdp, xml.as_bytes());
    let freqs = [400.0, 1000.0, 1600.0];
    let rec = record_tones(&server, d, &freqs);
    assert_eq!(rec["state"], "complete", "{rec:#}");
    assert_own_audio(&rec, &freqs);
    for s in rec["streams"].as_array().into_iter().flatten() {
        assert_eq!(s["label"], "1", "labels are kept as given: {s:#}");
    }
    let texts = warning_texts(&rec);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("label 1 is on m-lines 0, 1, 2")),
        "{texts:#?}"
    );
}

#[test]
fn an_unlabelled_m_line_named_like_a_real_label_is_still_its_own_stream() {
    let server = Server::start();
    // The server names an unlabelled m-line i "m{i}": m-line 0 carries that name for m-line 1.
    let lines = [MLine::audio(40_000, "m1"), MLine::audio(40_002, "DROP")];
    let sdp = sdp_offer(ip(), 1, &lines).replace("a=label:DROP\r\n", "");
    assert!(!sdp.contains("DROP"));
    let d = SrcDialog::start(server.sip, &[], "application/sdp", sdp.as_bytes());
    let freqs = [500.0, 1200.0];
    let rec = record_tones(&server, d, &freqs);
    assert_own_audio(&rec, &freqs);
    let labels: Vec<&str> = rec["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["label"].as_str())
        .collect();
    assert_eq!(labels, ["m1", "m1"]);
    let texts = warning_texts(&rec);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("m-line 1 has no a=label and is named m1")
                && t.contains("m-line(s) 0")),
        "{texts:#?}"
    );
}

#[test]
fn an_invite_with_1200_ignored_parts_leaves_one_counted_warning() {
    const EXTRA: usize = 1200;
    let server = Server::start();
    // About 130 kB of body: too big for a UDP datagram, so over TCP.
    let mut link = TcpLink::connect(server.sip);
    let call = link.call();
    let sdp = sdp_offer(
        ip(),
        1,
        &[MLine::audio(40_000, "1"), MLine::audio(40_002, "2")],
    );
    let xml = metadata_xml(ALICE, BOB, 0);
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![
        ("application/sdp", None, sdp.as_bytes()),
        (
            "application/rs-metadata+xml",
            Some("recording-session"),
            xml.as_bytes(),
        ),
    ];
    parts.extend((0..EXTRA).map(|_| ("text/plain", Some("render;handling=required"), &b"x"[..])));
    let (ct, body) = multipart(&parts);
    let ok = establish(&mut link, &call, &call.invite(&branch(), &[], &ct, &body));
    hang_up(&mut link, &call, &ok);
    wait_final(server.data_dir(), 1);
    let id = recording_of(server.data_dir(), &call.call_id)["id"]
        .as_str()
        .expect("recording id")
        .to_owned();
    let rec = show(server.data_dir(), &id);
    let warnings = rec["warnings"].as_array().expect("warnings");
    let ignored: Vec<&Value> = warnings
        .iter()
        .filter(|w| w["text"].as_str().is_some_and(|t| t.contains("text/plain")))
        .collect();
    assert_eq!(ignored.len(), 1, "{warnings:#?}");
    assert_eq!(ignored[0]["count"], EXTRA, "{:#}", ignored[0]);
    assert!(warnings.len() < 10, "{warnings:#?}");
    // Rows in the catalogue, not just in the JSON.
    let streams = rec["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), 2, "{streams:#?}");
}

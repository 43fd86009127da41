//! End to end: the real server on loopback records a call from `tapline call`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{BIN, Server, channel, path_of, wait_final, wav};

fn record_call(transport: &str) {
    let server = Server::start();
    let out = Command::new(BIN)
        .args([
            "call",
            "--srs",
            &server.sip.to_string(),
            "--transport",
            transport,
        ])
        .args([
            "--caller",
            "sip:alice@example.com",
            "--callee",
            "sip:bob@example.com",
        ])
        .args([
            "--caller-audio",
            "tone:440",
            "--callee-audio",
            "tone:880",
            "--duration",
            "3",
            "--json",
        ])
        .output()
        .expect("run tapline call");
    assert!(
        out.status.success(),
        "call failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).expect("call JSON");
    assert_eq!(outcome["status"], 200);
    assert_eq!(outcome["bye_status"], 200);
    for s in outcome["streams"].as_array().unwrap() {
        assert_eq!(s["packets_sent"], 150, "3 s of 20 ms packets: {s}");
    }

    let list = wait_final(server.data_dir(), 1);
    let rec = &list[0];
    assert_eq!(rec["state"], "complete", "{rec:#}");
    assert_eq!(rec["call_id"], outcome["call_id"]);
    let duration = rec["duration_ms"].as_u64().unwrap();
    assert!((2900..4000).contains(&duration), "duration_ms {duration}");

    // The catalogue names caller and callee, from the metadata.
    let parts = rec["participants"].as_array().unwrap();
    let alice = parts
        .iter()
        .find(|p| p["aor"] == "sip:alice@example.com")
        .expect("caller listed");
    let bob = parts
        .iter()
        .find(|p| p["aor"] == "sip:bob@example.com")
        .expect("callee listed");
    assert_eq!(alice["role"], "caller");
    assert_eq!(bob["role"], "callee");

    // Stereo: caller (440 Hz) left, callee (880 Hz) right, 3 s long (+ the few ms before the
    // first packet arrived).
    let stereo = wav(path_of(&rec["files"]["stereo"]));
    assert_eq!(stereo.channels, 2);
    assert_eq!(stereo.sample_rate, 8000);
    let left = channel(&stereo.samples, 2, 0);
    let right = channel(&stereo.samples, 2, 1);
    let secs = left.len() as f64 / 8000.0;
    assert!((secs - 3.0).abs() <= 0.040, "stereo lasts {secs} s");
    let mid = |v: &[i16]| v[4000..20000].to_vec();
    let fl = tapline_media::dominant_frequency(&mid(&left), 8000);
    let fr = tapline_media::dominant_frequency(&mid(&right), 8000);
    assert!((fl - 440.0).abs() < 10.0, "left is {fl} Hz");
    assert!((fr - 880.0).abs() < 10.0, "right is {fr} Hz");

    // Per-stream files, keyed by label.
    for (label, f) in [("1", 440.0), ("2", 880.0)] {
        let mono = wav(path_of(&rec["files"]["streams"][label]));
        assert_eq!(mono.channels, 1);
        let secs = mono.samples.len() as f64 / 8000.0;
        assert!((secs - 3.0).abs() <= 0.040, "stream {label} lasts {secs} s");
        let got = tapline_media::dominant_frequency(&mono.samples[4000..20000], 8000);
        assert!((got - f).abs() < 10.0, "stream {label} is {got} Hz");
    }

    // Streams in `show` carry their counters.
    let detail = common::show(server.data_dir(), rec["id"].as_str().unwrap());
    for s in detail["streams"].as_array().unwrap() {
        assert_eq!(s["packets_received"], 150, "{s}");
        assert_eq!(s["packets_lost"], 0, "{s}");
    }
    assert_eq!(detail["metadata"].as_array().unwrap().len(), 1);
}

#[test]
fn records_a_two_party_call_over_udp() {
    record_call("udp");
}

#[test]
fn records_a_two_party_call_over_tcp() {
    record_call("tcp");
}

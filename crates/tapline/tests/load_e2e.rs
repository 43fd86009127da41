//! CI smoke of `tapline load` against the real server: 200 concurrent SIPREC calls of 5 s
//! (5 s instead of the benchmark's 10+ s keeps CI fast; 200 x 2 x 250 = 100,000 packets).
//! Every call is recorded completely and the server counts exactly the packets the generator
//! says it sent. No timings are asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Server, list, show};

const CALLS: u64 = 200;
const SECONDS: u64 = 5;

/// Wait until the catalogue holds `n` recordings, none active (load-sized bound).
fn wait_all_final(data: &std::path::Path, n: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let l = list(data);
        let arr = l.as_array().cloned().unwrap_or_default();
        if arr.len() >= n && arr.iter().all(|r| r["state"] != "active") {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "recordings not final in time: {} listed, states {:?}",
            arr.len(),
            arr.iter().map(|r| r["state"].clone()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_hundred_concurrent_calls_are_recorded_without_loss() {
    let server = Server::start();
    let out = Command::new(BIN)
        .args(["load", "--srs", &server.sip.to_string()])
        .args(["--calls", &CALLS.to_string(), "--concurrency", "200"])
        .args([
            "--rate",
            "100",
            "--duration",
            &SECONDS.to_string(),
            "--json",
        ])
        .output()
        .expect("run tapline load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "load failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("load JSON");
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["calls"]["answered"], CALLS, "{report:#}");
    assert_eq!(report["bye"]["200"], CALLS, "{report:#}");
    let per_stream = SECONDS * 50;
    assert_eq!(
        report["packets"]["per_stream_min"], per_stream,
        "{report:#}"
    );
    assert_eq!(
        report["packets"]["per_stream_max"], per_stream,
        "{report:#}"
    );
    let sent = report["packets"]["sent"].as_u64().unwrap();
    assert_eq!(sent, CALLS * 2 * per_stream);

    let recs = wait_all_final(server.data_dir(), CALLS as usize);
    let recs = recs.as_array().unwrap();
    assert_eq!(recs.len(), CALLS as usize);
    let mut received = 0u64;
    for r in recs {
        assert_eq!(r["state"], "complete", "{r:#}");
        assert!(r["call_id"].as_str().unwrap().starts_with("load-"), "{r:#}");
        let d = show(server.data_dir(), r["id"].as_str().unwrap());
        let streams = d["streams"].as_array().unwrap();
        assert_eq!(streams.len(), 2, "{d:#}");
        for s in streams {
            assert_eq!(s["packets_lost"], 0, "stream lost packets: {s:#}");
            assert_eq!(s["packets_received"], per_stream, "{s:#}");
            received += s["packets_received"].as_u64().unwrap();
        }
    }
    // The server recorded exactly what the generator sent: zero loss end to end.
    assert_eq!(
        received, sent,
        "server counted {received}, generator sent {sent}"
    );
}

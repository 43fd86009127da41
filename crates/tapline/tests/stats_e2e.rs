//! End to end: the server's receive counters, read with `tapline stats` over the Unix socket
//! in the data directory, match what the SRC simulator sent; calls spread over media threads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Server, stats, stats_with, wait_final};

/// Poll the stats (10 s bound) until `pred` holds.
fn stats_until(
    data: &Path,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = stats(data);
        if pred(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "stats never showed {what}: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn_call(server: &Server, secs: &str) -> Child {
    Command::new(BIN)
        .args(["call", "--srs", &server.sip.to_string(), "--duration", secs])
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tapline call")
}

/// Wait for a call (bounded) and return its JSON outcome.
fn finish_call(mut child: Child) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tapline call did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out: Output = child.wait_with_output().expect("call output");
    assert!(
        out.status.success(),
        "call failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("call JSON");
    assert_eq!(v["status"], 200, "{v}");
    assert_eq!(v["bye_status"], 200, "{v}");
    v
}

fn packets_sent(outcome: &serde_json::Value) -> u64 {
    outcome["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["packets_sent"].as_u64().unwrap())
        .sum()
}

#[test]
fn stats_count_what_the_simulator_sent() {
    let mut server = Server::start();
    let data = server.data_dir().to_owned();
    let sock = data.join("tapline.sock");

    let idle = stats(&data);
    assert_eq!(idle["packets_received"], 0, "{idle:#}");
    assert_eq!(idle["active_streams"], 0);
    let threads = idle["media_threads"].as_u64().unwrap();
    assert!(
        (1..=4).contains(&threads),
        "default media threads {threads}"
    );
    assert_eq!(idle["shards"].as_array().unwrap().len() as u64, threads);

    let call = spawn_call(&server, "2");
    let during = stats_until(&data, "the call's two streams", |s| {
        s["active_streams"] == 2 && s["packets_received"].as_u64().unwrap() > 0
    });
    assert_eq!(during["active_recordings"], 1, "{during:#}");
    let outcome = finish_call(call);
    let sent = packets_sent(&outcome);
    assert_eq!(sent, 200, "2 s of 20 ms packets on two streams: {outcome}");
    wait_final(&data, 1);

    // Removed streams stay counted; the shard publishes them at its next flush.
    let after = stats_until(&data, "the streams removed", |s| s["active_streams"] == 0);
    assert_eq!(
        after["packets_received"].as_u64().unwrap(),
        sent,
        "{after:#}"
    );
    assert_eq!(after["active_recordings"], 0);
    assert_eq!(after["packets_lost"], 0);
    assert_eq!(after["packets_duplicate"], 0);
    assert_eq!(after["packets_late"], 0);
    // PCMU: 12 header bytes + 160 payload bytes per packet.
    assert_eq!(after["bytes_received"].as_u64().unwrap(), sent * 172);
    // About 2 s of 16-bit 8 kHz audio per stream reached the writer.
    let written = after["bytes_written"].as_u64().unwrap();
    assert!(
        (2 * 30_000..=2 * 40_000).contains(&written),
        "bytes_written {written}"
    );

    // The same answer through --socket.
    let direct = stats_with(&["--socket"], &sock);
    assert_eq!(direct["packets_received"], after["packets_received"]);

    // SIGUSR1 logs the totals.
    let pid = server.child.id().to_string();
    let _ = server.log_lines();
    assert!(
        Command::new("kill")
            .args(["-USR1", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let want = format!("packets_received={sent}");
    loop {
        let lines = server.log_lines();
        if lines.iter().any(|l| l.contains(&want)) {
            break;
        }
        assert!(Instant::now() < deadline, "no stats log line after SIGUSR1");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The socket goes away with the server, and the CLI then fails cleanly.
    assert!(sock.exists());
    assert!(server.terminate().success());
    assert!(!sock.exists(), "stats socket left behind");
    let out = Command::new(BIN)
        .args(["stats", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn concurrent_recordings_land_on_different_media_threads() {
    let server = Server::start_with(&[], Some("media_threads = 3\n"));
    let data = server.data_dir().to_owned();
    assert_eq!(stats(&data)["media_threads"], 3);
    let calls = [spawn_call(&server, "3"), spawn_call(&server, "3")];
    let during = stats_until(&data, "both recordings receiving", |s| {
        s["active_recordings"] == 2 && s["active_streams"] == 4
    });
    // Round-robin by recording; both streams of a recording on the same thread.
    let shards = during["shards"].as_array().unwrap();
    let busy: Vec<(u64, u64)> = shards
        .iter()
        .map(|s| {
            (
                s["active_recordings"].as_u64().unwrap(),
                s["active_streams"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(busy, vec![(1, 2), (1, 2), (0, 0)], "{during:#}");
    let sent: u64 = calls.map(finish_call).iter().map(packets_sent).sum();
    wait_final(&data, 2);
    let after = stats_until(&data, "both calls over", |s| s["active_streams"] == 0);
    assert_eq!(
        after["packets_received"].as_u64().unwrap(),
        sent,
        "{after:#}"
    );
}

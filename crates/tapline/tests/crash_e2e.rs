//! End to end crash recovery: the server is killed with SIGKILL in the middle of a call; on
//! restart over the same data directory the recording is repaired and marked interrupted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{BIN, Server, list, path_of, show};

/// Start `tapline serve` over an existing data directory (taken from a stopped server).
fn restart(data: tempfile::TempDir) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--sip-listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tapline serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sip = None;
    let mut seen = Vec::new();
    while sip.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            if line.contains("tapline listening") {
                sip = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("sip=").and_then(|a| a.parse().ok()));
            }
            seen.push(line);
        }
    }
    let sip = sip.unwrap_or_else(|| panic!("restarted server did not listen: {seen:#?}"));
    // Put the lines read so far back in front of the rest.
    let (tx2, rx2) = mpsc::channel();
    for l in seen {
        tx2.send(l).unwrap();
    }
    std::thread::spawn(move || {
        for l in rx.iter() {
            if tx2.send(l).is_err() {
                break;
            }
        }
    });
    Server {
        child,
        sip,
        data,
        log: rx2,
    }
}

#[test]
fn sigkill_mid_call_leaves_repairable_files_and_an_interrupted_recording() {
    let mut server = Server::start();
    let mut call = Command::new(BIN)
        .args(["call", "--srs", &server.sip.to_string()])
        .args(["--caller-audio", "tone:440", "--callee-audio", "tone:880"])
        .args(["--duration", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tapline call");
    // Wait until the recording exists, then let 3 s of audio flow.
    let deadline = Instant::now() + Duration::from_secs(10);
    while list(server.data_dir()).as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no recording started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(3));
    server.child.kill().expect("SIGKILL the server");
    server.child.wait().unwrap();
    let _ = call.kill();
    let _ = call.wait();

    let before = list(server.data_dir());
    assert_eq!(before[0]["state"], "active", "nobody closed it: {before:#}");

    let data = std::mem::replace(&mut server.data, tempfile::tempdir().unwrap());
    drop(server);
    let server = restart(data);
    let rec = list(server.data_dir())[0].clone();
    assert_eq!(rec["state"], "interrupted", "{rec:#}");
    let id = rec["id"].as_str().unwrap();
    let detail = show(server.data_dir(), id);
    assert_eq!(
        detail["end_reason"], "server stopped during the recording",
        "{detail:#}"
    );
    assert!(
        !detail["warnings"].as_array().unwrap().is_empty(),
        "a warning says what happened: {detail:#}"
    );
    let duration = rec["duration_ms"].as_u64().unwrap();
    assert!(
        (2000..5000).contains(&duration),
        "duration {duration} ms: the audio written before the kill"
    );
    assert!(detail["last_audio_at"].is_string(), "{detail:#}");

    // Every file the catalogue lists reads back with at least 2 s of the right tone.
    let mut files = vec![("stereo".to_owned(), path_of(&rec["files"]["stereo"]))];
    for label in ["1", "2"] {
        files.push((label.to_owned(), path_of(&rec["files"]["streams"][label])));
    }
    for (name, path) in files {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let w = tapline_media::read_wav(&bytes)
            .unwrap_or_else(|e| panic!("{name}: {} unreadable: {e}", path.display()));
        let rate = w.sample_rate as usize;
        let ch = usize::from(w.channels);
        let frames = w.samples.len() / ch;
        assert!(frames >= 2 * rate, "{name}: only {frames} frames");
        for c in 0..ch {
            let freq = match (name.as_str(), c) {
                ("stereo", 0) | ("1", _) => 440.0,
                _ => 880.0,
            };
            let samples = common::channel(&w.samples, ch, c);
            let got = tapline_media::dominant_frequency(&samples[rate / 4..2 * rate], rate as u32);
            assert!((got - freq).abs() < 10.0, "{name} channel {c}: {got} Hz");
        }
    }
    // No half-written `.part` file is left behind.
    let dir = path_of(&rec["files"]["dir"]);
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".part"), "{name} left in {}", dir.display());
    }
    let logs = server.log_lines().join("\n");
    assert!(
        logs.contains("marked interrupted"),
        "one log line per recovered recording: {logs}"
    );
}

//! End to end with a third-party SRC: sipp (the `sip-tester` package) runs
//! `tests/sipp/siprec_uac.xml` against the real server over UDP and over TCP. The scenario sends
//! a SIPREC INVITE (two labelled sendonly PCMU m-lines plus RFC 7865 metadata), ACKs, streams a
//! 440 Hz tone to the first answered port and 880 Hz to the second through
//! `tapline rtp-send` (sipp `<exec>`), then sends BYE.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Server, channel, path_of, wait_final, wav};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sipp/siprec_uac.xml");
/// sipp's own global timeout (`-timeout`), in seconds; the test kills it a bit later.
const SIPP_TIMEOUT_S: u64 = 30;
/// sipp exits with 255 - 1 = 254 when it cannot bind a socket (fatal error -2).
const SIPP_BIND_ERROR: i32 = 254;

/// A UDP and TCP port free on 127.0.0.1 right now (never 5060: sipp's own default would try it).
fn free_sip_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if port != 5060 && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free UDP+TCP port on 127.0.0.1");
}

/// An even UDP port P with P and P+2 free (sipp binds its audio and video echo sockets there).
fn free_media_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port() & !1;
        if port > 1024
            && port < 65530
            && UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok()
        {
            return port;
        }
    }
    panic!("no free media port pair on 127.0.0.1");
}

/// A UDP port free on every address (sipp's control socket binds 0.0.0.0).
fn free_control_port() -> u16 {
    UdpSocket::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fail loudly when sipp is not installed: CI installs it, so a missing sipp is a broken setup.
fn require_sipp() {
    match Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(e) => panic!("sipp is required (Debian/Ubuntu package sip-tester): {e}"),
    }
}

/// Everything sipp left behind, for the failure message.
fn sipp_logs(dir: &Path) -> String {
    let mut text = String::new();
    for name in ["screen.txt", "errors.log", "messages.log", "stderr.txt"] {
        let body = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        text.push_str(&format!("--- sipp {name} ---\n{body}\n"));
    }
    text
}

/// Run the scenario once with `-t transport` against `server`; returns sipp's exit status.
fn run_sipp_once(server: &Server, transport: &str, logs: &Path) -> ExitStatus {
    let out = |name: &str| std::fs::File::create(logs.join(name)).unwrap();
    let mut child = Command::new("sipp")
        .arg("-sf")
        .arg(SCENARIO)
        .arg("-key")
        .arg("tapline")
        .arg(BIN)
        .args(["-m", "1", "-t", transport, "-i", "127.0.0.1"])
        .args(["-p", &free_sip_port().to_string()])
        .args(["-mp", &free_media_port().to_string()])
        .args(["-cp", &free_control_port().to_string()])
        .arg(server.sip.to_string())
        .args(["-timeout", &SIPP_TIMEOUT_S.to_string(), "-timeout_error"])
        .args(["-nostdin", "-trace_err", "-error_file"])
        .arg(logs.join("errors.log"))
        .arg("-trace_msg")
        .arg("-message_file")
        .arg(logs.join("messages.log"))
        .current_dir(logs)
        .stdin(Stdio::null())
        .stdout(out("screen.txt"))
        .stderr(out("stderr.txt"))
        .spawn()
        .expect("spawn sipp");
    let deadline = Instant::now() + Duration::from_secs(SIPP_TIMEOUT_S + 15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "sipp ran past {} s and was killed\n{}",
                SIPP_TIMEOUT_S + 15,
                sipp_logs(logs)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run sipp, retrying only when it could not bind the ports picked for it (another process
/// took one between the check and sipp's bind); any other failure is final.
fn run_sipp(server: &Server, transport: &str, logs: &Path) {
    for _ in 0..3 {
        let status = run_sipp_once(server, transport, logs);
        if status.code() == Some(SIPP_BIND_ERROR) {
            continue;
        }
        assert!(
            status.success(),
            "sipp over {transport} failed: {status}\n{}\nserver log:\n{}",
            sipp_logs(logs),
            server.log_lines().join("\n")
        );
        return;
    }
    panic!(
        "sipp could not bind its ports three times\n{}",
        sipp_logs(logs)
    );
}

/// First and last sample whose magnitude shows the tone (the file ends with silence up to the
/// BYE, which sipp sends a little after the last RTP packet).
fn tone_span(samples: &[i16]) -> (usize, usize) {
    let loud = |s: &i16| s.unsigned_abs() > 256;
    let first = samples.iter().position(loud).expect("no audio in file");
    let last = samples.iter().rposition(loud).expect("no audio in file");
    (first, last)
}

/// Seconds of tone in one channel, and its dominant frequency in the middle second.
fn tone(samples: &[i16]) -> (f64, f64) {
    let (first, last) = tone_span(samples);
    let secs = (last + 1 - first) as f64 / 8000.0;
    let mid = first + (last - first) / 2;
    let window = &samples[mid - 4000..mid + 4000];
    (secs, tapline_media::dominant_frequency(window, 8000))
}

/// Check one channel: the expected tone, for 3 s, in a file that lasts from the first packet to
/// the BYE (3 s plus the scenario's 200 ms margin and scheduling slack).
fn check_channel(what: &str, samples: &[i16], freq: f64) {
    let total = samples.len() as f64 / 8000.0;
    assert!((2.96..=3.7).contains(&total), "{what} lasts {total} s");
    let (secs, got) = tone(samples);
    assert!((secs - 3.0).abs() <= 0.040, "{what} holds {secs} s of tone");
    assert!(
        (got - freq).abs() < 10.0,
        "{what} is {got} Hz, expected {freq}"
    );
}

fn record_with_sipp(transport: &str) {
    require_sipp();
    let server = Server::start();
    let logs = tempfile::tempdir().unwrap();
    run_sipp(&server, transport, logs.path());

    let list = wait_final(server.data_dir(), 1);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    let rec = &list[0];
    assert_eq!(rec["state"], "complete", "{rec:#}");
    let call_id = rec["call_id"].as_str().unwrap();
    assert!(call_id.contains("@127.0.0.1"), "sipp Call-ID: {call_id}");

    // Roles come from the metadata: alice sends label 1, bob label 2.
    let parts = rec["participants"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{rec:#}");
    let find = |aor: &str| {
        parts
            .iter()
            .find(|p| p["aor"] == aor)
            .unwrap_or_else(|| panic!("{aor} not listed: {rec:#}"))
    };
    let alice = find("sip:alice@sipp.example");
    let bob = find("sip:bob@sipp.example");
    assert_eq!(alice["role"], "caller");
    assert_eq!(bob["role"], "callee");
    assert_eq!(alice["sends"], serde_json::json!(["1"]));
    assert_eq!(bob["sends"], serde_json::json!(["2"]));

    // Per-stream mono files, keyed by SDP label.
    let streams = rec["files"]["streams"].as_object().unwrap();
    assert_eq!(streams.len(), 2, "{rec:#}");
    for (label, freq) in [("1", 440.0), ("2", 880.0)] {
        let mono = wav(path_of(&streams[label]));
        assert_eq!(mono.channels, 1);
        assert_eq!(mono.sample_rate, 8000);
        check_channel(&format!("stream {label}"), &mono.samples, freq);
    }

    // Stereo: caller (alice, 440 Hz) left, callee (bob, 880 Hz) right.
    let stereo = wav(path_of(&rec["files"]["stereo"]));
    assert_eq!(stereo.channels, 2);
    assert_eq!(stereo.sample_rate, 8000);
    check_channel("left", &channel(&stereo.samples, 2, 0), 440.0);
    check_channel("right", &channel(&stereo.samples, 2, 1), 880.0);

    // Every one of the 150 packets (3 s of 20 ms) arrived on each stream.
    let detail = common::show(server.data_dir(), rec["id"].as_str().unwrap());
    let counters = detail["streams"].as_array().unwrap();
    assert_eq!(counters.len(), 2, "{detail:#}");
    for s in counters {
        assert_eq!(s["codec"], "PCMU", "{s}");
        assert_eq!(s["packets_received"], 150, "{s}");
        assert_eq!(s["packets_lost"], 0, "{s}");
    }
    assert_eq!(
        detail["metadata"].as_array().unwrap().len(),
        1,
        "{detail:#}"
    );
}

#[test]
fn sipp_src_recorded_over_udp() {
    record_with_sipp("u1");
}

#[test]
fn sipp_src_recorded_over_tcp() {
    record_with_sipp("t1");
}

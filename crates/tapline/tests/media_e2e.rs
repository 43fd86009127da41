//! End to end media fidelity: `tapline call` sends each codec, impaired networks, and DTMF to
//! the real server; the recorded files are compared with what was sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, Server, channel, path_of, show, wait_final, wav};

/// Run `tapline call --json` against `server` with extra arguments; the call must succeed.
fn call(server: &Server, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["call", "--srs", &server.sip.to_string(), "--json"])
        .args(extra)
        .output()
        .expect("run tapline call");
    assert!(
        out.status.success(),
        "call failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).expect("call JSON");
    assert_eq!(outcome["status"], 200, "{outcome}");
    assert_eq!(outcome["bye_status"], 200, "{outcome}");
    outcome
}

/// The single recording of a server, once final, with its `show` detail.
fn the_recording(server: &Server) -> (serde_json::Value, serde_json::Value) {
    let list = wait_final(server.data_dir(), 1);
    let rec = list[0].clone();
    assert_eq!(rec["state"], "complete", "{rec:#}");
    let detail = show(server.data_dir(), rec["id"].as_str().unwrap());
    (rec, detail)
}

/// Band-limited noise (white noise through a one-pole low-pass), non-periodic so it
/// correlates with itself at one lag only.
fn noise(seed: u64, samples: usize) -> Vec<i16> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut y = 0.0f64;
    (0..samples)
        .map(|_| {
            let x = rng.f64() * 2.0 - 1.0;
            y = 0.6 * y + 0.4 * x;
            (y * 14_000.0).round() as i16
        })
        .collect()
}

fn write_wav(path: &Path, rate: u32, samples: &[i16]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = tapline_media::WavWriter::new(std::io::BufWriter::new(f), 1, rate).unwrap();
    w.write_samples(samples).unwrap();
    w.finalize().unwrap();
}

/// Lag (in samples, recorded minus source) in -max..=max with the highest normalized
/// cross-correlation of `source[from..to]` against `rec`, and that correlation.
fn best_lag(source: &[i16], rec: &[i16], from: usize, to: usize, max: i64) -> (i64, f64) {
    let src = &source[from..to];
    let e_src: f64 = src.iter().map(|&x| f64::from(x).powi(2)).sum();
    let mut best = (0i64, f64::MIN);
    for lag in -max..=max {
        let start = from as i64 + lag;
        if start < 0 || start as usize + src.len() > rec.len() {
            continue;
        }
        let r = &rec[start as usize..start as usize + src.len()];
        let (mut dot, mut e_rec) = (0.0f64, 0.0f64);
        for (&a, &b) in src.iter().zip(r) {
            dot += f64::from(a) * f64::from(b);
            e_rec += f64::from(b).powi(2);
        }
        let ncc = dot / (e_src * e_rec).sqrt().max(1.0);
        if ncc > best.1 {
            best = (lag, ncc);
        }
    }
    best
}

/// Each label's mono file: the right tone, 3 s long (+-40 ms); the stereo file too.
fn check_codec(codec: &str) {
    let server = Server::start();
    call(
        &server,
        &[
            "--codec",
            codec,
            "--caller-audio",
            "tone:440",
            "--callee-audio",
            "tone:880",
            "--duration",
            "3",
        ],
    );
    let (rec, detail) = the_recording(&server);
    for (label, freq) in [("1", 440.0), ("2", 880.0)] {
        let mono = wav(path_of(&rec["files"]["streams"][label]));
        assert_eq!(mono.channels, 1);
        let rate = mono.sample_rate;
        let secs = mono.samples.len() as f64 / f64::from(rate);
        assert!(
            (secs - 3.0).abs() <= 0.040,
            "{codec} stream {label} lasts {secs} s"
        );
        let mid = &mono.samples[rate as usize / 2..rate as usize * 5 / 2];
        let got = tapline_media::dominant_frequency(mid, rate);
        assert!(
            (got - freq).abs() < 10.0,
            "{codec} stream {label} is {got} Hz"
        );
    }
    let stereo = wav(path_of(&rec["files"]["stereo"]));
    assert_eq!(stereo.channels, 2);
    let rate = stereo.sample_rate;
    for (ch, freq) in [(0, 440.0), (1, 880.0)] {
        let c = channel(&stereo.samples, 2, ch);
        let secs = c.len() as f64 / f64::from(rate);
        assert!((secs - 3.0).abs() <= 0.040, "{codec} stereo lasts {secs} s");
        let got =
            tapline_media::dominant_frequency(&c[rate as usize / 2..rate as usize * 5 / 2], rate);
        assert!(
            (got - freq).abs() < 10.0,
            "{codec} stereo channel {ch} is {got} Hz"
        );
    }
    for s in detail["streams"].as_array().unwrap() {
        assert_eq!(s["packets_received"], 150, "{codec}: {s}");
        assert_eq!(s["packets_lost"], 0, "{codec}: {s}");
    }
}

#[test]
fn pcmu_end_to_end() {
    check_codec("pcmu");
}

#[test]
fn pcma_end_to_end() {
    check_codec("pcma");
}

#[test]
fn g722_end_to_end() {
    check_codec("g722");
}

#[test]
fn opus_end_to_end() {
    check_codec("opus");
}

#[test]
fn l16_end_to_end() {
    check_codec("l16");
}

#[cfg(feature = "g729")]
#[test]
fn g729_end_to_end() {
    check_codec("g729");
}

/// Sources for both labels, written to WAV files in `dir`: 3 s of distinct noise.
fn noise_sources(dir: &Path) -> [(String, Vec<i16>); 2] {
    [1u64, 2].map(|seed| {
        let samples = noise(seed, 24_000);
        let path = dir.join(format!("noise{seed}.wav"));
        write_wav(&path, 8000, &samples);
        (path.display().to_string(), samples)
    })
}

#[test]
fn clean_pcmu_call_is_sample_accurate() {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let [(a, sa), (b, sb)] = noise_sources(tmp.path());
    call(
        &server,
        &[
            "--caller-audio",
            &a,
            "--callee-audio",
            &b,
            "--duration",
            "3",
        ],
    );
    let (rec, _) = the_recording(&server);
    for (label, src) in [("1", &sa), ("2", &sb)] {
        let mono = wav(path_of(&rec["files"]["streams"][label]));
        assert_eq!(mono.sample_rate, 8000);
        let (lag, ncc) = best_lag(src, &mono.samples, 800, 23_200, 800);
        assert!(lag.abs() <= 8, "stream {label} is offset by {lag} samples");
        assert!(
            ncc >= 0.99,
            "stream {label} correlates {ncc:.4} with its source"
        );
    }
}

/// A 3 s call of noise with 5 % loss, 2 % held back, 1 % duplicated and 0-60 ms jitter:
/// durations and counters are checked here; returns each channel's (lag, correlation)
/// against its source.
fn impaired_call(seed: &str) -> Vec<(i64, f64)> {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let [(a, sa), (b, sb)] = noise_sources(tmp.path());
    let outcome = call(
        &server,
        &[
            "--caller-audio",
            &a,
            "--callee-audio",
            &b,
            "--duration",
            "3",
            "--loss",
            "5",
            "--reorder",
            "2",
            "--duplicate",
            "1",
            "--jitter",
            "60",
            "--seed",
            seed,
        ],
    );
    let (rec, detail) = the_recording(&server);
    let sent = outcome["streams"].as_array().unwrap();
    // The seed is fixed: the run really drops, duplicates and reorders packets.
    for k in ["packets_dropped", "packets_duplicated", "packets_reordered"] {
        let total: u64 = sent.iter().map(|s| s[k].as_u64().unwrap()).sum();
        assert!(total > 0, "no {k} in {outcome}");
    }
    let mut lags = Vec::new();
    for (label, src) in [("1", &sa), ("2", &sb)] {
        let mono = wav(path_of(&rec["files"]["streams"][label]));
        let secs = mono.samples.len() as f64 / 8000.0;
        assert!((secs - 3.0).abs() <= 0.040, "stream {label} lasts {secs} s");
        // Offset of the whole channel against its source, over the middle 2.8 s.
        let (lag, ncc) = best_lag(src, &mono.samples, 800, 23_200, 800);
        // 5 % loss still leaves most of the signal in place.
        assert!(ncc > 0.8, "stream {label} correlates {ncc:.3}");
        eprintln!("seed {seed} stream {label}: offset {lag} samples, correlation {ncc:.3}");
        lags.push((lag, ncc));

        let sim = sent.iter().find(|s| s["label"] == label).unwrap();
        let got = detail["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["label"] == label)
            .unwrap();
        let n =
            |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
        let (generated, dropped, duplicated) = (
            n(sim, "packets_generated"),
            n(sim, "packets_dropped"),
            n(sim, "packets_duplicated"),
        );
        assert_eq!(generated, 150);
        assert_eq!(
            n(sim, "packets_sent"),
            generated - dropped + duplicated,
            "{sim}"
        );
        assert_eq!(
            n(got, "packets_received"),
            generated - dropped,
            "{label}: {got} vs {sim}"
        );
        assert_eq!(
            n(got, "packets_duplicated"),
            duplicated,
            "{label}: {got} vs {sim}"
        );
        // Drops before the first or after the last packet received are not counted lost.
        let lost = n(got, "packets_lost");
        assert!(
            lost <= dropped && lost + 3 >= dropped,
            "{label}: lost {lost}, dropped {dropped}"
        );
    }
    lags
}

#[test]
fn impaired_call_keeps_timing_and_counts() {
    // File position 0 is the first packet to arrive; each channel sits within 20 ms of it.
    for (lag, ncc) in impaired_call("3") {
        assert!(
            lag.abs() <= 160,
            "channel offset by {lag} samples ({ncc:.3})"
        );
    }
}

/// Both sources start at the same instant, so the two channels must line up with each other
/// (within 20 ms) whatever the first packets' jitter was.
#[test]
fn impaired_channels_stay_aligned_with_each_other() {
    let lags = impaired_call("20240611");
    let (a, b) = (lags[0].0, lags[1].0);
    assert!(
        (a - b).abs() <= 160,
        "caller at {a} samples, callee at {b}: {} ms apart",
        (a - b).abs() / 8
    );
}

#[test]
fn dtmf_digits_reach_the_catalogue() {
    let server = Server::start();
    call(&server, &["--dtmf", "1234#", "--duration", "3"]);
    let (_, detail) = the_recording(&server);
    let dtmf = detail["dtmf"]
        .as_array()
        .unwrap_or_else(|| panic!("no dtmf in show: {detail:#}"));
    let digits: String = dtmf.iter().map(|d| d["digit"].as_str().unwrap()).collect();
    assert_eq!(digits, "1234#", "{dtmf:#?}");
    for (k, d) in dtmf.iter().enumerate() {
        assert_eq!(
            d["label"], "1",
            "digits were sent on the caller stream: {d}"
        );
        // Sent 1 s in, one every 200 ms (100 ms tone, 100 ms gap).
        let expect = 1000 + 200 * k as i64;
        let pos = d["position_ms"].as_i64().unwrap();
        assert!(
            (pos - expect).abs() <= 40,
            "digit {k} at {pos} ms, sent at {expect}"
        );
        let dur = d["duration_ms"].as_i64().unwrap();
        assert!((80..=120).contains(&dur), "digit {k} lasts {dur} ms");
    }
}

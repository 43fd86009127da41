//! Shared helpers for end-to-end tests: start the real `tapline serve` on loopback with its own
//! data directory and a free port, run the CLI, read the catalogue.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tapline");

/// A running server; killed on drop.
pub struct Server {
    pub child: Child,
    pub sip: SocketAddr,
    pub data: tempfile::TempDir,
    pub log: mpsc::Receiver<String>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[], None)
    }

    /// Start with extra flags and an optional TOML config text.
    pub fn start_with(extra: &[&str], config: Option<&str>) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg("--sip-listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data.path())
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(text) = config {
            let path = data.path().join("tapline.toml");
            std::fs::write(&path, text).expect("config");
            cmd.arg("--config").arg(path);
        }
        let mut child = cmd.spawn().expect("spawn tapline serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var_os("TAPLINE_TEST_LOG").is_some() {
                    eprintln!("[serve] {line}");
                }
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut sip = None;
        while sip.is_none() && Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                if line.contains("tapline listening") {
                    sip = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("sip=").and_then(|a| a.parse().ok()));
                }
            }
        }
        let sip = sip.expect("server did not report its SIP address");
        Server {
            child,
            sip,
            data,
            log: rx,
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Stop with SIGTERM and wait (finalizes recordings in progress).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Drain and return the log lines seen so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tapline recordings list --json`.
pub fn list(data: &Path) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["recordings", "list", "--json", "--data-dir"])
        .arg(data)
        .output()
        .expect("run recordings list");
    assert!(
        out.status.success(),
        "recordings list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("list JSON")
}

/// `tapline recordings show ID --json`.
pub fn show(data: &Path, id: &str) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["recordings", "show", id, "--json", "--data-dir"])
        .arg(data)
        .output()
        .expect("run recordings show");
    assert!(
        out.status.success(),
        "recordings show failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("show JSON")
}

/// Wait until every recording in the catalogue has left `active`, and return the list.
pub fn wait_final(data: &Path, expect: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let l = list(data);
        let arr = l.as_array().cloned().unwrap_or_default();
        if arr.len() >= expect && arr.iter().all(|r| r["state"] != "active") {
            return l;
        }
        if Instant::now() > deadline {
            panic!("recordings not final in time: {l:#}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Read a WAV file written by the server.
pub fn wav(path: impl AsRef<Path>) -> tapline_media::WavData {
    let bytes = std::fs::read(path.as_ref())
        .unwrap_or_else(|e| panic!("read {}: {e}", path.as_ref().display()));
    tapline_media::read_wav(&bytes).expect("valid WAV")
}

/// One channel of an interleaved buffer.
pub fn channel(samples: &[i16], channels: usize, which: usize) -> Vec<i16> {
    samples
        .iter()
        .skip(which)
        .step_by(channels)
        .copied()
        .collect()
}

pub fn path_of(v: &serde_json::Value) -> PathBuf {
    PathBuf::from(v.as_str().expect("path string"))
}

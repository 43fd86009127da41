//! Run the shared sipp SIPREC scenario (tests/sipp/siprec_uac.xml) against any SIP address,
//! bounded in time, with sipp's message trace kept for assertions.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::daemon::{free_media_port, free_port};

/// The scenario the plain sipp tests use; these tests reuse it unchanged.
pub const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sipp/siprec_uac.xml");
/// sipp's own global timeout (`-timeout`), in seconds; the test kills it a bit later.
const SIPP_TIMEOUT_S: u64 = 30;
/// sipp exits with 254 when it cannot bind a socket (fatal error -2).
const SIPP_BIND_ERROR: i32 = 254;

/// Everything sipp left in `dir`, for failure messages.
pub fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for name in ["screen.txt", "errors.log", "messages.log", "stderr.txt"] {
        let body = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        text.push_str(&format!("--- sipp {name} ---\n{body}\n"));
    }
    text
}

fn run_once(remote: SocketAddr, tapline_bin: &str, dir: &Path) -> ExitStatus {
    let out = |name: &str| std::fs::File::create(dir.join(name)).expect("sipp log file");
    let control = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.local_addr())
        .expect("control port")
        .port();
    let mut child = Command::new("sipp")
        .arg("-sf")
        .arg(SCENARIO)
        .args(["-key", "tapline", tapline_bin])
        .args(["-m", "1", "-t", "u1", "-i", "127.0.0.1"])
        .args(["-p", &free_port().to_string()])
        .args(["-mp", &free_media_port().to_string()])
        .args(["-cp", &control.to_string()])
        .arg(remote.to_string())
        .args(["-timeout", &SIPP_TIMEOUT_S.to_string(), "-timeout_error"])
        .args(["-nostdin", "-trace_err", "-error_file"])
        .arg(dir.join("errors.log"))
        .arg("-trace_msg")
        .arg("-message_file")
        .arg(dir.join("messages.log"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out("screen.txt"))
        .stderr(out("stderr.txt"))
        .spawn()
        .expect("spawn sipp");
    let deadline = Instant::now() + Duration::from_secs(SIPP_TIMEOUT_S + 15);
    loop {
        if let Some(status) = child.try_wait().expect("wait sipp") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sipp ran past its deadline and was killed\n{}", logs(dir));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run the scenario once over UDP towards `remote`; retried only when sipp could not bind the
/// ports picked for it. Panics (with `context()` appended) on any other failure.
pub fn run(remote: SocketAddr, tapline_bin: &str, dir: &Path, context: impl Fn() -> String) {
    for _ in 0..3 {
        let status = run_once(remote, tapline_bin, dir);
        if status.code() == Some(SIPP_BIND_ERROR) {
            continue;
        }
        assert!(
            status.success(),
            "sipp failed: {status}\n{}\n{}",
            logs(dir),
            context()
        );
        return;
    }
    panic!("sipp could not bind its ports three times\n{}", logs(dir));
}

/// The SIP messages of sipp's `-trace_msg` log as (direction "sent"/"received", text).
pub fn traced_messages(dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join("messages.log")).expect("sipp messages.log");
    text.split("----------------------------------------------- ")
        .filter_map(|block| {
            let (_, rest) = block.split_once('\n')?;
            let (kind, msg) = rest.split_once('\n')?;
            let dir = if kind.contains("message sent") {
                "sent"
            } else if kind.contains("message received") {
                "received"
            } else {
                return None;
            };
            Some((dir.to_owned(), msg.trim_start().replace("\r\n", "\n")))
        })
        .collect()
}

/// The value of the first `name:` header line of a traced message.
pub fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    let head = msg.split("\n\n").next().unwrap_or_default();
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

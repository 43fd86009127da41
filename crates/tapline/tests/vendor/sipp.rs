//! Wrap the vendor SIPp templates (INDEX.md §2: the CDATA of one `<send>` each) into a minimal
//! UAC scenario generated at test time, and run the real sipp with it, bounded in time.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::cseq_of;

/// sipp's own global timeout (`-timeout`), in seconds; the test kills it a bit later.
const SIPP_TIMEOUT_S: u64 = 30;
/// sipp exits with 254 when it cannot bind a socket (fatal error -2): retried.
const SIPP_BIND_ERROR: i32 = 254;

/// One scenario: the INVITE template, in-dialog re-INVITE templates replayed in order, and the
/// BYE template (or a BYE built from the dialog). A tone is streamed with `tapline rtp-send` to
/// the first answered port after the INVITE and after every re-INVITE whose SDP is not a
/// `c=0.0.0.0` pause (RFC 2543 hold, C-13).
pub struct Scenario<'a> {
    pub invite: &'a str,
    pub reinvites: &'a [&'a str],
    pub bye: Option<&'a str>,
    /// `tapline rtp-send --codec` value matching the answer (pcmu / pcma).
    pub codec: &'a str,
    pub freq: u32,
}

fn cdata(template: &str) -> String {
    assert!(!template.contains("]]>"), "template breaks CDATA");
    format!("  <send retrans=\"500\">\n    <![CDATA[\n{template}\n    ]]>\n  </send>\n")
}

/// The ACK (RFC 3261 13.2.2.4) or BYE sipp builds from the last response of the dialog.
fn built(method: &str, cseq: u32) -> String {
    format!(
        "  <send>\n    <![CDATA[\n{method} [next_url] SIP/2.0\n\
         Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
         [last_From:]\n[last_To:]\n[last_Call-ID:]\nCSeq: {cseq} {method}\n\
         Max-Forwards: 70\nContent-Length: 0\n    ]]>\n  </send>\n"
    )
}

/// recv 100 (optional) then 200, pulling the first answered port into `$portN`.
fn recv_ok(n: usize) -> String {
    format!(
        "  <recv response=\"100\" optional=\"true\"/>\n\
         <recv response=\"200\" rrs=\"true\">\n    <action>\n\
         <ereg regexp=\"m=audio ([0-9]+) \" search_in=\"msg\" check_it=\"true\" \
         assign_to=\"m{n},port{n}\"/>\n    </action>\n  </recv>\n\
         <Reference variables=\"m{n}\"/>\n"
    )
}

fn tone(s: &Scenario<'_>, n: usize) -> String {
    format!(
        "  <nop><action><exec command=\"[tapline] rtp-send --to 127.0.0.1:[$port{n}] \
         --duration 1 --codec {} --audio tone:{}\"/></action></nop>\n\
         <pause milliseconds=\"1300\"/>\n",
        s.codec, s.freq
    )
}

/// The scenario XML.
pub fn scenario_xml(s: &Scenario<'_>) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"tapline vendor\">\n",
    );
    x += &cdata(s.invite);
    x += &recv_ok(1);
    let (mut cseq, _) = cseq_of(s.invite);
    x += &built("ACK", cseq);
    x += &tone(s, 1);
    for (i, re) in s.reinvites.iter().enumerate() {
        let n = i + 2;
        x += &cdata(re);
        x += &recv_ok(n);
        cseq = cseq_of(re).0;
        x += &built("ACK", cseq);
        if re.contains("c=IN IP4 0.0.0.0") {
            x +=
                &format!("  <Reference variables=\"port{n}\"/>\n  <pause milliseconds=\"500\"/>\n");
        } else {
            x += &tone(s, n);
        }
    }
    match s.bye {
        Some(t) => x += &cdata(t),
        None => x += &built("BYE", cseq + 1).replace("<send>", "<send retrans=\"500\">"),
    }
    x += "  <recv response=\"200\" crlf=\"true\"/>\n</scenario>\n";
    x
}

/// A UDP and TCP port free on 127.0.0.1 right now (never 5060, sipp's default).
fn free_sip_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = udp.local_addr().expect("addr").port();
        if port != 5060 && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free UDP+TCP port on 127.0.0.1");
}

/// An even UDP port P with P and P+2 free (sipp's media sockets).
fn free_media_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = udp.local_addr().expect("addr").port() & !1;
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

/// Everything sipp left in `dir`, for failure messages.
pub fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for name in [
        "scenario.xml",
        "screen.txt",
        "errors.log",
        "messages.log",
        "stderr.txt",
    ] {
        let body = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        text.push_str(&format!("--- {name} ---\n{body}\n"));
    }
    text
}

fn run_once(xml: &Path, srs: SocketAddr, transport: &str, tapline: &str, dir: &Path) -> ExitStatus {
    let out = |name: &str| std::fs::File::create(dir.join(name)).expect("sipp log file");
    let control = UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.local_addr())
        .expect("control port")
        .port();
    let mut child = Command::new("sipp")
        .arg("-sf")
        .arg(xml)
        .args(["-key", "tapline", tapline])
        .args(["-m", "1", "-t", transport, "-i", "127.0.0.1"])
        .args(["-p", &free_sip_port().to_string()])
        .args(["-mp", &free_media_port().to_string()])
        .args(["-cp", &control.to_string()])
        .arg(srs.to_string())
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
        .unwrap_or_else(|e| panic!("sipp is required (package sip-tester): {e}"));
    let deadline = Instant::now() + Duration::from_secs(SIPP_TIMEOUT_S + 15);
    loop {
        if let Some(status) = child.try_wait().expect("wait sipp") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sipp ran past its bound and was killed\n{}", logs(dir));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Write the scenario into `dir` and run sipp once against `srs` (`u1` or `t1`); retries only
/// when sipp could not bind the ports picked for it. Panics with sipp's logs on failure.
pub fn run(s: &Scenario<'_>, srs: SocketAddr, transport: &str, tapline: &str, dir: &Path) {
    let xml = dir.join("scenario.xml");
    std::fs::write(&xml, scenario_xml(s)).expect("write scenario");
    for _ in 0..3 {
        let status = run_once(&xml, srs, transport, tapline, dir);
        if status.code() == Some(SIPP_BIND_ERROR) {
            continue;
        }
        assert!(
            status.success(),
            "sipp over {transport} failed: {status}\n{}",
            logs(dir)
        );
        return;
    }
    panic!("sipp could not bind its ports three times\n{}", logs(dir));
}

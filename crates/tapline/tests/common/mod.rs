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
        Server::start_under(&[], extra, config)
    }

    /// [`Server::start_with`], run through `wrapper` (e.g. `["prlimit", "--nofile=48"]`).
    pub fn start_under(wrapper: &[&str], extra: &[&str], config: Option<&str>) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
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
        let mut seen = Vec::new();
        while sip.is_none() && Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                // Exited: say why, with what it logged, instead of waiting out the deadline.
                seen.extend(rx.try_iter());
                panic!(
                    "tapline serve exited with {status} before listening:\n{}",
                    seen.join("\n")
                );
            }
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                seen.push(line.clone());
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

/// `tapline stats ARGS` (expects success) as JSON.
pub fn stats_with(args: &[&str], path: &Path) -> serde_json::Value {
    let out = Command::new(BIN)
        .arg("stats")
        .args(args)
        .arg(path)
        .output()
        .expect("run tapline stats");
    assert!(
        out.status.success(),
        "tapline stats failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stats JSON")
}

/// `tapline stats --data-dir DATA` as JSON.
pub fn stats(data: &Path) -> serde_json::Value {
    stats_with(&["--data-dir"], data)
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

// ---------------------------------------------------------------------------------------------
// Raw SIP helpers for the protocol tests (sip_*.rs): hand-written requests over std sockets.
// ---------------------------------------------------------------------------------------------

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream, UdpSocket};

pub use tapline_sip::{Message, Request, Response};

/// A random hex token for tags, branches and Call-IDs.
pub fn token() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// A fresh RFC 3261 branch (magic cookie + random).
pub fn branch() -> String {
    format!("z9hG4bK{}", token())
}

/// The multipart boundary used by [`siprec_body`].
pub const BOUNDARY: &str = "tapline-e2e-boundary-7f3a";

/// An SDP offer with two sendonly PCMU m-lines labelled 1 and 2 (RFC 7866 7.1.1 shape).
pub fn offer_sdp(ip: IpAddr, ports: [u16; 2]) -> String {
    let mut s = format!("v=0\r\no=src 1 1 IN IP4 {ip}\r\ns=SIPREC\r\nc=IN IP4 {ip}\r\nt=0 0\r\n");
    for (label, port) in ["1", "2"].iter().zip(ports) {
        s += &format!(
            "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:{label}\r\na=sendonly\r\n"
        );
    }
    s
}

/// An RFC 7865 complete snapshot for a two-party call (caller sends label 1, callee label 2).
/// `pad` bytes of filler go into an extension element (RFC 7865 9: `xs:any ##other`).
pub fn metadata_xml(caller: &str, callee: &str, pad: usize) -> String {
    let filler = if pad > 0 {
        format!(
            "  <pad xmlns=\"urn:example:tapline-e2e\">{}</pad>\n",
            "x".repeat(pad)
        )
    } else {
        String::new()
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <session session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <sipSessionID>e2e-session</sipSessionID>
  </session>
  <participant participant_id="srfBElmCRp2QB23b7Mpk0w==">
    <nameID aor="{caller}"><name>Caller</name></nameID>
  </participant>
  <participant participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
    <nameID aor="{callee}"><name>Callee</name></nameID>
  </participant>
  <stream stream_id="UAAMm5GRQKSCMVvLyl4rFw==" session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <label>1</label>
  </stream>
  <stream stream_id="i1Pz3to5hGk8fuXl+PbwCw==" session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <label>2</label>
  </stream>
  <participantstreamassoc participant_id="srfBElmCRp2QB23b7Mpk0w==">
    <send>UAAMm5GRQKSCMVvLyl4rFw==</send>
    <recv>i1Pz3to5hGk8fuXl+PbwCw==</recv>
  </participantstreamassoc>
  <participantstreamassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
    <send>i1Pz3to5hGk8fuXl+PbwCw==</send>
    <recv>UAAMm5GRQKSCMVvLyl4rFw==</recv>
  </participantstreamassoc>
{filler}</recording>
"#
    )
}

/// A multipart/mixed body (RFC 2046 5.1) from (content type, disposition, bytes) parts;
/// returns (Content-Type header value, body).
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (ct, disp, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Type: {ct}\r\n").as_bytes());
        if let Some(d) = disp {
            body.extend_from_slice(format!("Content-Disposition: {d}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/mixed;boundary={BOUNDARY}"), body)
}

/// The SIPREC INVITE body: SDP offer + metadata (RFC 7866 9).
pub fn siprec_body(sdp: &str, xml: &str) -> (String, Vec<u8>) {
    multipart(&[
        ("application/sdp", None, sdp.as_bytes()),
        (
            "application/rs-metadata+xml",
            Some("recording-session"),
            xml.as_bytes(),
        ),
    ])
}

/// The identifiers all requests of one SRC-side call share.
#[derive(Debug, Clone)]
pub struct SrcCall {
    pub call_id: String,
    pub from_tag: String,
    pub local: SocketAddr,
    pub srs: SocketAddr,
    pub tcp: bool,
}

impl SrcCall {
    pub fn new(local: SocketAddr, srs: SocketAddr, tcp: bool) -> SrcCall {
        SrcCall {
            call_id: format!("{}@e2e.test", token()),
            from_tag: token(),
            local,
            srs,
            tcp,
        }
    }

    /// One request of this call, CRLF line endings, Content-Length computed. `to_tag` makes it
    /// an in-dialog request; `extra` headers follow the standard ones.
    pub fn request(
        &self,
        method: &str,
        cseq: u32,
        branch: &str,
        to_tag: Option<&str>,
        extra: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Vec<u8> {
        let (tp, uri_tp) = if self.tcp {
            ("TCP", ";transport=tcp")
        } else {
            ("UDP", "")
        };
        let mut s = format!("{method} sip:srs@{}{uri_tp} SIP/2.0\r\n", self.srs);
        s += &format!("Via: SIP/2.0/{tp} {};branch={branch};rport\r\n", self.local);
        s += "Max-Forwards: 70\r\n";
        s += &format!("From: <sip:src@{}>;tag={}\r\n", self.local, self.from_tag);
        match to_tag {
            Some(t) => s += &format!("To: <sip:srs@{}>;tag={t}\r\n", self.srs),
            None => s += &format!("To: <sip:srs@{}>\r\n", self.srs),
        }
        s += &format!("Call-ID: {}\r\n", self.call_id);
        let cseq_method = method;
        s += &format!("CSeq: {cseq} {cseq_method}\r\n");
        if method != "CANCEL" && method != "ACK" {
            s += &format!("Contact: <sip:src@{}{uri_tp}>;+sip.src\r\n", self.local);
        }
        for (n, v) in extra {
            s += &format!("{n}: {v}\r\n");
        }
        let bytes: &[u8] = body.map(|(_, b)| b).unwrap_or_default();
        if let Some((ct, _)) = body {
            s += &format!("Content-Type: {ct}\r\n");
        }
        s += &format!("Content-Length: {}\r\n\r\n", bytes.len());
        let mut out = s.into_bytes();
        out.extend_from_slice(bytes);
        out
    }

    /// An initial SIPREC INVITE (CSeq 1, `Require: siprec`) with the given body.
    pub fn invite(&self, branch: &str, extra: &[(&str, &str)], ct: &str, body: &[u8]) -> Vec<u8> {
        let mut headers = vec![
            ("Require", "siprec"),
            ("Accept", "application/sdp, application/rs-metadata+xml"),
            ("MIME-Version", "1.0"),
        ];
        headers.extend_from_slice(extra);
        self.request("INVITE", 1, branch, None, &headers, Some((ct, body)))
    }

    /// The standard SIPREC INVITE of these tests (offer to dummy SRC ports 40000/40002).
    pub fn siprec_invite(&self, branch: &str, extra: &[(&str, &str)]) -> Vec<u8> {
        let sdp = offer_sdp(self.local.ip(), [40_000, 40_002]);
        let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
        let (ct, body) = siprec_body(&sdp, &xml);
        self.invite(branch, extra, &ct, &body)
    }

    /// ACK for a 2xx (its own branch, RFC 3261 13.2.2.4) or, with the INVITE's branch, for a
    /// non-2xx final response (17.1.1.3).
    pub fn ack(&self, branch: &str, to_tag: &str) -> Vec<u8> {
        self.request("ACK", 1, branch, Some(to_tag), &[], None)
    }

    /// In-dialog BYE with CSeq 2.
    pub fn bye(&self, to_tag: &str) -> Vec<u8> {
        self.request("BYE", 2, &branch(), Some(to_tag), &[], None)
    }
}

/// A SIP connection from the tests' SRC to the server (UDP socket or TCP stream).
pub trait SipLink {
    fn local(&self) -> SocketAddr;
    fn send(&mut self, bytes: &[u8]);
    /// The next message from the server, parsed strictly, with its arrival time and raw
    /// bytes; `None` when nothing came before `deadline`.
    fn recv(&mut self, deadline: Instant) -> Option<(Instant, Vec<u8>, Message)>;
}

/// Everything the server sends must parse strictly (use `UdpLink::recv_raw` for answers that
/// must echo a broken request header).
fn parse_from_server(bytes: &[u8]) -> Message {
    Message::parse(bytes).unwrap_or_else(|e| {
        panic!(
            "server sent an unparseable message ({e}):\n{}",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// UDP link bound to an ephemeral loopback port.
pub struct UdpLink {
    pub sock: UdpSocket,
    pub srs: SocketAddr,
}

impl UdpLink {
    pub fn new(srs: SocketAddr) -> UdpLink {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        UdpLink { sock, srs }
    }

    pub fn call(&self) -> SrcCall {
        SrcCall::new(self.local(), self.srs, false)
    }
}

impl UdpLink {
    /// The next datagram, unparsed (a 400 copies the garbage CSeq it complains about, RFC
    /// 3261 8.2.6.2, so it cannot parse strictly).
    pub fn recv_raw(&mut self, deadline: Instant) -> Option<String> {
        let mut buf = vec![0u8; 65_535];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .expect("timeout");
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    }
}

impl SipLink for UdpLink {
    fn local(&self) -> SocketAddr {
        self.sock.local_addr().expect("local addr")
    }

    fn send(&mut self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.srs).expect("send UDP");
    }

    fn recv(&mut self, deadline: Instant) -> Option<(Instant, Vec<u8>, Message)> {
        let mut buf = vec![0u8; 65_535];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .expect("timeout");
            match self.sock.recv_from(&mut buf) {
                Ok((n, _)) => {
                    let at = Instant::now();
                    let bytes = buf[..n].to_vec();
                    let msg = parse_from_server(&bytes);
                    return Some((at, bytes, msg));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("UDP receive: {e}"),
            }
        }
    }
}

/// TCP link with RFC 3261 18.3 framing of what the server sends.
pub struct TcpLink {
    pub stream: TcpStream,
    pub srs: SocketAddr,
    framer: tapline_sip::StreamFramer,
}

impl TcpLink {
    pub fn connect(srs: SocketAddr) -> TcpLink {
        let stream = TcpStream::connect_timeout(&srs, Duration::from_secs(5)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        TcpLink {
            stream,
            srs,
            framer: tapline_sip::StreamFramer::new(),
        }
    }

    pub fn call(&self) -> SrcCall {
        SrcCall::new(self.local(), self.srs, true)
    }
}

impl SipLink for TcpLink {
    fn local(&self) -> SocketAddr {
        self.stream.local_addr().expect("local addr")
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("TCP write");
    }

    fn recv(&mut self, deadline: Instant) -> Option<(Instant, Vec<u8>, Message)> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(framed) = self.framer.next_message() {
                let bytes = framed.expect("server's TCP stream frames cleanly");
                let msg = parse_from_server(&bytes);
                return Some((Instant::now(), bytes, msg));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .expect("timeout");
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("server closed the TCP connection"),
                Ok(n) => self.framer.push(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("TCP receive: {e}"),
            }
        }
    }
}

/// Wait for the first final (>= 200) response to `method` in `call_id`; other messages are
/// skipped (provisional responses, other calls). Panics after `limit`.
pub fn final_response(
    link: &mut dyn SipLink,
    call_id: &str,
    method: &str,
    limit: Duration,
) -> Response {
    let deadline = Instant::now() + limit;
    while let Some((_, _, msg)) = link.recv(deadline) {
        if let Message::Response(r) = msg {
            let cseq_ok = r.cseq().is_some_and(|c| c.method.as_str() == method);
            if r.status >= 200 && cseq_ok && r.call_id() == Some(call_id) {
                return r;
            }
        }
    }
    panic!("no final response to {method} (Call-ID {call_id}) within {limit:?}");
}

/// Wait for a request of `method` from the server; other messages are skipped.
pub fn server_request(link: &mut dyn SipLink, method: &str, limit: Duration) -> Request {
    let deadline = Instant::now() + limit;
    while let Some((_, _, msg)) = link.recv(deadline) {
        if let Message::Request(r) = msg {
            if r.method.as_str() == method {
                return r;
            }
        }
    }
    panic!("no {method} from the server within {limit:?}");
}

/// Our 200 OK to a request from the server (RFC 3261 8.2.6).
pub fn ok_to(req: &Request) -> Vec<u8> {
    Response::for_request(req, 200, "OK").to_bytes()
}

/// INVITE, wait for the 200, ACK it; returns the 200 OK.
pub fn establish(link: &mut dyn SipLink, call: &SrcCall, invite: &[u8]) -> Response {
    link.send(invite);
    let ok = final_response(link, &call.call_id, "INVITE", Duration::from_secs(10));
    assert_eq!(
        ok.status, 200,
        "INVITE answered {} {}",
        ok.status, ok.reason
    );
    let tag = ok.to_tag().expect("200 OK To tag").to_owned();
    link.send(&call.ack(&branch(), &tag));
    ok
}

/// BYE in the dialog of `ok` and expect 200.
pub fn hang_up(link: &mut dyn SipLink, call: &SrcCall, ok: &Response) {
    let tag = ok.to_tag().expect("To tag").to_owned();
    link.send(&call.bye(&tag));
    let r = final_response(link, &call.call_id, "BYE", Duration::from_secs(10));
    assert_eq!(r.status, 200, "BYE answered {} {}", r.status, r.reason);
}

/// The RTP addresses of the m-lines of an SDP answer, in order (port 0 = refused).
pub fn answer_media(sdp: &[u8]) -> Vec<(SocketAddr, Vec<String>)> {
    let text = String::from_utf8_lossy(sdp);
    let mut session_ip: Option<IpAddr> = None;
    let mut out: Vec<(SocketAddr, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("c=IN IP4 ") {
            let ip: IpAddr = c.trim().parse().expect("c= address");
            match out.last_mut() {
                Some((addr, _)) => addr.set_ip(ip),
                None => session_ip = Some(ip),
            }
        } else if let Some(m) = line.strip_prefix("m=") {
            let port: u16 = m
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .expect("m= port");
            let ip = session_ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
            out.push((SocketAddr::new(ip, port), Vec::new()));
        } else if let Some(a) = line.strip_prefix("a=") {
            if let Some((_, attrs)) = out.last_mut() {
                attrs.push(a.trim().to_owned());
            }
        }
    }
    out
}

/// The catalogue entry of the recording of `call_id` (panics if there is none).
pub fn recording_of(data: &Path, call_id: &str) -> serde_json::Value {
    let l = list(data);
    l.as_array()
        .and_then(|a| a.iter().find(|r| r["call_id"] == call_id).cloned())
        .unwrap_or_else(|| panic!("no recording for {call_id}: {l:#}"))
}

// ---------------------------------------------------------------------------------------------
// Recording-session life cycle helpers (rfc8068_e2e.rs, midcall_e2e.rs): a dialog driven from
// the SRC side, SDP with chosen m-lines, paced tone RTP, catalogue polling, silence analysis.
// ---------------------------------------------------------------------------------------------

/// One m-line of an SRC offer.
#[derive(Debug, Clone)]
pub struct MLine {
    /// `audio` or `video`.
    pub kind: &'static str,
    /// SRC port (0 removes the stream, RFC 3264 8.2).
    pub port: u16,
    pub label: String,
    /// Direction attribute (`sendonly`, `inactive`, `recvonly`, ...).
    pub dir: &'static str,
    /// Audio payload type: 0 (PCMU) or 8 (PCMA).
    pub pt: u8,
    /// Media-level `c=` address (e.g. `0.0.0.0` for an RFC 2543 hold).
    pub conn: Option<&'static str>,
}

impl MLine {
    /// A sendonly PCMU audio m-line.
    pub fn audio(port: u16, label: &str) -> MLine {
        MLine {
            kind: "audio",
            port,
            label: label.to_owned(),
            dir: "sendonly",
            pt: 0,
            conn: None,
        }
    }

    /// A sendonly H.264 video m-line (the server records audio only and refuses it).
    pub fn video(port: u16, label: &str) -> MLine {
        MLine {
            kind: "video",
            ..MLine::audio(port, label)
        }
    }

    pub fn dir(mut self, dir: &'static str) -> MLine {
        self.dir = dir;
        self
    }

    pub fn pt(mut self, pt: u8) -> MLine {
        self.pt = pt;
        self
    }

    pub fn conn(mut self, c: &'static str) -> MLine {
        self.conn = Some(c);
        self
    }
}

/// An SRC SDP offer with these m-lines; `version` is the o= version (RFC 3264 8: +1 per offer).
pub fn sdp_offer(ip: IpAddr, version: u32, lines: &[MLine]) -> String {
    let mut s = format!(
        "v=0\r\no=src 4711 {version} IN IP4 {ip}\r\ns=SIPREC\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
    );
    for m in lines {
        if m.kind == "video" {
            s += &format!(
                "m=video {} RTP/AVPF 96\r\na=rtpmap:96 H264/90000\r\n",
                m.port
            );
        } else {
            let name = if m.pt == 8 { "PCMA" } else { "PCMU" };
            s += &format!(
                "m=audio {} RTP/AVP {}\r\na=rtpmap:{} {name}/8000\r\n",
                m.port, m.pt, m.pt
            );
        }
        if let Some(c) = m.conn {
            s += &format!("c=IN IP4 {c}\r\n");
        }
        s += &format!("a=label:{}\r\na={}\r\n", m.label, m.dir);
    }
    s
}

/// An established recording session seen from the SRC over UDP: sends in-dialog requests
/// with increasing CSeq and ACKs 2xx to re-INVITEs.
pub struct SrcDialog {
    pub link: UdpLink,
    pub call: SrcCall,
    pub to_tag: String,
    pub cseq: u32,
    /// The 200 OK to the initial INVITE.
    pub ok: Response,
}

impl SrcDialog {
    /// INVITE (CSeq 1) with a body, 200, ACK.
    pub fn start(srs: SocketAddr, extra: &[(&str, &str)], ct: &str, body: &[u8]) -> SrcDialog {
        let mut link = UdpLink::new(srs);
        let call = link.call();
        let ok = establish(&mut link, &call, &call.invite(&branch(), extra, ct, body));
        let to_tag = ok.to_tag().expect("To tag").to_owned();
        SrcDialog {
            link,
            call,
            to_tag,
            cseq: 1,
            ok,
        }
    }

    /// INVITE with an SDP offer and a metadata document (multipart, RFC 7866 9).
    pub fn start_siprec(srs: SocketAddr, sdp: &str, xml: &[u8]) -> SrcDialog {
        let (ct, body) = siprec_body(sdp, &String::from_utf8_lossy(xml));
        SrcDialog::start(srs, &[], &ct, &body)
    }

    /// The answered RTP address of the m-line with `label` (panics if refused or absent).
    pub fn media_addr(&self, answer: &Response, label: &str) -> SocketAddr {
        let media = answer_media(&answer.body);
        let want = format!("label:{label}");
        let (addr, _) = media
            .iter()
            .find(|(_, attrs)| attrs.contains(&want))
            .unwrap_or_else(|| {
                panic!(
                    "no m-line labelled {label} in\n{}",
                    String::from_utf8_lossy(&answer.body)
                )
            });
        assert_ne!(addr.port(), 0, "label {label} was refused");
        *addr
    }

    /// Send one in-dialog request (next CSeq) and return its final response; a 2xx to INVITE
    /// is ACKed.
    pub fn request(
        &mut self,
        method: &str,
        extra: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Response {
        self.cseq += 1;
        let cseq = self.cseq;
        let bytes = self
            .call
            .request(method, cseq, &branch(), Some(&self.to_tag), extra, body);
        self.link.send(&bytes);
        let r = final_response(
            &mut self.link,
            &self.call.call_id,
            method,
            Duration::from_secs(10),
        );
        if method == "INVITE" {
            let ack = self
                .call
                .request("ACK", cseq, &branch(), Some(&self.to_tag), &[], None);
            self.link.send(&ack);
        }
        r
    }

    /// re-INVITE with an SDP offer and metadata; asserts 200.
    pub fn reinvite(&mut self, sdp: &str, xml: &[u8]) -> Response {
        let (ct, body) = siprec_body(sdp, &String::from_utf8_lossy(xml));
        let r = self.request("INVITE", &[("Require", "siprec")], Some((&ct, &body)));
        assert_eq!(
            r.status, 200,
            "re-INVITE answered {} {}",
            r.status, r.reason
        );
        r
    }

    /// BYE; asserts 200.
    pub fn bye(&mut self, body: Option<(&str, &[u8])>) -> Response {
        let r = self.request("BYE", &[], body);
        assert_eq!(r.status, 200, "BYE answered {} {}", r.status, r.reason);
        r
    }
}

/// A paced RTP sender of a G.711 tone to one answered port. Its timestamps follow the wall
/// clock (RFC 3550 5.1), so a silent stretch (hold) shows up as a timestamp jump.
pub struct ToneRtp {
    pub sock: UdpSocket,
    pub dest: SocketAddr,
    pub freq: f64,
    pub codec: tapline_media::Codec,
    ssrc: u32,
    seq: u16,
    t0: Option<Instant>,
    pub sent: u32,
    /// When the last packet left.
    pub last: Option<Instant>,
    /// When the first packet after the latest silence (> 100 ms) left.
    pub resumed: Option<Instant>,
    /// Sent by [`RtpPump`] (false = on hold, nothing sent).
    pub active: bool,
}

impl ToneRtp {
    pub fn new(dest: SocketAddr, freq: f64) -> ToneRtp {
        ToneRtp {
            sock: UdpSocket::bind("127.0.0.1:0").expect("bind RTP"),
            dest,
            freq,
            codec: tapline_media::Codec::Pcmu,
            ssrc: fastrand::u32(..),
            seq: fastrand::u16(..1000),
            t0: None,
            sent: 0,
            last: None,
            resumed: None,
            active: true,
        }
    }

    fn send_at(&mut self, at: Instant) {
        let t0 = *self.t0.get_or_insert(at);
        let n = (at.duration_since(t0).as_millis() / 20) as u64;
        let mut pcm = [0i16; 160];
        tapline_media::tone(self.freq, 8000, 8000, n * 160, &mut pcm);
        let mut payload = [0u8; 160];
        self.codec.encode(&pcm, &mut payload);
        let marker = self
            .last
            .is_none_or(|l| at.duration_since(l) > Duration::from_millis(100));
        if marker && self.last.is_some() {
            self.resumed = Some(at);
        }
        let mut buf = [0u8; 200];
        let len = tapline_media::write_rtp(
            &mut buf,
            marker,
            self.codec.payload_type(),
            self.seq,
            (n * 160) as u32,
            self.ssrc,
            &payload,
        )
        .expect("RTP packet");
        self.sock.send_to(&buf[..len], self.dest).expect("send RTP");
        self.seq = self.seq.wrapping_add(1);
        self.sent += 1;
        self.last = Some(at);
    }
}

/// Send 20 ms packets on every stream for `dur` (blocking); returns when the first packet left.
pub fn play(streams: &mut [&mut ToneRtp], dur: Duration) -> Instant {
    let start = Instant::now();
    let count = (dur.as_millis() / 20) as u32;
    for k in 0..count {
        let at = start + Duration::from_millis(20) * k;
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        for s in streams.iter_mut() {
            s.send_at(at);
        }
    }
    start
}

/// Poll `recordings show ID` until `pred` holds (5 s bound); returns the detail.
pub fn show_until(
    data: &Path,
    id: &str,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let d = show(data, id);
        if pred(&d) {
            return d;
        }
        if Instant::now() > deadline {
            panic!("catalogue never showed {what}: {d:#}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// (kind, label, participant_id) of every timeline event, in order.
pub fn events(detail: &serde_json::Value) -> Vec<(String, Option<String>, Option<String>)> {
    detail["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["kind"].as_str().unwrap_or_default().to_owned(),
                        e["label"].as_str().map(str::to_owned),
                        e["participant_id"].as_str().map(str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many events of `kind` (and `label`, when given) the detail holds.
pub fn count_events(detail: &serde_json::Value, kind: &str, label: Option<&str>) -> usize {
    events(detail)
        .iter()
        .filter(|(k, l, _)| k == kind && (label.is_none() || l.as_deref() == label))
        .count()
}

/// The participant with this address of record in the detail.
pub fn participant<'a>(detail: &'a serde_json::Value, aor: &str) -> &'a serde_json::Value {
    detail["participants"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["aor"] == aor))
        .unwrap_or_else(|| panic!("no participant {aor}: {:#}", detail["participants"]))
}

/// The labels a participant sends, sorted.
pub fn sends_of(detail: &serde_json::Value, aor: &str) -> Vec<String> {
    let mut v: Vec<String> = participant(detail, aor)["sends"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs of silent 20 ms frames (RMS below 100) as (first frame, frame count).
pub fn silent_runs(samples: &[i16]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, frame) in samples.chunks(160).enumerate() {
        let energy: f64 = frame.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
        let rms = (energy / frame.len().max(1) as f64).sqrt();
        if rms < 100.0 {
            match runs.last_mut() {
                Some((start, len)) if *start + *len == i => *len += 1,
                _ => runs.push((i, 1)),
            }
        }
    }
    runs
}

/// The dominant frequency of samples [from_s, to_s) seconds of a mono 8 kHz signal.
pub fn freq_between(samples: &[i16], from_s: f64, to_s: f64) -> f64 {
    let a = ((from_s * 8000.0) as usize).min(samples.len());
    let b = ((to_s * 8000.0) as usize).min(samples.len());
    tapline_media::dominant_frequency(&samples[a..b], 8000)
}

/// A corpus file's bytes (missing = loud failure).
pub fn corpus(rel: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/siprec/corpus/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("corpus file {path}: {e}"))
}

/// Background RTP: every 20 ms each active [`ToneRtp`] sends a packet, until stopped, so media
/// keeps flowing while the test does SIP (as a real SRC's would).
pub struct RtpPump {
    pub streams: std::sync::Arc<std::sync::Mutex<Vec<ToneRtp>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RtpPump {
    pub fn start(streams: Vec<ToneRtp>) -> RtpPump {
        use std::sync::atomic::Ordering;
        let shared = std::sync::Arc::new(std::sync::Mutex::new(streams));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s2, stop2) = (shared.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut k: u32 = 0;
            while !stop2.load(Ordering::SeqCst) {
                let at = start + Duration::from_millis(20) * k;
                let now = Instant::now();
                if at > now {
                    std::thread::sleep(at - now);
                }
                for s in s2.lock().expect("pump lock").iter_mut() {
                    if s.active {
                        s.send_at(at);
                    }
                }
                k += 1;
            }
        });
        RtpPump {
            streams: shared,
            stop,
            handle: Some(handle),
        }
    }

    /// Run `f` on the streams (between two ticks).
    pub fn with<R>(&self, f: impl FnOnce(&mut Vec<ToneRtp>) -> R) -> R {
        f(&mut self.streams.lock().expect("pump lock"))
    }

    /// Start or stop sending stream `i`.
    pub fn set_active(&self, i: usize, active: bool) {
        self.with(|s| s[i].active = active);
    }

    /// Stop sending; returns the streams (counters, times).
    pub fn stop(mut self) -> Vec<ToneRtp> {
        self.halt();
        std::mem::take(&mut *self.streams.lock().expect("pump lock"))
    }

    fn halt(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for RtpPump {
    fn drop(&mut self) {
        self.halt();
    }
}

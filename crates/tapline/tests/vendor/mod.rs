//! Turning the vendor vectors of the shared corpus (INDEX.md §2, §3.2) into wire requests:
//! SIPp templates rendered the way SIPp sends them, documentation transcriptions with their
//! header artefacts repaired, multipart bodies given their boundary. Bodies stay byte for byte.
#![allow(dead_code, unreachable_pub)]

pub mod sipp;

use std::net::SocketAddr;

/// The vendor corpus directory (missing = loud failure when read).
pub fn vendor_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/siprec/corpus/vendor"
    ))
}

/// A vendor file's text (the corpus is UTF-8; missing = loud failure).
pub fn text(file: &str) -> String {
    let bytes = super::common::corpus(&format!("vendor/{file}"));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{file} is not UTF-8: {e}"))
}

/// The boundary of a multipart body: its first delimiter line minus the leading `--`
/// (INDEX.md §2: the fixtures start at the first delimiter, the header value is not kept).
pub fn boundary_of(body: &str) -> String {
    body.lines()
        .map(str::trim_end)
        .find_map(|l| l.strip_prefix("--"))
        .unwrap_or_else(|| panic!("no multipart delimiter line in\n{body}"))
        .to_owned()
}

/// Values SIPp would put in for its keywords, for one message of one call.
#[derive(Debug, Clone)]
pub struct SippVars {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub tcp: bool,
    pub call_id: String,
    pub pid: u32,
    pub media_port: u16,
    /// The server's To tag once the dialog exists (`[peer_tag_param]` = `;tag=...`).
    pub peer_tag: Option<String>,
}

/// Render a SIPp template as SIPp sends it: keywords substituted, every line ended by CRLF,
/// `[len]` = the body length after that (SIPp's own rule; INDEX.md §2).
pub fn render_sipp(template: &str, v: &SippVars) -> Vec<u8> {
    let transport = if v.tcp { "TCP" } else { "UDP" };
    let peer_tag = v
        .peer_tag
        .as_ref()
        .map(|t| format!(";tag={t}"))
        .unwrap_or_default();
    let subs = [
        ("[remote_ip]", v.remote.ip().to_string()),
        ("[remote_port]", v.remote.port().to_string()),
        ("[local_ip]", v.local.ip().to_string()),
        ("[local_port]", v.local.port().to_string()),
        ("[transport]", transport.to_owned()),
        ("[call_id]", v.call_id.clone()),
        ("[branch]", super::common::branch()),
        ("[pid]", v.pid.to_string()),
        ("[call_number]", "1".to_owned()),
        ("[peer_tag_param]", peer_tag),
        ("[auto_media_port]", v.media_port.to_string()),
        ("[media_port]", v.media_port.to_string()),
    ];
    let mut text = template.to_owned();
    for (k, val) in subs {
        text = text.replace(k, &val);
    }
    let mut wire: String = text.lines().map(|l| format!("{l}\r\n")).collect();
    if !wire.contains("\r\n\r\n") {
        wire.push_str("\r\n");
    }
    let body_len = wire
        .find("\r\n\r\n")
        .map(|i| wire.len() - i - 4)
        .unwrap_or_default();
    let out = wire.replace("[len]", &body_len.to_string());
    for k in [
        "[local_",
        "[remote_",
        "[call",
        "[len]",
        "[branch]",
        "[pid]",
        "[peer_tag",
        "[media_",
        "[auto_",
        "[transport]",
        "[field",
        "[cseq]",
    ] {
        assert!(!out.contains(k), "SIPp keyword {k} left in\n{out}");
    }
    out.into_bytes()
}

/// The CSeq number and method of a template's request.
pub fn cseq_of(template: &str) -> (u32, String) {
    let line = template
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("cseq:"))
        .expect("template has a CSeq");
    let mut it = line["cseq:".len()..].split_whitespace();
    let n = it.next().and_then(|n| n.parse().ok()).expect("CSeq number");
    (n, it.next().expect("CSeq method").to_owned())
}

/// The From tag a template's SIPp keywords produce.
pub fn from_tag_of(template: &str, pid: u32) -> String {
    let from = template
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("from:"))
        .expect("template has a From");
    let tag = from.split(";tag=").nth(1).expect("From tag").trim();
    tag.replace("[pid]", &pid.to_string())
        .replace("[call_number]", "1")
}

/// Headers a completed documentation transcription gets from the test's dialog.
const DIALOG_HEADERS: [&str; 8] = [
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "max-forwards",
    "content-length",
];

/// Complete a documentation transcription of a request (Cisco CUBE guide) into a wire-valid
/// request: new request line and dialog headers, `...` elisions dropped, a continuation line
/// without leading whitespace unfolded (IOS debug line wrapping), the missing blank line
/// before the body restored, Content-Length recomputed. The body (from the blank line, or
/// from the first delimiter line when the blank line is missing) is kept byte for byte.
/// `dialog` holds the replacement headers (Via, From, To, Call-ID, CSeq, Contact, ...).
pub fn complete_doc(text: &str, request_line: &str, dialog: &[(String, String)]) -> Vec<u8> {
    let (head, body) = match text.find("\n\n") {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => {
            let i = text
                .find("\n--")
                .unwrap_or_else(|| panic!("no body start in\n{text}"));
            (&text[..i], &text[i + 1..])
        }
    };
    let mut kept: Vec<String> = Vec::new();
    for line in head.lines().skip(1) {
        if line.trim() == "..." || line.trim().is_empty() {
            continue;
        }
        let is_header = line
            .split_once(':')
            .is_some_and(|(n, _)| !n.is_empty() && !n.contains(' '));
        match kept.last_mut() {
            Some(prev) if !is_header => {
                prev.push(' ');
                prev.push_str(line.trim());
            }
            _ => kept.push(line.to_owned()),
        }
    }
    kept.retain(|h| {
        let name = h
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        !DIALOG_HEADERS.contains(&name.as_str())
    });
    let mut s = format!("{request_line}\r\n");
    for (n, v) in dialog {
        s += &format!("{n}: {v}\r\n");
    }
    for h in kept {
        s += &format!("{h}\r\n");
    }
    s += &format!("Content-Length: {}\r\n\r\n", body.len());
    let mut out = s.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Drop `;+sip.src` from the Contact of a request built by `SrcCall` (head only), for plain
/// (non-SIPREC) recording INVITEs.
pub fn without_src_feature(req: Vec<u8>) -> Vec<u8> {
    let split = req
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("request head");
    let head = String::from_utf8(req[..split].to_vec()).expect("ASCII head");
    let mut out = head.replace(">;+sip.src", ">").into_bytes();
    out.extend_from_slice(&req[split..]);
    out
}

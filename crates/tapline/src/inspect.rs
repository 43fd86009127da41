//! `tapline inspect FILE|-`: read a SIP message, a bare multipart body, an SDP or a bare
//! metadata document, and print one normalized JSON object. Exit 0 when the input could be read,
//! 2 with a one-line reason on stderr when it could not.

use std::io::Read;
use std::process::ExitCode;

use serde_json::{Value, json};
use tapline_metadata::{DataMode, Role};
use tapline_sdp::{Direction, SessionDescription};

use crate::cli::InspectArgs;

pub(crate) fn main(args: InspectArgs) -> ExitCode {
    let bytes = if args.file == "-" {
        let mut buf = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
            return fail(&format!("cannot read standard input: {e}"));
        }
        buf
    } else {
        match std::fs::read(&args.file) {
            Ok(b) => b,
            Err(e) => return fail(&format!("cannot read {}: {e}", args.file)),
        }
    };
    match inspect(&bytes) {
        Ok(v) => match serde_json::to_string_pretty(&v) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Err(reason) => fail(&reason),
    }
}

fn fail(reason: &str) -> ExitCode {
    let one_line = reason.replace(['\n', '\r'], " ");
    eprintln!("tapline inspect: {one_line}");
    ExitCode::from(2)
}

/// What the input turned out to be, with its parts.
struct Pieces {
    kind: &'static str,
    sip: Option<Value>,
    sdp: Option<Vec<u8>>,
    metadata: Option<Vec<u8>>,
    warnings: Vec<String>,
}

/// Inspect bytes of unknown kind.
pub(crate) fn inspect(bytes: &[u8]) -> Result<Value, String> {
    let pieces = split_input(bytes)?;
    let mut warnings = pieces.warnings;

    let sdp = match &pieces.sdp {
        Some(raw) => Some(
            SessionDescription::parse(&String::from_utf8_lossy(raw))
                .map_err(|e| format!("unreadable SDP: {e}"))?,
        ),
        None => None,
    };
    let parsed = match &pieces.metadata {
        Some(raw) => {
            Some(tapline_metadata::parse(raw).map_err(|e| format!("unreadable metadata: {e}"))?)
        }
        None => None,
    };
    if sdp.is_none() && parsed.is_none() {
        return Err("no SDP and no recording metadata found in the input".into());
    }

    let mut participants = Vec::new();
    let mut streams: Vec<Value> = Vec::new();
    let mut sessions = Vec::new();
    let mut group = Value::Null;
    let mut datamode = Value::Null;
    if let Some(p) = &parsed {
        warnings.extend(p.warnings.iter().map(|w| w.to_string()));
        let m = &p.metadata;
        let r = tapline_metadata::resolve(m);
        warnings.extend(r.warnings.iter().map(|w| w.to_string()));
        datamode = json!(match m.datamode {
            DataMode::Complete => "complete",
            DataMode::Partial => "partial",
        });
        for rp in &r.participants {
            participants.push(json!({
                "id": rp.id,
                "aor": rp.aor,
                "name": rp.name,
                "sends": rp.sends,
                "receives": rp.receives,
                "role": rp.role.map(|r| match r { Role::Caller => "caller", Role::Callee => "callee" }),
                "role_source": rp.role_source,
            }));
        }
        for st in &m.streams {
            streams.push(json!({
                "id": st.id,
                "label": st.label,
                "session_id": st.session_id,
            }));
        }
        for s in &m.sessions {
            sessions.push(json!({
                "id": s.id,
                "group_ref": s.group_ref,
                "sip_session_ids": s.sip_session_ids,
            }));
        }
        if let Some(g) = m.groups.first() {
            group = json!({ "id": g.id });
        }
        if r.send_map_inferred {
            warnings.push("no participantstreamassoc: senders inferred from document order".into());
        }
    }
    if let Some(sdp) = &sdp {
        let mut unmatched_meta: Vec<usize> = (0..streams.len()).collect();
        for (i, m) in sdp.media.iter().enumerate() {
            let label = m.label().map(str::to_owned);
            let codecs: Vec<String> = m
                .rtpmaps()
                .iter()
                .map(|r| format!("{}/{}", r.encoding, r.clock_rate))
                .collect();
            let direction = match m.direction(sdp) {
                Direction::SendRecv => "sendrecv",
                Direction::SendOnly => "sendonly",
                Direction::RecvOnly => "recvonly",
                Direction::Inactive => "inactive",
            };
            let sdp_fields = json!({
                "media": m.media,
                "codecs": codecs,
                "direction": direction,
                "port": m.port,
                "mline": i,
            });
            let pos = label.as_deref().and_then(|l| {
                streams
                    .iter()
                    .position(|s| s.get("label").and_then(Value::as_str) == Some(l))
            });
            match pos {
                Some(pos) => {
                    unmatched_meta.retain(|x| *x != pos);
                    if let (Some(obj), Some(add)) = (
                        streams.get_mut(pos).and_then(Value::as_object_mut),
                        sdp_fields.as_object(),
                    ) {
                        for (k, v) in add {
                            obj.insert(k.clone(), v.clone());
                        }
                    }
                }
                None => {
                    if parsed.is_some() {
                        warnings.push(match &label {
                            Some(l) => {
                                format!("m-line {i} (label {l}) has no stream in the metadata")
                            }
                            None => format!("m-line {i} has no a=label"),
                        });
                    }
                    let mut v = json!({ "id": Value::Null, "label": label });
                    if let (Some(obj), Some(add)) = (v.as_object_mut(), sdp_fields.as_object()) {
                        for (k, val) in add {
                            obj.insert(k.clone(), val.clone());
                        }
                    }
                    streams.push(v);
                }
            }
        }
        if parsed.is_some() {
            for i in unmatched_meta {
                if let Some(s) = streams.get(i) {
                    warnings.push(format!(
                        "metadata stream {} (label {}) has no m-line in the SDP",
                        s.get("id").and_then(Value::as_str).unwrap_or("?"),
                        s.get("label").and_then(Value::as_str).unwrap_or("none")
                    ));
                }
            }
        }
    }
    Ok(json!({
        "kind": pieces.kind,
        "sip": pieces.sip,
        "participants": participants,
        "streams": streams,
        "sessions": sessions,
        "group": group,
        "datamode": datamode,
        "warnings": warnings,
    }))
}

fn trimmed_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn split_input(bytes: &[u8]) -> Result<Pieces, String> {
    let head = trimmed_start(bytes);
    if head.is_empty() {
        return Err("input is empty".into());
    }
    if head.starts_with(b"<") {
        return Ok(Pieces {
            kind: "metadata",
            sip: None,
            sdp: None,
            metadata: Some(bytes.to_vec()),
            warnings: Vec::new(),
        });
    }
    if head.starts_with(b"v=") {
        return Ok(Pieces {
            kind: "sdp",
            sip: None,
            sdp: Some(bytes.to_vec()),
            metadata: None,
            warnings: Vec::new(),
        });
    }
    if head.starts_with(b"--") {
        let boundary =
            tapline_body::detect_boundary(bytes).ok_or("multipart body without a boundary line")?;
        let ct = format!("multipart/mixed;boundary=\"{boundary}\"");
        return from_body("multipart", None, Some(&ct), None, bytes);
    }
    sip_message(bytes)
}

/// A SIP message: parsed strictly when possible, else split by hand (templates with
/// placeholders such as sipp's `[len]`).
fn sip_message(bytes: &[u8]) -> Result<Pieces, String> {
    let message =
        tapline_sip::Message::parse(bytes).or_else(|_| tapline_sip::Message::parse_lenient(bytes));
    match message {
        Ok(tapline_sip::Message::Request(req)) => {
            let sip = json!({
                "method": req.method.as_str(),
                "request_uri": req.uri,
                "call_id": req.call_id(),
                "content_type": req.header("Content-Type"),
            });
            from_body(
                "sip-request",
                Some(sip),
                req.header("Content-Type"),
                req.header("Content-Disposition"),
                &req.body,
            )
        }
        Ok(tapline_sip::Message::Response(resp)) => {
            let sip = json!({
                "status": resp.status,
                "reason": resp.reason,
                "content_type": resp.headers.get("Content-Type"),
            });
            from_body(
                "sip-response",
                Some(sip),
                resp.headers.get("Content-Type"),
                resp.headers.get("Content-Disposition"),
                &resp.body,
            )
        }
        Err(e) => {
            // By hand: headers up to the first blank line, the rest is the body.
            let text = String::from_utf8_lossy(bytes);
            let norm = text.replace("\r\n", "\n");
            let Some((head, body)) = norm.split_once("\n\n") else {
                return Err(format!(
                    "not a SIP message, multipart body, SDP or metadata document ({e})"
                ));
            };
            let mut lines = head.lines();
            let start = lines.next().unwrap_or_default().trim().to_owned();
            if !(start.contains("SIP/2.0")) {
                return Err(format!(
                    "not a SIP message, multipart body, SDP or metadata document ({e})"
                ));
            }
            let mut ct = None;
            let mut cd = None;
            for line in lines {
                if let Some((n, v)) = line.split_once(':') {
                    let n = n.trim();
                    if n.eq_ignore_ascii_case("content-type") || n == "c" {
                        ct = Some(v.trim().to_owned());
                    } else if n.eq_ignore_ascii_case("content-disposition") {
                        cd = Some(v.trim().to_owned());
                    }
                }
            }
            let sip = json!({ "start_line": start, "parsed_leniently": true, "parse_error": e.to_string() });
            let mut p = from_body(
                "sip-message",
                Some(sip),
                ct.as_deref(),
                cd.as_deref(),
                body.as_bytes(),
            )?;
            p.warnings
                .push(format!("SIP headers not wire-valid, read leniently: {e}"));
            Ok(p)
        }
    }
}

fn from_body(
    kind: &'static str,
    sip: Option<Value>,
    content_type: Option<&str>,
    disposition: Option<&str>,
    body: &[u8],
) -> Result<Pieces, String> {
    let rb = tapline_body::classify(content_type, disposition, body)
        .map_err(|e| format!("unreadable body: {e}"))?;
    let mut warnings = rb.warnings.clone();
    for ignored in &rb.ignored {
        warnings.push(format!("body part {ignored} ignored"));
    }
    Ok(Pieces {
        kind,
        sip,
        sdp: rb.sdp,
        metadata: rb.metadata,
        warnings,
    })
}

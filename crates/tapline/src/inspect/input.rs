//! What the input is (SIP message, bare multipart body, SDP, metadata document) and where its
//! SDP and metadata are. SIP messages are parsed strictly when possible, else read by hand:
//! RFC figures are indented and elided (`...`), vendor documentation drops blank lines.

use serde_json::{Value, json};

use super::sipp;

/// What the input turned out to be, with its parts.
pub(super) struct Pieces {
    pub(super) kind: &'static str,
    pub(super) sip: Option<Value>,
    pub(super) sdp: Option<Vec<u8>>,
    pub(super) metadata: Option<Vec<u8>>,
    pub(super) warnings: Vec<String>,
}

fn trimmed_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        .unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// Classify the input by its first bytes and extract its SDP and metadata.
pub(super) fn split_input(bytes: &[u8]) -> Result<Pieces, String> {
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
    // SIPp templates (keywords left in) are rendered first, as SIPp would send them.
    let text = String::from_utf8_lossy(bytes);
    if !head.starts_with(b"--") && sipp::is_template(&text) {
        let (wire, names) = sipp::render(&text);
        let mut p = split_rendered(&wire)?;
        p.warnings.insert(
            0,
            format!(
                "SIPp template: keywords replaced by placeholders ({})",
                names.join(", ")
            ),
        );
        return Ok(p);
    }
    split_rendered(bytes)
}

fn split_rendered(bytes: &[u8]) -> Result<Pieces, String> {
    let head = trimmed_start(bytes);
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

/// A SIP message: strict parse, then the SIP crate's lenient one, then by hand.
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
        Err(e) => by_hand(bytes, &e.to_string()),
    }
}

/// Headers and body of a message that is not wire-valid SIP.
struct HandSplit {
    start: String,
    content_type: Option<String>,
    disposition: Option<String>,
    body: String,
    notes: Vec<String>,
}

/// Read a message by hand: the start line, headers (trimmed, folded lines joined, `...`
/// elisions skipped) up to a blank line, or up to the first line that can only be body
/// (a `--` delimiter, an SDP `x=` line, XML) when the blank line is missing.
fn split_by_hand(text: &str) -> Option<HandSplit> {
    let norm = text.replace("\r\n", "\n");
    let lines: Vec<&str> = norm.split('\n').collect();
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    let start_line = lines.get(first)?;
    if !start_line.contains("SIP/2.0") {
        return None;
    }
    let indent = |l: &str| l.len() - l.trim_start().len();
    let start_indent = indent(start_line);
    let mut out = HandSplit {
        start: start_line.trim().to_owned(),
        content_type: None,
        disposition: None,
        body: String::new(),
        notes: Vec::new(),
    };
    // Which header a folded continuation line belongs to (only the two we keep).
    let mut last: Option<bool> = None; // Some(true) = Content-Type, Some(false) = Disposition
    let mut body_from = lines.len();
    for (i, line) in lines.iter().enumerate().skip(first + 1) {
        let t = line.trim();
        if t.is_empty() {
            body_from = i + 1;
            break;
        }
        if starts_body(t) {
            out.notes
                .push("no blank line between the SIP headers and the body".into());
            body_from = i;
            break;
        }
        if indent(line) > start_indent && !t.contains(':') {
            // RFC 3261 7.3.1 folding: continuation of the previous header.
            let slot = match last {
                Some(true) => out.content_type.as_mut(),
                Some(false) => out.disposition.as_mut(),
                None => None,
            };
            if let Some(v) = slot {
                v.push(' ');
                v.push_str(t);
            }
            continue;
        }
        last = None;
        let Some((name, value)) = t.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-type") || name == "c" {
            out.content_type = Some(value.trim().to_owned());
            last = Some(true);
        } else if name.eq_ignore_ascii_case("content-disposition") {
            out.disposition = Some(value.trim().to_owned());
            last = Some(false);
        }
    }
    out.body = lines.get(body_from..).unwrap_or_default().join("\n");
    Some(out)
}

/// A line that cannot be a header: MIME delimiter, SDP `x=value` line or XML.
fn starts_body(t: &str) -> bool {
    let b = t.as_bytes();
    let sdp_line = matches!(b, [c, b'=', ..] if c.is_ascii_lowercase());
    (t.starts_with("--") && t.len() > 2) || sdp_line || t.starts_with('<')
}

fn by_hand(bytes: &[u8], error: &str) -> Result<Pieces, String> {
    let text = String::from_utf8_lossy(bytes);
    let Some(split) = split_by_hand(&text) else {
        return Err(format!(
            "not a SIP message, multipart body, SDP or metadata document ({error})"
        ));
    };
    let sip = json!({ "start_line": split.start, "parsed_leniently": true, "parse_error": error });
    let mut warnings = vec![format!(
        "SIP headers not wire-valid, read leniently: {error}"
    )];
    warnings.extend(split.notes);
    let is_multipart = split.content_type.as_deref().is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/")
    });
    let mut p = match unframed(&split.body).filter(|_| !is_multipart) {
        // SDP then XML with no MIME framing (RFC 8068 3.5 figure): split at the XML.
        Some((sdp, xml)) => {
            warnings
                .push("body holds SDP and XML without multipart framing; split at the XML".into());
            Pieces {
                kind: "sip-message",
                sip: Some(sip),
                sdp: Some(sdp.into_bytes()),
                metadata: Some(xml.into_bytes()),
                warnings: Vec::new(),
            }
        }
        None => from_body(
            "sip-message",
            Some(sip),
            split.content_type.as_deref(),
            split.disposition.as_deref(),
            split.body.as_bytes(),
        )?,
    };
    warnings.append(&mut p.warnings);
    p.warnings = warnings;
    Ok(p)
}

/// SDP lines followed by an XML document, without delimiters: (sdp, xml).
fn unframed(body: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = body.split('\n').collect();
    let xml_at = lines.iter().position(|l| l.trim_start().starts_with('<'))?;
    let before = lines.get(..xml_at)?;
    let has_sdp = before.iter().any(|l| {
        let t = l.trim_start();
        t.starts_with("m=") || t.starts_with("v=")
    });
    has_sdp.then(|| {
        (
            before.join("\n"),
            lines.get(xml_at..).unwrap_or_default().join("\n"),
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_stops_headers_at_sdp_without_blank_line() {
        let s = split_by_hand(
            "SIP/2.0 200 OK\nContent-Type: application/sdp\nv=0\nm=audio 1 RTP/AVP 0\n",
        )
        .unwrap();
        assert_eq!(s.content_type.as_deref(), Some("application/sdp"));
        assert!(s.body.starts_with("v=0\n"));
        assert_eq!(s.notes.len(), 1);
    }

    #[test]
    fn by_hand_joins_folded_header_of_indented_figure() {
        let s = split_by_hand(
            "   INVITE sip:a@b SIP/2.0\n   Content-Type: multipart/mixed;\n    boundary=x\n\n   --x\n",
        )
        .unwrap();
        assert_eq!(
            s.content_type.as_deref(),
            Some("multipart/mixed; boundary=x")
        );
        assert_eq!(s.body, "   --x\n");
        assert!(split_by_hand("hello\n\nworld").is_none());
    }

    #[test]
    fn unframed_needs_sdp_before_xml() {
        let (sdp, xml) = unframed("m=audio 1 RTP/AVP 0\n\n<?xml?>\n<recording/>").unwrap();
        assert_eq!(sdp, "m=audio 1 RTP/AVP 0\n");
        assert!(xml.starts_with("<?xml"));
        assert!(unframed("<recording/>").is_none());
        assert!(unframed("m=audio 1 RTP/AVP 0\n").is_none());
    }
}

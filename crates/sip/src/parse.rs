//! Byte-level parser for SIP messages (RFC 3261 sections 7, 7.3.1, 7.4.1, 18.3).

use crate::cseq::CSeq;
use crate::ctl;
use crate::headers::Headers;
use crate::message::{Message, Request, Response};
use crate::method::{Method, is_token};
use crate::name_addr::{NameAddr, check_uri};
use crate::params::HeaderError;
use crate::via::Via;

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No start line at all.
    #[error("empty message")]
    Empty,
    /// The request or status line is malformed.
    #[error("bad start line: {0}")]
    BadStartLine(&'static str),
    /// Not SIP/2.0 (RFC 4475 badvers).
    #[error("unsupported SIP version {0:?}")]
    UnsupportedVersion(String),
    /// Status code not three digits in 100..=699 (RFC 4475 bigcode).
    #[error("bad status code {0:?}")]
    BadStatusCode(String),
    /// A header line without a colon or with a non-token name, or a stray continuation.
    #[error("bad header line {0:?}")]
    BadHeaderLine(String),
    /// A mandatory header (RFC 3261 8.1.1) is missing.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A single-valued mandatory header appears more than once (RFC 4475 multi01).
    #[error("more than one {0} header")]
    DuplicateHeader(&'static str),
    /// A mandatory header is present but malformed.
    #[error("bad {name} header: {source}")]
    BadHeader {
        /// Header name.
        name: &'static str,
        /// What is wrong with it.
        source: HeaderError,
    },
    /// Max-Forwards not an integer 0..=255 (RFC 4475 scalar02).
    #[error("bad Max-Forwards")]
    BadMaxForwards,
    /// Content-Length not a non-negative integer, or given twice with different values.
    #[error("bad Content-Length")]
    BadContentLength,
    /// Content-Length says more bytes than the datagram has (RFC 3261 18.3: answer 400).
    #[error("body truncated: Content-Length {expected}, only {actual} bytes")]
    BodyTruncated {
        /// Content-Length value.
        expected: usize,
        /// Bytes available after the blank line.
        actual: usize,
    },
    /// CSeq method differs from the request method (RFC 4475 mismatch01/02).
    #[error("CSeq method does not match request method")]
    CSeqMethodMismatch,
    /// Request-URI has no scheme or is in `<>` (RFC 4475 ltgtruri).
    #[error("bad Request-URI")]
    BadRequestUri,
    /// A raw control character (not HTAB, not a quoted-pair) in a header value or the
    /// Request-URI (RFC 3261 25.1). Holds the header name (a token, at most 32 characters),
    /// never the value.
    #[error("control character in {0}")]
    ControlCharacter(String),
}

impl ParseError {
    /// A fixed, safe reason phrase for a 400 answer naming the problem.
    pub fn reason_phrase(&self) -> String {
        match self {
            ParseError::MissingHeader(h) => format!("Missing {h}"),
            ParseError::DuplicateHeader(h) => format!("Duplicate {h}"),
            ParseError::BadHeader { name, .. } => format!("Malformed {name}"),
            ParseError::BadMaxForwards => "Malformed Max-Forwards".into(),
            ParseError::BadContentLength => "Malformed Content-Length".into(),
            ParseError::BodyTruncated { .. } => "Body Shorter Than Content-Length".into(),
            ParseError::CSeqMethodMismatch => "CSeq Method Mismatch".into(),
            ParseError::BadRequestUri => "Malformed Request-URI".into(),
            ParseError::UnsupportedVersion(_) => "Unsupported SIP Version".into(),
            ParseError::BadHeaderLine(_) => "Malformed Header Line".into(),
            ParseError::ControlCharacter(name) => format!("Control Character in {name}"),
            ParseError::Empty | ParseError::BadStartLine(_) | ParseError::BadStatusCode(_) => {
                "Malformed Start Line".into()
            }
        }
    }
}

/// Split into (header text, body start offset), skipping leading CRLFs (RFC 3261 7.5).
fn split_head(bytes: &[u8]) -> (&[u8], usize) {
    let start = bytes
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let mut pos = start;
    while let Some(rel) = bytes
        .get(pos..)
        .and_then(|r| r.iter().position(|b| *b == b'\n'))
    {
        let nl = pos + rel;
        let line = bytes.get(pos..nl).unwrap_or(&[]);
        if line.is_empty() || line == b"\r" {
            return (bytes.get(start..pos).unwrap_or(&[]), nl + 1);
        }
        pos = nl + 1;
    }
    // No blank line: everything is header text, no body.
    (bytes.get(start..).unwrap_or(&[]), bytes.len())
}

enum StartLine {
    Request(Method, String),
    Response(u16, String),
}

/// `any_version`: accept a request whatever its SIP-Version, to answer it 505.
fn parse_start_line(line: &str, any_version: bool) -> Result<StartLine, ParseError> {
    if line.is_empty() {
        return Err(ParseError::Empty);
    }
    if line.len() > 4
        && line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            return Err(ParseError::UnsupportedVersion(version.to_string()));
        }
        let code = parts.next().unwrap_or("");
        let status = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| code.parse::<u16>().ok())
            .flatten()
            .filter(|c| (100..=699).contains(c))
            .ok_or_else(|| ParseError::BadStatusCode(code.to_string()))?;
        return Ok(StartLine::Response(
            status,
            parts.next().unwrap_or("").trim().to_string(),
        ));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: exactly single spaces
    // (RFC 4475 lwsstart and trws must be rejected).
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return Err(ParseError::BadStartLine(
            "request line is not METHOD SP URI SP VERSION",
        ));
    };
    if !is_token(method) {
        return Err(ParseError::BadStartLine("method is not a token"));
    }
    if !any_version && !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(ParseError::UnsupportedVersion(version.to_string()));
    }
    check_uri(uri).map_err(|_| ParseError::BadRequestUri)?;
    Ok(StartLine::Request(
        Method::from_token(method),
        uri.to_string(),
    ))
}

fn parse_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Headers, ParseError> {
    let mut raw: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // Folded continuation (RFC 3261 7.3.1): join with a single space.
            let (_, value) = raw
                .last_mut()
                .ok_or_else(|| ParseError::BadHeaderLine(line.to_string()))?;
            let more = line.trim();
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| ParseError::BadHeaderLine(line.chars().take(64).collect()))?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(ParseError::BadHeaderLine(name.chars().take(64).collect()));
        }
        raw.push((name.to_string(), value.trim().to_string()));
    }
    let mut headers = Headers::new();
    for (n, v) in raw {
        headers.push(&n, v);
    }
    Ok(headers)
}

fn content_length(headers: &Headers) -> Result<Option<usize>, ParseError> {
    let mut found: Option<usize> = None;
    for v in headers.get_all("Content-Length") {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::BadContentLength);
        }
        let n: usize = v.parse().map_err(|_| ParseError::BadContentLength)?;
        if found.is_some_and(|f| f != n) {
            return Err(ParseError::BadContentLength);
        }
        found = Some(n);
    }
    Ok(found)
}

/// Parse start line, headers and body without checking mandatory headers nor control
/// characters.
fn parse_structure(bytes: &[u8], lenient: bool) -> Result<Message, ParseError> {
    structure(bytes, lenient, false)
}

/// The structure of a request that failed [`parse`], to answer it statelessly (400, or
/// 505 whatever its version): lenient on the body length and the SIP-Version.
pub(crate) fn parse_for_answer(bytes: &[u8]) -> Result<Message, ParseError> {
    structure(bytes, true, true)
}

fn structure(bytes: &[u8], lenient: bool, any_version: bool) -> Result<Message, ParseError> {
    let (head, body_start) = split_head(bytes);
    let text = String::from_utf8_lossy(head);
    let mut lines = text
        .trim_end_matches(['\r', '\n'])
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = parse_start_line(lines.next().unwrap_or(""), any_version)?;
    let headers = parse_headers(lines)?;
    let rest = bytes.get(body_start..).unwrap_or(&[]);
    let body = match content_length(&headers) {
        Ok(Some(n)) if n <= rest.len() => rest.get(..n).unwrap_or(&[]).to_vec(),
        Ok(Some(n)) if !lenient => {
            return Err(ParseError::BodyTruncated {
                expected: n,
                actual: rest.len(),
            });
        }
        Err(e) if !lenient => return Err(e),
        _ => rest.to_vec(),
    };
    Ok(match start {
        StartLine::Request(method, uri) => Message::Request(Request {
            method,
            uri,
            headers,
            body,
        }),
        StartLine::Response(status, reason) => Message::Response(Response {
            status,
            reason,
            headers,
            body,
        }),
    })
}

fn single<'a>(h: &'a Headers, name: &'static str) -> Result<&'a str, ParseError> {
    match h.count(name) {
        0 => Err(ParseError::MissingHeader(name)),
        1 => h.get(name).ok_or(ParseError::MissingHeader(name)),
        _ => Err(ParseError::DuplicateHeader(name)),
    }
}

fn bad(name: &'static str) -> impl Fn(HeaderError) -> ParseError {
    move |source| ParseError::BadHeader { name, source }
}

/// No raw control character in any header value nor the Request-URI (RFC 3261 25.1).
fn check_controls(msg: &Message) -> Result<(), ParseError> {
    if let Message::Request(r) = msg {
        if ctl::uri_has_ctl(&r.uri) {
            return Err(ParseError::ControlCharacter("Request-URI".into()));
        }
    }
    match msg
        .headers()
        .iter()
        .find(|(n, v)| ctl::header_has_ctl(n, v))
    {
        Some((name, _)) => Err(ParseError::ControlCharacter(
            name.chars().take(32).collect(),
        )),
        None => Ok(()),
    }
}

/// Check the headers every request and response must carry (RFC 3261 8.1.1, 8.2.2.3).
fn validate(msg: &Message) -> Result<(), ParseError> {
    check_controls(msg)?;
    let h = msg.headers();
    let vias = h.get_all("Via");
    if vias.is_empty() {
        return Err(ParseError::MissingHeader("Via"));
    }
    for v in vias {
        Via::parse(v).map_err(bad("Via"))?;
    }
    NameAddr::parse(single(h, "From")?).map_err(bad("From"))?;
    NameAddr::parse(single(h, "To")?).map_err(bad("To"))?;
    if single(h, "Call-ID")?.is_empty() {
        return Err(ParseError::BadHeader {
            name: "Call-ID",
            source: HeaderError::Empty,
        });
    }
    let cseq = CSeq::parse(single(h, "CSeq")?).map_err(bad("CSeq"))?;
    if let Some(mf) = h.get("Max-Forwards") {
        if mf.is_empty() || !mf.bytes().all(|b| b.is_ascii_digit()) || mf.parse::<u8>().is_err() {
            return Err(ParseError::BadMaxForwards);
        }
    }
    for c in h.get_all("Contact") {
        if c != "*" {
            NameAddr::parse(c).map_err(bad("Contact"))?;
        }
    }
    if let Message::Request(r) = msg {
        if cseq.method != r.method {
            return Err(ParseError::CSeqMethodMismatch);
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

/// Full parse: structure, body length and mandatory headers.
pub(crate) fn parse(bytes: &[u8], lenient: bool) -> Result<Message, ParseError> {
    let msg = parse_structure(bytes, lenient)?;
    validate(&msg)?;
    Ok(msg)
}

//! Splitting SIP message bodies into MIME parts (RFC 2046 section 5.1, RFC 5621 section 4).

use crate::error::BodyError;
use crate::headers::{self, Line, is_blank, line_bytes, lines};
use crate::media_type::{Disposition, MediaType};

/// Nested multiparts deeper than this are refused (RFC 5621 4.3 nesting is shallow in practice).
const MAX_DEPTH: usize = 8;
/// RFC 2046 limits boundaries to 70 characters; allow slack for sloppy senders.
const MAX_BOUNDARY_LEN: usize = 200;

/// One body part with its own headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Parsed Content-Type, `None` if absent or malformed (raw value stays in `headers`).
    pub content_type: Option<MediaType>,
    /// Parsed Content-Disposition as sent, `None` if absent or malformed.
    pub disposition: Option<Disposition>,
    /// All part headers, names as sent, values trimmed; empty for a non-multipart body.
    pub headers: Vec<(String, String)>,
    /// Part content; the line break before the next delimiter is not included.
    pub body: Vec<u8>,
}

/// Split a body given the Content-Type header value. Non-multipart -> one Part. multipart/* ->
/// its parts, nested multiparts flattened (RFC 5621 4.2/4.3). An empty body has no parts.
pub fn split(
    content_type: Option<&str>,
    content_disposition: Option<&str>,
    body: &[u8],
) -> Result<Vec<Part>, BodyError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let content_type = match content_type {
        Some(ct) => Some(MediaType::parse(ct)?),
        None => None,
    };
    let disposition = content_disposition.and_then(|d| Disposition::parse(d).ok());
    let mut out = Vec::new();
    match content_type {
        Some(ct) if ct.is_multipart() => split_multipart(&ct, body, 0, &mut out)?,
        ct => out.push(Part {
            content_type: ct,
            disposition,
            headers: Vec::new(),
            body: body.to_vec(),
        }),
    }
    Ok(out)
}

/// For inspecting a bare multipart body with no headers: find the boundary from the first
/// "--xxx" delimiter line (after optional blank/preamble lines).
pub fn detect_boundary(body: &[u8]) -> Option<String> {
    lines(body).find_map(|line| {
        let text = trim_ws(line_bytes(body, line));
        let cand = text.strip_prefix(b"--")?;
        let ok = !cand.is_empty()
            && cand.len() <= MAX_BOUNDARY_LEN
            && cand
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b));
        ok.then(|| String::from_utf8_lossy(cand).into_owned())
    })
}

fn split_multipart(
    ct: &MediaType,
    body: &[u8],
    depth: usize,
    out: &mut Vec<Part>,
) -> Result<(), BodyError> {
    if depth >= MAX_DEPTH {
        return Err(BodyError::NestingTooDeep { max: MAX_DEPTH });
    }
    let boundary = match ct
        .param("boundary")
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        Some(b) => b.to_owned(),
        None => detect_boundary(body).ok_or(BodyError::MissingBoundary)?,
    };
    for range in part_ranges(body, boundary.as_bytes())? {
        let raw = body.get(range.0..range.1).unwrap_or_default();
        if is_blank_block(raw) {
            continue;
        }
        let part = parse_part(raw);
        match &part.content_type {
            Some(inner) if inner.is_multipart() => {
                split_multipart(inner, &part.body, depth + 1, out)?
            }
            _ => out.push(part),
        }
    }
    Ok(())
}

/// Kind of a delimiter line.
#[derive(PartialEq, Eq)]
enum Delim {
    Open,
    Close,
}

/// Classify a line as a delimiter of `boundary`. Leading indentation and trailing
/// transport padding are tolerated (D-05; RFC 2046 section 5.1.1 allows the padding).
fn delimiter(line: &[u8], boundary: &[u8]) -> Option<Delim> {
    let start = line
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let rest = line
        .get(start..)?
        .strip_prefix(b"--")?
        .strip_prefix(boundary)?;
    if rest.starts_with(b"--") {
        Some(Delim::Close)
    } else if is_blank(rest) {
        Some(Delim::Open)
    } else {
        None
    }
}

/// Byte ranges of the parts between delimiters. The line break before a delimiter
/// belongs to the delimiter (RFC 2046). Without a close delimiter the last part runs to
/// the end of the body minus one trailing line break.
fn part_ranges(body: &[u8], boundary: &[u8]) -> Result<Vec<(usize, usize)>, BodyError> {
    let mut ranges = Vec::new();
    let mut open: Option<usize> = None;
    let mut seen = false;
    for line in lines(body) {
        let Some(kind) = delimiter(line_bytes(body, line), boundary) else {
            continue;
        };
        seen = true;
        if let Some(start) = open.take() {
            ranges.push((start, content_end(body, line, start)));
        }
        if kind == Delim::Close {
            return Ok(ranges);
        }
        open = Some(line.next);
    }
    if !seen {
        return Err(BodyError::BoundaryNotFound {
            boundary: String::from_utf8_lossy(boundary).into_owned(),
        });
    }
    if let Some(start) = open {
        let end = strip_one_break(body, body.len()).max(start);
        ranges.push((start, end));
    }
    Ok(ranges)
}

/// End of the content preceding delimiter `line`, not before `start`.
fn content_end(body: &[u8], line: Line, start: usize) -> usize {
    strip_one_break(body, line.start).max(start)
}

/// Position `end` moved back over one CRLF or LF ending right before it.
fn strip_one_break(body: &[u8], end: usize) -> usize {
    let Some(before) = end.checked_sub(1) else {
        return end;
    };
    if body.get(before) != Some(&b'\n') {
        return end;
    }
    match before.checked_sub(1) {
        Some(cr) if body.get(cr) == Some(&b'\r') => cr,
        _ => before,
    }
}

fn parse_part(raw: &[u8]) -> Part {
    let block = headers::parse_header_block(raw);
    let content_type =
        headers::find(&block.headers, "content-type").and_then(|v| MediaType::parse(v).ok());
    let disposition = headers::find(&block.headers, "content-disposition")
        .and_then(|v| Disposition::parse(v).ok());
    let body = raw.get(block.body_start..).unwrap_or_default().to_vec();
    Part {
        content_type,
        disposition,
        headers: block.headers,
        body,
    }
}

fn is_blank_block(raw: &[u8]) -> bool {
    raw.iter().all(|b| b.is_ascii_whitespace())
}

fn trim_ws(b: &[u8]) -> &[u8] {
    let start = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let end = b.len()
        - b.iter()
            .rev()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
    b.get(start..end.max(start)).unwrap_or_default()
}

#[cfg(test)]
mod tests;

//! Line splitting and MIME part header blocks, tolerant of LF-only endings (D-06).

/// One line of a body: `[start, end)` is its content without the line break,
/// `next` is where the following line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) next: usize,
}

/// Iterate the lines of `buf` (CRLF or bare LF); a last line without break is included.
pub(crate) fn lines(buf: &[u8]) -> impl Iterator<Item = Line> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        let start = pos;
        let rest = buf.get(start..).unwrap_or_default();
        let (end, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let nl = start + i;
                let end = if nl > start && buf.get(nl - 1) == Some(&b'\r') {
                    nl - 1
                } else {
                    nl
                };
                (end, nl + 1)
            }
            None => (buf.len(), buf.len()),
        };
        pos = next;
        Some(Line { start, end, next })
    })
}

/// Bytes of a line.
pub(crate) fn line_bytes(buf: &[u8], line: Line) -> &[u8] {
    buf.get(line.start..line.end).unwrap_or_default()
}

/// True when the line holds only spaces and tabs.
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == b' ' || b == b'\t')
}

/// Parsed header block of a MIME part and where its body starts.
pub(crate) struct HeaderBlock {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body_start: usize,
}

/// Read the headers at the start of a part. The block ends at a blank line (consumed)
/// or, leniently, at the first line that is neither `token:` nor a folded continuation:
/// that line is the first body line (documentation captures omit the blank line, and a
/// part may have no headers at all). A continuation must be indented deeper than the
/// header it continues, so uniformly indented captures still split. Header names keep
/// their case; values are trimmed.
pub(crate) fn parse_header_block(part: &[u8]) -> HeaderBlock {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut header_indent = 0usize;
    for line in lines(part) {
        let bytes = line_bytes(part, line);
        if is_blank(bytes) {
            return HeaderBlock {
                headers,
                body_start: line.next,
            };
        }
        let indent = bytes
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let text = String::from_utf8_lossy(bytes);
        if let Some((name, value)) = header_line(&text) {
            headers.push((name.to_owned(), value.trim().to_owned()));
            header_indent = indent;
        } else if indent > header_indent
            && let Some(last) = headers.last_mut()
        {
            // RFC 3261 section 7.3.1 / RFC 5322 folding.
            last.1.push(' ');
            last.1.push_str(text.trim());
        } else {
            return HeaderBlock {
                headers,
                body_start: line.start,
            };
        }
    }
    HeaderBlock {
        headers,
        body_start: part.len(),
    }
}

/// Split `Name: value` where Name is an RFC 3261 token; leading whitespace is tolerated.
fn header_line(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once(':')?;
    let name = name.trim();
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    ok.then_some((name, value))
}

/// Find a header value by case-insensitive name (D-05).
pub(crate) fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_handle_crlf_lf_and_missing_final_break() {
        let buf = b"a\r\nbb\n\ncc";
        let got: Vec<&[u8]> = lines(buf).map(|l| line_bytes(buf, l)).collect();
        assert_eq!(got, vec![&b"a"[..], b"bb", b"", b"cc"]);
        assert_eq!(lines(b"").count(), 0);
        let l: Vec<Line> = lines(b"\r\n").collect();
        assert_eq!(
            l,
            vec![Line {
                start: 0,
                end: 0,
                next: 2
            }]
        );
    }

    #[test]
    fn header_block_with_blank_line() {
        let part = b"Content-Type:application/sdp\r\ncontent-length: 3 \r\n\r\nv=0";
        let hb = parse_header_block(part);
        assert_eq!(find(&hb.headers, "Content-Type"), Some("application/sdp"));
        assert_eq!(find(&hb.headers, "Content-Length"), Some("3"));
        assert_eq!(part.get(hb.body_start..), Some(&b"v=0"[..]));
    }

    #[test]
    fn header_block_folding_and_missing_blank_line() {
        let part = b"Content-Type: application/sdp\nX-Folded: a\n   b\nv=0\na=x:y\n";
        let hb = parse_header_block(part);
        assert_eq!(find(&hb.headers, "x-folded"), Some("a b"));
        assert_eq!(hb.headers.len(), 2);
        assert_eq!(part.get(hb.body_start..), Some(&b"v=0\na=x:y\n"[..]));
        // Uniformly indented capture (Cisco CUBE guide): body line at header indent.
        let part = b"  Content-Type: application/sdp\n  Content-Disposition: session\n  v=0\n";
        let hb = parse_header_block(part);
        assert_eq!(find(&hb.headers, "content-disposition"), Some("session"));
        assert_eq!(part.get(hb.body_start..), Some(&b"  v=0\n"[..]));
    }

    #[test]
    fn part_without_headers() {
        let hb = parse_header_block(b"\nbody");
        assert!(hb.headers.is_empty());
        assert_eq!(hb.body_start, 1);
        let hb = parse_header_block(b"<?xml version=\"1.0\"?>");
        assert!(hb.headers.is_empty());
        assert_eq!(hb.body_start, 0);
    }
}

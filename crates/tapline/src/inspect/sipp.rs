//! SIPp scenario templates (shared corpus INDEX.md section 2): messages that still carry
//! `[keyword]` placeholders. They are rendered the way SIPp would send them (keywords
//! replaced, LF -> CRLF, `[len]` = body length) so that the ordinary parsers can read them.

/// Fixed stand-ins for SIPp's per-call keywords. Documentation addresses (RFC 5737) so
/// nobody mistakes them for real ones.
const KEYWORDS: [(&str, &str); 14] = [
    ("remote_ip", "192.0.2.10"),
    ("remote_port", "5060"),
    ("local_ip", "192.0.2.20"),
    ("local_port", "5070"),
    ("transport", "UDP"),
    ("branch", "z9hG4bK-sipp-1"),
    ("call_id", "1-sipp@192.0.2.20"),
    ("pid", "42"),
    ("call_number", "1"),
    ("cseq", "1"),
    ("auto_media_port", "6000"),
    ("media_port", "6000"),
    ("media_ip", "192.0.2.20"),
    ("peer_tag_param", ";tag=sipp-peer"),
];

/// Longest keyword text between brackets we look at (`[field0 file=...]` is the longest kind).
const MAX_KEYWORD: usize = 128;

/// True when the text holds SIPp keywords that no real message would contain.
pub(super) fn is_template(text: &str) -> bool {
    [
        "[len]",
        "[call_id]",
        "[branch]",
        "[local_ip]",
        "[transport]",
    ]
    .iter()
    .chain(["[auto_media_port]", "[media_port]", "[remote_ip]"].iter())
    .any(|k| text.contains(k))
}

/// Render a template: returns the wire bytes and the names of the keywords replaced.
pub(super) fn render(text: &str) -> (Vec<u8>, Vec<String>) {
    let mut replaced: Vec<String> = Vec::new();
    let substituted = substitute(text, &mut replaced);
    let lf = substituted.replace("\r\n", "\n");
    let (head, body) = match lf.split_once("\n\n") {
        Some((h, b)) => (h.to_owned(), b.to_owned()),
        None => (lf.trim_end().to_owned(), String::new()),
    };
    let body = body.replace('\n', "\r\n");
    let mut head = head.replace('\n', "\r\n");
    if head.contains("[len]") {
        head = head.replace("[len]", &body.len().to_string());
        replaced.push("len".into());
    }
    (format!("{head}\r\n\r\n{body}").into_bytes(), replaced)
}

/// Replace every known `[keyword]`; `[fieldN ...]` (injection file values) and
/// `[last_Header:]` (echoed headers) become neutral text. `[len]` is left for [`render`].
fn substitute(text: &str, replaced: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        let inner_end = from_open
            .char_indices()
            .take(MAX_KEYWORD)
            .find(|(_, c)| *c == ']' || *c == '\n')
            .filter(|(_, c)| *c == ']')
            .map(|(i, _)| i);
        let Some(close) = inner_end else {
            out.push('[');
            rest = from_open.get(1..).unwrap_or_default();
            continue;
        };
        let inner = from_open.get(1..close).unwrap_or_default();
        let replacement = replacement_for(inner);
        match replacement {
            Some(r) => {
                out.push_str(r);
                let name = inner.split_whitespace().next().unwrap_or(inner).to_owned();
                if !replaced.contains(&name) {
                    replaced.push(name);
                }
            }
            None => out.push_str(from_open.get(..=close).unwrap_or_default()),
        }
        rest = from_open.get(close + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

fn replacement_for(inner: &str) -> Option<&'static str> {
    if let Some((_, v)) = KEYWORDS.iter().find(|(k, _)| *k == inner) {
        return Some(v);
    }
    let is_field = inner
        .strip_prefix("field")
        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()));
    if is_field {
        return Some("sipp-field");
    }
    if inner.starts_with("last_") {
        return Some("");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keywords_length_and_crlf() {
        let t = "INVITE sip:[remote_ip]:[remote_port] SIP/2.0\nVia: SIP/2.0/[transport] x\n\
                 Content-Length: [len]\n\nm=audio [auto_media_port] RTP/AVP 0\n[field0 file=a.csv]\n";
        assert!(is_template(t));
        let (bytes, names) = render(t);
        let s = String::from_utf8(bytes).unwrap();
        assert!(s.starts_with("INVITE sip:192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP x\r\n"));
        let body = "m=audio 6000 RTP/AVP 0\r\nsipp-field\r\n";
        assert!(s.ends_with(&format!("Content-Length: {}\r\n\r\n{body}", body.len())));
        assert!(names.contains(&"auto_media_port".to_string()));
        assert!(names.contains(&"field0".to_string()));
        assert!(names.contains(&"len".to_string()));
    }

    #[test]
    fn leaves_unknown_brackets_and_ipv6_alone() {
        let mut names = Vec::new();
        let s = substitute("c=IN IP6 [::1] [unknown] [unclosed\n]", &mut names);
        assert_eq!(s, "c=IN IP6 [::1] [unknown] [unclosed\n]");
        assert!(names.is_empty());
        assert!(!is_template("v=0\nc=IN IP6 [::1]\n"));
    }
}

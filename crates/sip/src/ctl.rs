//! Control characters in header values and the Request-URI (RFC 3261 25.1).
//!
//! The grammar allows no CTL (%x00-1F, %x7F) in a header value except HTAB as white
//! space, and a `quoted-pair` (`"\"` then any octet but CR or LF) inside a quoted string
//! or a comment (RFC 4475 intmeth puts BEL, NUL and DEL in a display name that way).
//! Call-ID and CSeq have neither quoted strings nor comments: there, no CTL at all.

/// Headers whose grammar has no quoted string nor comment.
const STRICT: [&str; 2] = ["Call-ID", "CSeq"];

/// A CTL that may not appear raw (HTAB is white space).
fn forbidden(c: char) -> bool {
    c.is_ascii_control() && c != '\t'
}

/// Where the scanner is inside a header value.
#[derive(Default)]
struct Scan {
    in_quotes: bool,
    comment_depth: usize,
}

impl Scan {
    fn quoting(&self) -> bool {
        self.in_quotes || self.comment_depth > 0
    }

    /// Track quotes and comments (a `"` inside a comment is ordinary ctext).
    fn step(&mut self, c: char) {
        match c {
            '"' if self.comment_depth == 0 => self.in_quotes = !self.in_quotes,
            '(' if !self.in_quotes => self.comment_depth += 1,
            ')' if !self.in_quotes => self.comment_depth = self.comment_depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// Whether `value` carries a control character the grammar forbids.
fn value_has_ctl(value: &str, quoted_pairs_allowed: bool) -> bool {
    let mut scan = Scan::default();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && quoted_pairs_allowed && scan.quoting() {
            // quoted-pair: any octet but CR and LF may follow the backslash.
            match chars.next() {
                Some('\r' | '\n') => return true,
                _ => continue,
            }
        }
        if forbidden(c) {
            return true;
        }
        scan.step(c);
    }
    false
}

/// Whether header `name`'s `value` carries a control character the grammar forbids.
pub(crate) fn header_has_ctl(name: &str, value: &str) -> bool {
    let strict = STRICT.iter().any(|h| h.eq_ignore_ascii_case(name));
    value_has_ctl(value, !strict)
}

/// Whether a Request-URI carries any control character (URIs have no quoting at all).
pub(crate) fn uri_has_ctl(uri: &str) -> bool {
    uri.chars().any(|c| c.is_ascii_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_id_refuses_every_ctl_but_htab() {
        for c in (0u8..0x20).chain([0x7f]).filter(|b| *b != b'\t') {
            let v = format!("abc{}def@host", char::from(c));
            assert!(header_has_ctl("Call-ID", &v), "{c:#04x}");
            assert!(header_has_ctl("call-id", &format!("\"{}\"", char::from(c))));
        }
        assert!(!header_has_ctl("Call-ID", "abc\tdef"));
        assert!(!header_has_ctl("Call-ID", "a\"b\\c@host"));
    }

    #[test]
    fn quoted_pair_ctl_is_allowed_in_display_names_and_comments() {
        assert!(!header_has_ctl(
            "To",
            "\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\" <sip:a@b>"
        ));
        assert!(!header_has_ctl("User-Agent", "X/1 (build \\\x01)"));
        assert!(header_has_ctl("To", "\"a\\\r\" <sip:a@b>"));
        assert!(header_has_ctl("To", "\"a\x1b\" <sip:a@b>"));
        assert!(header_has_ctl("To", "<sip:a@b>;tag=x\x1by"));
        // Outside quotes a backslash is not an escape.
        assert!(header_has_ctl("Via", "SIP/2.0/UDP h;branch=z\\\0"));
        assert!(header_has_ctl("CSeq", "1 INVITE\x7f"));
    }

    #[test]
    fn uri_refuses_ctl() {
        assert!(uri_has_ctl("sip:a\0@b"));
        assert!(!uri_has_ctl("sip:a%00@b"));
    }
}

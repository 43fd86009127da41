//! Content-Type (RFC 2045 section 5.1) and Content-Disposition (RFC 3261 section 20.11) values.

use crate::error::BodyError;

/// A parsed media type: lower-cased type and subtype, parameters with unquoted values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// Top-level type, lower-cased (`application`).
    pub type_: String,
    /// Subtype, lower-cased (`sdp`).
    pub subtype: String,
    /// Parameters in order; names lower-cased, values unquoted and otherwise as sent.
    pub params: Vec<(String, String)>,
}

impl MediaType {
    /// Parse a Content-Type value. Whitespace around `/`, `;` and `=` is tolerated
    /// (D-05); type and subtype are case-insensitive (RFC 2045 section 5.1).
    pub fn parse(s: &str) -> Result<MediaType, BodyError> {
        let bad = || BodyError::BadMediaType {
            value: s.to_owned(),
        };
        let (essence, rest) = split_first_param(s);
        let (type_, subtype) = essence.split_once('/').ok_or_else(bad)?;
        let (type_, subtype) = (type_.trim(), subtype.trim());
        if !is_token(type_) || !is_token(subtype) {
            return Err(bad());
        }
        Ok(MediaType {
            type_: type_.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            params: parse_params(rest),
        })
    }

    /// `type/subtype`, lower-cased, without parameters.
    pub fn essence(&self) -> String {
        format!("{}/{}", self.type_, self.subtype)
    }

    /// Value of a parameter, the name compared case-insensitively.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True for `multipart/*`.
    pub fn is_multipart(&self) -> bool {
        self.type_ == "multipart"
    }
}

/// A parsed Content-Disposition value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    /// Disposition type, lower-cased: `session`, `render`, `recording-session`, `signal`...
    pub kind: String,
    /// `handling` parameter; absent or unknown means required (RFC 3261 section 20.11).
    pub handling_required: bool,
}

impl Disposition {
    /// Parse a Content-Disposition value such as `session; handling=optional`.
    pub fn parse(s: &str) -> Result<Disposition, BodyError> {
        let (kind, rest) = split_first_param(s);
        let kind = kind.trim();
        if !is_token(kind) {
            return Err(BodyError::BadDisposition {
                value: s.to_owned(),
            });
        }
        let handling_required = !parse_params(rest)
            .iter()
            .any(|(n, v)| n == "handling" && v.eq_ignore_ascii_case("optional"));
        Ok(Disposition {
            kind: kind.to_ascii_lowercase(),
            handling_required,
        })
    }

    /// Default when the header is absent: `session` for SDP, `render` otherwise,
    /// handling required (RFC 3261 section 20.11, D-02).
    pub fn default_for(content_type: Option<&MediaType>) -> Disposition {
        let is_sdp = content_type.is_some_and(|m| m.type_ == "application" && m.subtype == "sdp");
        let kind = if is_sdp { "session" } else { "render" };
        Disposition {
            kind: kind.to_owned(),
            handling_required: true,
        }
    }
}

/// RFC 2045 token characters (no tspecials, no whitespace or controls).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// Split off the part before the first `;` that is outside quotes.
fn split_first_param(s: &str) -> (&str, &str) {
    match s.find(';') {
        Some(i) => (s.get(..i).unwrap_or(s), s.get(i + 1..).unwrap_or("")),
        None => (s, ""),
    }
}

/// Parse `name=value; name="quoted;value"` pairs. Malformed pieces are skipped.
pub(crate) fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        // name
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            name.push(c);
            chars.next();
        }
        let name = name.trim().to_ascii_lowercase();
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                // quoted-string with backslash escapes (RFC 822 quoted-pair)
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                value.push(e);
                            }
                        }
                        _ => value.push(c),
                    }
                }
                // skip to the next separator
                while chars.peek().is_some_and(|&c| c != ';') {
                    chars.next();
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ';' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                value = value.trim().to_owned();
            }
        }
        if !name.is_empty() {
            out.push((name, value));
        }
        if chars.next().is_none() {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_case_insensitively_with_params() {
        let m = MediaType::parse("Multipart/Mixed ; Boundary=\"a;b \\\"c\"").unwrap();
        assert_eq!(m.essence(), "multipart/mixed");
        assert_eq!(m.param("boundary"), Some("a;b \"c"));
        assert!(m.is_multipart());
        let m = MediaType::parse("multipart/mixed;boundary=foobar").unwrap();
        assert_eq!(m.param("BOUNDARY"), Some("foobar"));
        let m = MediaType::parse("application/SDP").unwrap();
        assert_eq!(m.essence(), "application/sdp");
    }

    #[test]
    fn tolerates_space_after_slash_but_rejects_garbage() {
        // BroadWorks fixture: "application/ +xml"
        assert_eq!(
            MediaType::parse("application/ +xml").unwrap().subtype,
            "+xml"
        );
        assert!(MediaType::parse("text").is_err());
        assert!(MediaType::parse("/sdp").is_err());
        assert!(MediaType::parse("application/").is_err());
        assert!(MediaType::parse("").is_err());
        assert!(MediaType::parse("a b/c").is_err());
    }

    #[test]
    fn disposition_handling_defaults_to_required() {
        let d = Disposition::parse("session;handling=required").unwrap();
        assert_eq!((d.kind.as_str(), d.handling_required), ("session", true));
        let d = Disposition::parse("Signal; Handling=Optional").unwrap();
        assert_eq!((d.kind.as_str(), d.handling_required), ("signal", false));
        let d = Disposition::parse("recording-session").unwrap();
        assert!(d.handling_required);
        assert!(Disposition::parse(" ; handling=optional").is_err());
    }

    #[test]
    fn default_disposition_depends_on_type() {
        let sdp = MediaType::parse("application/sdp").unwrap();
        assert_eq!(Disposition::default_for(Some(&sdp)).kind, "session");
        assert_eq!(Disposition::default_for(None).kind, "render");
    }

    #[test]
    fn params_survive_junk() {
        assert_eq!(
            parse_params(";;x;=y; a = b ;c=\"unterminated"),
            vec![
                ("x".to_owned(), String::new()),
                ("a".to_owned(), "b".to_owned()),
                ("c".to_owned(), "unterminated".to_owned()),
            ]
        );
    }
}

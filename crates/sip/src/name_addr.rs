//! `name-addr` / `addr-spec` values of From, To, Contact, Route and Record-Route
//! (RFC 3261 sections 20.10, 20.20, 20.39, 25.1).

use std::fmt;

use crate::method::is_token;
use crate::params::{self, HeaderError, Param};

/// A parsed address: optional display name, URI and header parameters (tag, `+sip.src`, ...).
/// In the bare `addr-spec` form, parameters after the URI are header parameters
/// (RFC 3261 20.10), so `sip:a@b;tag=1` has URI `sip:a@b` and param `tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name with quotes removed and escapes resolved.
    pub display_name: Option<String>,
    /// The URI (without `<>`), URI parameters included.
    pub uri: String,
    /// Header parameters in order.
    pub params: Vec<Param>,
}

/// Read a quoted string starting at `s[0] == '"'`; returns (unescaped, rest after quote).
fn read_quoted(s: &str) -> Result<(String, &str), HeaderError> {
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Ok((out, s.get(i + 1..).unwrap_or("")));
        } else {
            out.push(c);
        }
    }
    Err(HeaderError::UnterminatedQuote)
}

/// Check that `uri` looks like `scheme:rest` with no whitespace (RFC 3986 scheme syntax).
pub(crate) fn check_uri(uri: &str) -> Result<(), HeaderError> {
    let bad = || HeaderError::BadUri(uri.to_string());
    let (scheme, rest) = uri.split_once(':').ok_or_else(bad)?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !first_ok || !rest_ok || rest.is_empty() || uri.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    Ok(())
}

impl NameAddr {
    /// Parse one element (not a comma-separated list).
    pub fn parse(s: &str) -> Result<NameAddr, HeaderError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(HeaderError::Empty);
        }
        let (display_name, rest) = if s.starts_with('"') {
            let (name, rest) = read_quoted(s)?;
            let rest = rest.trim_start();
            if !rest.starts_with('<') {
                return Err(HeaderError::BadUri(rest.to_string()));
            }
            (Some(name), rest)
        } else if let Some(p) = s.find('<') {
            let name = s.get(..p).unwrap_or("").trim();
            if !name.split_whitespace().all(is_token) {
                return Err(HeaderError::BadDisplayName);
            }
            let name = (!name.is_empty()).then(|| name.to_string());
            (name, s.get(p..).unwrap_or(""))
        } else {
            // addr-spec form: URI ends at the first ';' (RFC 3261 20.10).
            let (uri, rest) = match s.find(';') {
                Some(p) => (s.get(..p).unwrap_or(""), s.get(p..).unwrap_or("")),
                None => (s, ""),
            };
            let uri = uri.trim();
            check_uri(uri)?;
            let params = params::parse_params(rest)?;
            return Ok(NameAddr {
                display_name: None,
                uri: uri.to_string(),
                params,
            });
        };
        let inner = rest.strip_prefix('<').unwrap_or(rest);
        let end = inner.find('>').ok_or(HeaderError::UnclosedAngle)?;
        let uri = inner.get(..end).unwrap_or("").trim();
        check_uri(uri)?;
        let params = params::parse_params(inner.get(end + 1..).unwrap_or(""))?;
        Ok(NameAddr {
            display_name,
            uri: uri.to_string(),
            params,
        })
    }

    /// Value of header parameter `name`: `None` absent, `Some(None)` present without value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        params::find(&self.params, name)
    }

    /// True when header parameter `name` is present (e.g. `+sip.src`, `src`).
    pub fn has_param(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    /// The `tag` parameter (RFC 3261 19.3).
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    /// Set (replace or add) a header parameter.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        match self
            .params
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(p) => p.1 = value,
            None => self.params.push((name.to_string(), value)),
        }
    }

    /// URI parameter `name` (inside the URI, e.g. `transport`, `lr`), case-insensitive.
    pub fn uri_param(&self, name: &str) -> Option<Option<&str>> {
        let no_headers = self.uri.split('?').next().unwrap_or("");
        no_headers.split(';').skip(1).find_map(|p| {
            let (n, v) = match p.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            };
            n.trim().eq_ignore_ascii_case(name).then_some(v)
        })
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if let Some(name) = &self.display_name {
            out.push('"');
            for c in name.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push_str("\" ");
        }
        out.push('<');
        out.push_str(&self.uri);
        out.push('>');
        params::write_params(&mut out, &self.params);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_display_name_with_comma_and_escaped_quote() {
        let n = NameAddr::parse(r#""Doe, \"JD\" \\ J" <sip:jd@example.com;transport=tcp>;tag=7"#)
            .unwrap();
        assert_eq!(n.display_name.as_deref(), Some(r#"Doe, "JD" \ J"#));
        assert_eq!(n.uri, "sip:jd@example.com;transport=tcp");
        assert_eq!(n.tag(), Some("7"));
        assert_eq!(n.uri_param("transport"), Some(Some("tcp")));
        let again = NameAddr::parse(&n.to_string()).unwrap();
        assert_eq!(again, n);
    }

    #[test]
    fn bare_addr_spec_params_are_header_params() {
        let n = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert_eq!(n.uri, "sip:+19725552222@gw1.example.net");
        assert!(n.has_param("unknownparam"));
        let n = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert!(!n.has_param("unknownparam"));
        assert_eq!(n.uri_param("unknownparam"), Some(None));
    }

    #[test]
    fn feature_tags_and_token_display_names() {
        let n = NameAddr::parse("<sip:2000@src.example.com>;+sip.src").unwrap();
        assert!(n.has_param("+sip.src"));
        let n = NameAddr::parse("Contact:<sip:a@b>;src".trim_start_matches("Contact:")).unwrap();
        assert!(n.has_param("src"));
        let n = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display_name.as_deref(), Some("caller"));
        assert_eq!(n.tag(), Some("323"));
        let n = NameAddr::parse("token1~` token2'+_ <sip:m@example.com>").unwrap();
        assert_eq!(n.display_name.as_deref(), Some("token1~` token2'+_"));
    }

    #[test]
    fn invalid_forms() {
        assert_eq!(
            NameAddr::parse("Bell, Alexander <sip:a@b>"),
            Err(HeaderError::BadDisplayName)
        );
        assert_eq!(
            NameAddr::parse("\"Bob <sip:a@b>"),
            Err(HeaderError::UnterminatedQuote)
        );
        assert_eq!(NameAddr::parse("<sip:a@b"), Err(HeaderError::UnclosedAngle));
        assert_eq!(
            NameAddr::parse("\"Joe\" <sip:joe@example.org>;;;;"),
            Err(HeaderError::EmptyParam)
        );
        assert!(NameAddr::parse("<sip:a b@c>").is_err());
        assert!(NameAddr::parse("nocolon").is_err());
        assert!(NameAddr::parse("").is_err());
    }

    #[test]
    fn set_param_adds_tag() {
        let mut n = NameAddr::parse("<sip:a@b>").unwrap();
        n.set_param("tag", Some("x1"));
        assert_eq!(n.to_string(), "<sip:a@b>;tag=x1");
    }
}

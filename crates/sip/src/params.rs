//! `;name=value` parameter lists shared by Via and name-addr headers (RFC 3261 25.1:
//! `generic-param`), tolerant of the LWS allowed around `;` and `=` (RFC 4475 wsinv).

use crate::method::is_token;

/// Why a typed header value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The value is empty.
    #[error("empty value")]
    Empty,
    /// `;;` or a trailing `;` (RFC 4475 badinv01).
    #[error("empty parameter")]
    EmptyParam,
    /// A parameter name that is not a token.
    #[error("bad parameter name {0:?}")]
    BadParamName(String),
    /// A parameter value that is neither a token-like word nor a quoted string.
    #[error("bad parameter value {0:?}")]
    BadParamValue(String),
    /// A quoted string without its closing quote.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// `<` without the matching `>`.
    #[error("missing '>' after URI")]
    UnclosedAngle,
    /// Display name with characters that require quoting (RFC 4475 baddn).
    #[error("display name must be quoted")]
    BadDisplayName,
    /// A URI without scheme or with whitespace inside.
    #[error("bad URI {0:?}")]
    BadUri(String),
    /// Via protocol or sent-by problem.
    #[error("bad Via: {0}")]
    BadVia(&'static str),
    /// A port that is not a number in 0..=65535.
    #[error("bad port {0:?}")]
    BadPort(String),
    /// CSeq problem.
    #[error("bad CSeq: {0}")]
    BadCSeq(&'static str),
}

/// One `name[=value]` parameter. Quoted values keep their quotes.
pub type Param = (String, Option<String>);

/// Split `s` on `sep` outside quoted strings.
pub(crate) fn split_unquoted(s: &str, sep: char) -> Result<Vec<&str>, HeaderError> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == sep {
            out.push(s.get(start..i).unwrap_or(""));
            start = i + c.len_utf8();
        }
    }
    if in_quotes {
        return Err(HeaderError::UnterminatedQuote);
    }
    out.push(s.get(start..).unwrap_or(""));
    Ok(out)
}

fn valid_value(v: &str) -> bool {
    if v.starts_with('"') {
        return v.len() >= 2 && v.ends_with('"');
    }
    // token, host (IPv6 in brackets) or other word: anything without whitespace/separators
    !v.is_empty()
        && v.chars()
            .all(|c| !c.is_whitespace() && !matches!(c, ';' | ',' | '"' | '<' | '>'))
}

/// Parse `;a=1;b;c="x"` (the leading `;` is required unless `s` is blank).
pub(crate) fn parse_params(s: &str) -> Result<Vec<Param>, HeaderError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = s.strip_prefix(';') else {
        return Err(HeaderError::BadParamName(s.to_string()));
    };
    let mut out = Vec::new();
    for piece in split_unquoted(rest, ';')? {
        let piece = piece.trim();
        if piece.is_empty() {
            return Err(HeaderError::EmptyParam);
        }
        let (name, value) = match piece.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (piece, None),
        };
        if !is_token(name) {
            return Err(HeaderError::BadParamName(name.to_string()));
        }
        if let Some(v) = value {
            if !valid_value(v) {
                return Err(HeaderError::BadParamValue(v.to_string()));
            }
        }
        out.push((name.to_string(), value.map(str::to_string)));
    }
    Ok(out)
}

/// Look up a parameter by case-insensitive name: `None` if absent, `Some(None)` if valueless.
pub(crate) fn find<'a>(params: &'a [Param], name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
}

/// Serialise parameters as `;a=1;b`.
pub(crate) fn write_params(out: &mut String, params: &[Param]) {
    for (n, v) in params {
        out.push(';');
        out.push_str(n);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_with_lws_and_quotes() {
        let p = parse_params(" ;  tag    = 1918181833n ; x; q=\"a;b\"").unwrap();
        assert_eq!(p[0], ("tag".into(), Some("1918181833n".into())));
        assert_eq!(p[1], ("x".into(), None));
        assert_eq!(p[2], ("q".into(), Some("\"a;b\"".into())));
        assert_eq!(find(&p, "TAG"), Some(Some("1918181833n")));
        assert_eq!(find(&p, "x"), Some(None));
        assert_eq!(find(&p, "y"), None);
    }

    #[test]
    fn empty_params_are_errors() {
        assert_eq!(parse_params(";;"), Err(HeaderError::EmptyParam));
        assert_eq!(parse_params(";a;"), Err(HeaderError::EmptyParam));
        assert_eq!(parse_params(";a=\"x"), Err(HeaderError::UnterminatedQuote));
        assert!(parse_params(";a b=1").is_err());
        assert!(parse_params("junk").is_err());
    }
}

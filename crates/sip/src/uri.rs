//! SIP/SIPS URI pieces (RFC 3261 section 19.1): enough to route to a Contact or Route.

use crate::params::HeaderError;

/// A parsed `sip:` / `sips:` URI. Escapes are kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sip` or `sips` (lower-cased).
    pub scheme: String,
    /// User part (before `@`), if any.
    pub user: Option<String>,
    /// Host (IPv6 keeps its brackets).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (`transport`, `lr`, ...) in order.
    pub params: Vec<(String, Option<String>)>,
    /// Header part after `?`, unparsed.
    pub headers: Option<String>,
}

impl SipUri {
    /// Parse a `sip:` or `sips:` URI (without surrounding `<>`).
    pub fn parse(s: &str) -> Result<SipUri, HeaderError> {
        let bad = || HeaderError::BadUri(s.chars().take(80).collect());
        let (scheme, rest) = s.trim().split_once(':').ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "sip" && scheme != "sips" {
            return Err(bad());
        }
        let (rest, headers) = match rest.split_once('?') {
            Some((r, h)) => (r, Some(h.to_string())),
            None => (rest, None),
        };
        // The user part may contain ';' (RFC 4475 semiuri), so split at the last '@' first.
        let (user, hostpart) = match rest.rfind('@') {
            Some(p) => (
                Some(rest.get(..p).unwrap_or("").to_string()),
                rest.get(p + 1..).unwrap_or(""),
            ),
            None => (None, rest),
        };
        let mut pieces = hostpart.split(';');
        let hostport = pieces.next().unwrap_or("");
        let (host, port) = if hostport.starts_with('[') {
            let end = hostport.find(']').ok_or_else(bad)?;
            let port = hostport.get(end + 1..).unwrap_or("");
            (hostport.get(..=end).unwrap_or(""), port.strip_prefix(':'))
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() || host.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| HeaderError::BadPort(p.to_string()))?,
            ),
            None => None,
        };
        let mut params = Vec::new();
        for p in pieces {
            if p.is_empty() {
                return Err(HeaderError::EmptyParam);
            }
            match p.split_once('=') {
                Some((n, v)) => params.push((n.to_string(), Some(v.to_string()))),
                None => params.push((p.to_string(), None)),
            }
        }
        Ok(SipUri {
            scheme,
            user,
            host: host.to_string(),
            port,
            params,
            headers,
        })
    }

    /// URI parameter lookup (case-insensitive name).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// The `transport` parameter, lower-cased.
    pub fn transport(&self) -> Option<String> {
        self.param("transport")
            .flatten()
            .map(str::to_ascii_lowercase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let u = SipUri::parse("sip:srs@192.0.2.1:5080;transport=TCP;lr").unwrap();
        assert_eq!(u.user.as_deref(), Some("srs"));
        assert_eq!((u.host.as_str(), u.port), ("192.0.2.1", Some(5080)));
        assert_eq!(u.transport().as_deref(), Some("tcp"));
        assert_eq!(u.param("lr"), Some(None));
        let u = SipUri::parse("sips:[2001:db8::1]:5061").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.user),
            ("[2001:db8::1]", Some(5061), None)
        );
        let u = SipUri::parse("sip:user;par=u%40example.net@example.com?h=1").unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.host, "example.com");
        assert_eq!(u.headers.as_deref(), Some("h=1"));
    }

    #[test]
    fn rejects_bad() {
        assert!(SipUri::parse("tel:+123").is_err());
        assert!(SipUri::parse("sip:").is_err());
        assert!(SipUri::parse("sip:a@h:99999").is_err());
        assert!(SipUri::parse("sip:h;;x").is_err());
        assert!(SipUri::parse("sip:[::1").is_err());
    }
}

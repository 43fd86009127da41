//! Via header values (RFC 3261 section 20.42, RFC 3581 rport).

use std::fmt;

use crate::method::is_token;
use crate::params::{self, HeaderError, Param};

/// One Via element: `SIP/2.0/<transport> <host>[:<port>];params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport token as received (e.g. `UDP`, `TCP`, `TLS`).
    pub transport: String,
    /// Host part of sent-by (IPv6 keeps its brackets).
    pub host: String,
    /// Port part of sent-by, if given.
    pub port: Option<u16>,
    /// Parameters (branch, rport, received, ...) in order.
    pub params: Vec<Param>,
}

fn parse_port(p: &str) -> Result<u16, HeaderError> {
    let p = p.trim();
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeaderError::BadPort(p.to_string()));
    }
    p.parse().map_err(|_| HeaderError::BadPort(p.to_string()))
}

fn valid_host(h: &str) -> bool {
    if let Some(inner) = h.strip_prefix('[') {
        return inner.strip_suffix(']').is_some_and(|i| {
            !i.is_empty() && i.chars().all(|c| c.is_ascii_hexdigit() || ":.".contains(c))
        });
    }
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

impl Via {
    /// Parse one Via element (not a comma-separated list). LWS around `/`, `;` and `=` is
    /// allowed (RFC 4475 wsinv).
    pub fn parse(s: &str) -> Result<Via, HeaderError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(HeaderError::Empty);
        }
        let (front, rest) = match s.find(';') {
            Some(p) => (s.get(..p).unwrap_or(""), s.get(p..).unwrap_or("")),
            None => (s, ""),
        };
        let mut parts = front.splitn(3, '/');
        let name = parts.next().unwrap_or("").trim();
        let version = parts.next().unwrap_or("").trim();
        let tail = parts.next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err(HeaderError::BadVia("protocol is not SIP/2.0"));
        }
        let (transport, sent_by) = tail
            .split_once(char::is_whitespace)
            .ok_or(HeaderError::BadVia("missing sent-by"))?;
        if !is_token(transport) {
            return Err(HeaderError::BadVia("bad transport"));
        }
        let sent_by = sent_by.trim();
        let (host, port) = if sent_by.starts_with('[') {
            let end = sent_by
                .find(']')
                .ok_or(HeaderError::BadVia("bad IPv6 host"))?;
            let host = sent_by.get(..=end).unwrap_or("");
            let after = sent_by.get(end + 1..).unwrap_or("").trim();
            let port = match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p)?),
                None if after.is_empty() => None,
                None => return Err(HeaderError::BadVia("junk after host")),
            };
            (host, port)
        } else {
            match sent_by.split_once(':') {
                Some((h, p)) => (h.trim(), Some(parse_port(p)?)),
                None => (sent_by, None),
            }
        };
        if !valid_host(host) {
            return Err(HeaderError::BadVia("bad host"));
        }
        Ok(Via {
            transport: transport.to_string(),
            host: host.to_string(),
            port,
            params: params::parse_params(rest)?,
        })
    }

    /// Parameter lookup: `None` absent, `Some(None)` valueless.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        params::find(&self.params, name)
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// True when the branch carries the RFC 3261 magic cookie `z9hG4bK` (section 8.1.1.7).
    pub fn has_magic_cookie(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&str> {
        self.param("received").flatten()
    }

    /// The `rport` parameter: `None` absent, `Some(None)` requested (no value), else the port.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param("rport").map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// `host[:port]` as written.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{}", self.host, p),
            None => self.host.clone(),
        }
    }

    /// Set (replace or add) a parameter.
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
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = format!("SIP/2.0/{} {}", self.transport, self.sent_by());
        params::write_params(&mut out, &self.params);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_via() {
        let v = Via::parse("SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;rport").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "10.0.0.1");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.branch(), Some("z9hG4bK1"));
        assert!(v.has_magic_cookie());
        assert_eq!(v.rport(), Some(None));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;rport"
        );
    }

    #[test]
    fn parses_whitespace_heavy_via_and_ipv6() {
        let v = Via::parse("SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.host, "192.0.2.2");
        assert!(!v.has_magic_cookie());
        let v =
            Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8")
                .unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
        let v = Via::parse("SIP/2.0/TLS [2001:db8::9:1]:5061;branch=z9hG4bKa").unwrap();
        assert_eq!(v.host, "[2001:db8::9:1]");
        assert_eq!(v.port, Some(5061));
    }

    #[test]
    fn rejects_bad_vias() {
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert!(Via::parse("SIP/3.0/UDP host").is_err());
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/2.0/UDP host:99999").is_err());
        assert!(Via::parse("SIP/2.0/UDP host:abc").is_err());
        assert!(Via::parse("").is_err());
    }

    #[test]
    fn set_received_and_rport() {
        let mut v = Via::parse("SIP/2.0/UDP a.example;rport;branch=z9hG4bKx").unwrap();
        v.set_param("rport", Some("5099"));
        v.set_param("received", Some("192.0.2.9"));
        assert_eq!(v.rport(), Some(Some(5099)));
        assert_eq!(v.received(), Some("192.0.2.9"));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP a.example;rport=5099;branch=z9hG4bKx;received=192.0.2.9"
        );
    }
}

//! CSeq header (RFC 3261 section 20.16).

use std::fmt;

use crate::method::{Method, is_token};
use crate::params::HeaderError;

/// Sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number; RFC 3261 8.1.1.5 requires it to fit in 32 bits.
    pub seq: u32,
    /// Method.
    pub method: Method,
}

impl CSeq {
    /// Parse `1 INVITE` (LWS between the parts may include folding, RFC 4475 wsinv).
    pub fn parse(s: &str) -> Result<CSeq, HeaderError> {
        let mut parts = s.split_whitespace();
        let num = parts.next().ok_or(HeaderError::Empty)?;
        let method = parts.next().ok_or(HeaderError::BadCSeq("missing method"))?;
        if parts.next().is_some() {
            return Err(HeaderError::BadCSeq("trailing junk"));
        }
        if !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HeaderError::BadCSeq("number is not decimal"));
        }
        let seq = num
            .parse()
            .map_err(|_| HeaderError::BadCSeq("number exceeds 32 bits"))?;
        if !is_token(method) {
            return Err(HeaderError::BadCSeq("method is not a token"));
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let c = CSeq::parse("0009\r\n  INVITE".replace("\r\n", " ").as_str()).unwrap();
        assert_eq!(
            c,
            CSeq {
                seq: 9,
                method: Method::Invite
            }
        );
        assert_eq!(c.to_string(), "9 INVITE");
        assert_eq!(CSeq::parse("604674513 INVITE ").unwrap().seq, 604674513);
    }

    #[test]
    fn rejects_overflow_and_junk() {
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
        assert!(CSeq::parse("1 INVITE x").is_err());
        assert!(CSeq::parse("").is_err());
    }
}

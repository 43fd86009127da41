//! Writing SDP with CRLF line endings in RFC 4566 section 5 order.

use std::fmt::{self, Display, Formatter};

use crate::model::{Attribute, Connection, MediaDescription, Origin, SessionDescription};

/// Session-level line types that have a fixed place or a dedicated field.
const SESSION_PLACED: &str = "voscituepbrzka";
/// Media-level line types that have a fixed place or a dedicated field.
const MEDIA_PLACED: &str = "icbka";

impl Display for SessionDescription {
    /// v o s (i u e p) c (b) t (r z k) [unknown] a, then each media section. A missing
    /// `v=`, `s=` or `t=` is written with its neutral value so the output is valid SDP.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "v={}\r\n", self.version.as_deref().unwrap_or("0"))?;
        if let Some(o) = &self.origin {
            write!(f, "o={o}\r\n")?;
        }
        others(f, &self.other_lines, |k| k == 'o')?;
        write!(f, "s={}\r\n", self.session_name.as_deref().unwrap_or("-"))?;
        others(f, &self.other_lines, |k| "iuep".contains(k))?;
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        others(f, &self.other_lines, |k| k == 'c' || k == 'b')?;
        if !self.other_lines.iter().any(|(k, _)| *k == 't') {
            f.write_str("t=0 0\r\n")?;
        }
        others(f, &self.other_lines, |k| "trzk".contains(k))?;
        others(f, &self.other_lines, |k| !SESSION_PLACED.contains(k))?;
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl Display for MediaDescription {
    /// m i c b k [unknown] a.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        for fmt in &self.formats {
            write!(f, " {fmt}")?;
        }
        f.write_str("\r\n")?;
        others(f, &self.other_lines, |k| k == 'i')?;
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        others(f, &self.other_lines, |k| k == 'c' || k == 'b' || k == 'k')?;
        others(f, &self.other_lines, |k| !MEDIA_PLACED.contains(k))?;
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        Ok(())
    }
}

impl Display for Origin {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

impl Display for Connection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "IN {} {}", self.addr_type, self.address)
    }
}

impl Display for Attribute {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}:{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

fn others(
    f: &mut Formatter<'_>,
    lines: &[(char, String)],
    pick: impl Fn(char) -> bool,
) -> fmt::Result {
    for (k, v) in lines.iter().filter(|(k, _)| pick(*k)) {
        write!(f, "{k}={v}\r\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_canonical_order_with_crlf() {
        let text = "a=tool:x\nt=0 0\nx=odd\nc=IN IP4 192.0.2.1\ns=-\no=- 1 1 IN IP4 192.0.2.1\nv=0\n\
                    m=audio 5004 RTP/AVP 0\na=label:1\nb=AS:64\nc=IN IP4 192.0.2.9\n";
        let sd = SessionDescription::parse(text).unwrap();
        assert_eq!(
            sd.to_string(),
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nx=odd\r\na=tool:x\r\n\
             m=audio 5004 RTP/AVP 0\r\nc=IN IP4 192.0.2.9\r\nb=AS:64\r\na=label:1\r\n"
        );
    }

    #[test]
    fn fills_missing_mandatory_lines() {
        let sd = SessionDescription::parse("m=audio 0 RTP/AVP 0").unwrap();
        assert_eq!(
            sd.to_string(),
            "v=0\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"
        );
    }
}

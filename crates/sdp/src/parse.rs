//! Lenient SDP parser (RFC 4566 section 5): CRLF or LF, indentation and trailing
//! whitespace ignored, lines that are not `x=value` skipped (documentation elisions),
//! unknown line types and attributes kept, missing `t=`/`c=` tolerated.

use crate::error::SdpError;
use crate::model::{Attribute, Connection, MediaDescription, Origin, SessionDescription};

impl SessionDescription {
    /// Parse SDP text. Fails only when there is no SDP line at all or an `m=` line
    /// cannot be read (a stream we cannot even count cannot be answered).
    pub fn parse(text: &str) -> Result<SessionDescription, SdpError> {
        let mut sd = SessionDescription::default();
        let mut seen = false;
        for raw in text.lines() {
            let Some((kind, value)) = split_line(raw.trim()) else {
                continue;
            };
            seen = true;
            if kind == 'm' {
                sd.media.push(MediaDescription::parse_m_line(value)?);
                continue;
            }
            if let Some(m) = sd.media.last_mut() {
                m.add_line(kind, value);
            } else {
                sd.add_line(kind, value);
            }
        }
        if seen { Ok(sd) } else { Err(SdpError::NotSdp) }
    }

    /// Parse SDP bytes; invalid UTF-8 is replaced (RFC 4566 section 5 allows other
    /// charsets only in free-text fields, which we do not interpret).
    pub fn parse_bytes(bytes: &[u8]) -> Result<SessionDescription, SdpError> {
        SessionDescription::parse(&String::from_utf8_lossy(bytes))
    }

    fn add_line(&mut self, kind: char, value: &str) {
        match kind {
            'v' if self.version.is_none() => self.version = Some(value.to_owned()),
            's' if self.session_name.is_none() => self.session_name = Some(value.to_owned()),
            'o' if self.origin.is_none() => match Origin::parse(value) {
                Some(o) => self.origin = Some(o),
                None => self.other_lines.push((kind, value.to_owned())),
            },
            'c' if self.connection.is_none() => match Connection::parse(value) {
                Some(c) => self.connection = Some(c),
                None => self.other_lines.push((kind, value.to_owned())),
            },
            'a' => self.attributes.push(Attribute::parse(value)),
            _ => self.other_lines.push((kind, value.to_owned())),
        }
    }
}

impl MediaDescription {
    /// Parse the value of an `m=` line: `<media> <port>[/<count>] <proto> <fmt> ...`.
    fn parse_m_line(value: &str) -> Result<MediaDescription, SdpError> {
        let bad = || SdpError::BadMediaLine {
            line: value.to_owned(),
        };
        let mut fields = value.split_whitespace();
        let media = fields.next().ok_or_else(bad)?;
        let port_field = fields.next().ok_or_else(bad)?;
        let proto = fields.next().ok_or_else(bad)?;
        let (port, count) = match port_field.split_once('/') {
            Some((p, c)) => (p, c.parse::<u16>().ok()),
            None => (port_field, None),
        };
        let port = port.parse::<u16>().map_err(|_| bad())?;
        Ok(MediaDescription {
            media: media.to_owned(),
            port,
            port_count: count,
            proto: proto.to_owned(),
            formats: fields.map(str::to_owned).collect(),
            connection: None,
            attributes: Vec::new(),
            other_lines: Vec::new(),
        })
    }

    fn add_line(&mut self, kind: char, value: &str) {
        match kind {
            'c' if self.connection.is_none() => match Connection::parse(value) {
                Some(c) => self.connection = Some(c),
                None => self.other_lines.push((kind, value.to_owned())),
            },
            'a' => self.attributes.push(Attribute::parse(value)),
            _ => self.other_lines.push((kind, value.to_owned())),
        }
    }
}

impl Origin {
    /// Parse an `o=` value; `None` unless it has the six fields.
    pub fn parse(value: &str) -> Option<Origin> {
        let f: Vec<&str> = value.split_whitespace().collect();
        let [
            username,
            session_id,
            session_version,
            net_type,
            addr_type,
            address,
        ] = f.as_slice()
        else {
            return None;
        };
        Some(Origin {
            username: (*username).to_owned(),
            session_id: (*session_id).to_owned(),
            session_version: (*session_version).to_owned(),
            net_type: (*net_type).to_owned(),
            addr_type: (*addr_type).to_owned(),
            address: (*address).to_owned(),
        })
    }
}

impl Connection {
    /// Parse a `c=` value; `None` unless it has network type, address type and address.
    /// `/ttl` and `/count` suffixes (multicast, RFC 4566 section 5.7) are dropped.
    pub fn parse(value: &str) -> Option<Connection> {
        let mut f = value.split_whitespace();
        let (_net, addr_type, address) = (f.next()?, f.next()?, f.next()?);
        let address = address.split('/').next().unwrap_or(address);
        Some(Connection {
            addr_type: addr_type.to_owned(),
            address: address.to_owned(),
        })
    }
}

impl Attribute {
    /// Parse an `a=` value: name up to the first `:`, value after it.
    pub fn parse(value: &str) -> Attribute {
        match value.split_once(':') {
            Some((n, v)) => Attribute {
                name: n.trim().to_owned(),
                value: Some(v.trim().to_owned()),
            },
            None => Attribute {
                name: value.trim().to_owned(),
                value: None,
            },
        }
    }
}

/// `x=value` with a lower-case type letter (RFC 4566 section 5: type is one character).
fn split_line(line: &str) -> Option<(char, &str)> {
    let mut chars = line.chars();
    let kind = chars.next().filter(char::is_ascii_lowercase)?;
    let rest = chars.as_str().strip_prefix('=')?;
    Some((kind, rest.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_session_and_media_levels() {
        let sd = SessionDescription::parse(
            "v=0\r\no=- 1 2 IN IP6 ::1\r\ns=x\r\nc=IN IP6 ::1\r\nt=0 0\r\na=sendonly\r\nm=audio 49170/2 RTP/AVP 0 8\r\nc=IN IP4 224.2.1.1/127/3\r\nb=AS:64\r\na=label:1\r\na=rtpmap:0 PCMU/8000\r\n",
        )
        .unwrap();
        assert_eq!(sd.version.as_deref(), Some("0"));
        let o = sd.origin.as_ref().unwrap();
        assert_eq!(
            (
                o.session_id.as_str(),
                o.addr_type.as_str(),
                o.address.as_str()
            ),
            ("1", "IP6", "::1")
        );
        assert_eq!(sd.connection.as_ref().unwrap().address, "::1");
        assert_eq!(sd.other_lines, vec![('t', "0 0".to_owned())]);
        assert_eq!(sd.attributes, vec![Attribute::flag("sendonly")]);
        let m = &sd.media[0];
        assert_eq!(
            (m.port, m.port_count, m.proto.as_str()),
            (49170, Some(2), "RTP/AVP")
        );
        assert_eq!(m.formats, ["0", "8"]);
        assert_eq!(m.connection.as_ref().unwrap().address, "224.2.1.1");
        assert_eq!(m.other_lines, vec![('b', "AS:64".to_owned())]);
        assert_eq!(m.attributes[1], Attribute::new("rtpmap", "0 PCMU/8000"));
    }

    #[test]
    fn skips_junk_and_keeps_malformed_lines() {
        let sd = SessionDescription::parse(
            "  v=0\n...\n<allOneLine>\no=broken\nc=IN\nx=unknown\nm=audio 0 RTP/AVP\n   ....",
        )
        .unwrap();
        assert!(sd.origin.is_none() && sd.connection.is_none());
        assert_eq!(
            sd.other_lines,
            vec![
                ('o', "broken".into()),
                ('c', "IN".into()),
                ('x', "unknown".into())
            ]
        );
        assert!(sd.media[0].formats.is_empty());
    }

    #[test]
    fn bytes_with_invalid_utf8() {
        let sd =
            SessionDescription::parse_bytes(b"v=0\r\ns=\xff\r\nm=audio 1 RTP/AVP 0\r\n").unwrap();
        assert_eq!(sd.session_name.as_deref(), Some("\u{fffd}"));
        assert_eq!(sd.media.len(), 1);
    }

    #[test]
    fn errors() {
        assert_eq!(SessionDescription::parse(""), Err(SdpError::NotSdp));
        assert_eq!(
            SessionDescription::parse("hello\nworld"),
            Err(SdpError::NotSdp)
        );
        for bad in [
            "m=audio",
            "m=audio 70000 RTP/AVP 0",
            "m=audio [auto_media_port] RTP/AVP 8",
            "m=audio 5 ",
        ] {
            assert!(
                matches!(
                    SessionDescription::parse(&format!("v=0\n{bad}")),
                    Err(SdpError::BadMediaLine { .. })
                ),
                "{bad}"
            );
        }
    }
}

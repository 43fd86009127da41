//! Per-stream views: label (RFC 4574), direction (RFC 3264 section 5.1), payload
//! formats (RFC 4566 section 6, RFC 3551 static types) and the remote RTP address.

use std::net::{IpAddr, SocketAddr};

use crate::model::{Direction, MediaDescription, SessionDescription};

/// One payload format of an m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// RTP payload type.
    pub payload_type: u8,
    /// Encoding name as sent (`PCMU`, `telephone-event`, `opus`...).
    pub encoding: String,
    /// RTP clock rate. G.722 says 8000 although it samples at 16 kHz (RFC 3551 4.5.2).
    pub clock_rate: u32,
    /// Channel count, 1 when not given.
    pub channels: u8,
}

/// RFC 3551 section 6 static payload types (encoding, clock rate, channels).
fn static_payload(pt: u8) -> Option<(&'static str, u32, u8)> {
    Some(match pt {
        0 => ("PCMU", 8000, 1),
        3 => ("GSM", 8000, 1),
        4 => ("G723", 8000, 1),
        5 => ("DVI4", 8000, 1),
        6 => ("DVI4", 16000, 1),
        7 => ("LPC", 8000, 1),
        8 => ("PCMA", 8000, 1),
        9 => ("G722", 8000, 1),
        10 => ("L16", 44100, 2),
        11 => ("L16", 44100, 1),
        12 => ("QCELP", 8000, 1),
        13 => ("CN", 8000, 1),
        14 => ("MPA", 90000, 1),
        15 => ("G728", 8000, 1),
        16 => ("DVI4", 11025, 1),
        17 => ("DVI4", 22050, 1),
        18 => ("G729", 8000, 1),
        25 => ("CelB", 90000, 1),
        26 => ("JPEG", 90000, 1),
        28 => ("nv", 90000, 1),
        31 => ("H261", 90000, 1),
        32 => ("MPV", 90000, 1),
        33 => ("MP2T", 90000, 1),
        34 => ("H263", 90000, 1),
        _ => return None,
    })
}

impl MediaDescription {
    /// Value of the first attribute with this name (case-insensitive); `Some("")` for a
    /// property attribute such as `sendonly`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .map(|a| a.value.as_deref().unwrap_or(""))
    }

    /// `a=label` (RFC 4574), which ties the stream to the metadata (RFC 7866 7.1.1).
    pub fn label(&self) -> Option<&str> {
        self.attribute("label").filter(|l| !l.is_empty())
    }

    /// Media-level direction attribute, else session-level, else sendrecv (RFC 3264 5.1).
    pub fn direction(&self, session: &SessionDescription) -> Direction {
        Direction::find(&self.attributes)
            .or_else(|| Direction::find(&session.attributes))
            .unwrap_or(Direction::SendRecv)
    }

    /// Payload formats in offer order: `a=rtpmap` entries, plus RFC 3551 static defaults
    /// for payload types 0..=34 without an rtpmap (Metaswitch/BroadWorks send none, C-11).
    /// Formats that are neither numeric nor described are left out.
    pub fn rtpmaps(&self) -> Vec<RtpMap> {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter_map(|pt| self.rtpmap(pt))
            .collect()
    }

    /// Description of one payload type: its `a=rtpmap`, else the static default.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        let declared = self
            .attributes
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case("rtpmap"))
            .filter_map(|a| parse_rtpmap(a.value.as_deref()?))
            .find(|m| m.payload_type == pt);
        declared.or_else(|| {
            let (encoding, clock_rate, channels) = static_payload(pt)?;
            Some(RtpMap {
                payload_type: pt,
                encoding: encoding.to_owned(),
                clock_rate,
                channels,
            })
        })
    }

    /// `a=fmtp` parameters of one payload type.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case("fmtp"))
            .filter_map(|a| a.value.as_deref())
            .find_map(|v| {
                let (p, params) = v.split_once(' ').unwrap_or((v, ""));
                (p.parse::<u8>().ok() == Some(pt)).then_some(params.trim())
            })
    }

    /// Where the peer sends from / expects RTP: media `c=` else session `c=`. `None` for
    /// port 0, an unspecified address (`0.0.0.0`, legacy hold, C-13) or a non-IP address.
    pub fn remote_addr(&self, session: &SessionDescription) -> Option<SocketAddr> {
        if self.port == 0 {
            return None;
        }
        let conn = self.connection.as_ref().or(session.connection.as_ref())?;
        let ip: IpAddr = conn.address.parse().ok()?;
        (!ip.is_unspecified()).then_some(SocketAddr::new(ip, self.port))
    }
}

/// `<pt> <encoding>/<clock rate>[/<channels>]` (RFC 4566 section 6).
fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.trim().split_once(char::is_whitespace)?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next()?.trim();
    let clock_rate = parts.next()?.trim().parse::<u32>().ok()?;
    let channels = match parts.next() {
        Some(c) => c.trim().parse::<u8>().ok()?,
        None => 1,
    };
    if encoding.is_empty() {
        return None;
    }
    Some(RtpMap {
        payload_type: pt.parse().ok()?,
        encoding: encoding.to_owned(),
        clock_rate,
        channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd(text: &str) -> SessionDescription {
        SessionDescription::parse(text).unwrap()
    }

    #[test]
    fn static_defaults_fill_missing_rtpmaps() {
        let s = sd(
            "v=0\nm=audio 5000 RTP/AVP 18 0 8 9 13 101 96 x\na=rtpmap:101 telephone-event/8000\na=rtpmap:96 opus/48000/2\na=fmtp:101 0-16",
        );
        let maps = s.media[0].rtpmaps();
        let got: Vec<(u8, &str, u32, u8)> = maps
            .iter()
            .map(|m| {
                (
                    m.payload_type,
                    m.encoding.as_str(),
                    m.clock_rate,
                    m.channels,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (18, "G729", 8000, 1),
                (0, "PCMU", 8000, 1),
                (8, "PCMA", 8000, 1),
                (9, "G722", 8000, 1),
                (13, "CN", 8000, 1),
                (101, "telephone-event", 8000, 1),
                (96, "opus", 48000, 2),
            ]
        );
        assert_eq!(s.media[0].fmtp(101), Some("0-16"));
        assert_eq!(s.media[0].fmtp(96), None);
    }

    #[test]
    fn rtpmap_overrides_static_and_bad_rtpmap_is_skipped() {
        let s = sd("v=0\nm=audio 5000 RTP/AVP 0 97\na=rtpmap:0 FOO/16000\na=rtpmap:97 broken");
        let maps = s.media[0].rtpmaps();
        assert_eq!(maps.len(), 1);
        assert_eq!(
            (maps[0].encoding.as_str(), maps[0].clock_rate),
            ("FOO", 16000)
        );
    }

    #[test]
    fn direction_media_then_session_then_default() {
        let s = sd(
            "v=0\na=inactive\nm=audio 1 RTP/AVP 0\na=direction:both\na=sendonly\nm=audio 2 RTP/AVP 0\n",
        );
        assert_eq!(s.media[0].direction(&s), Direction::SendOnly);
        assert_eq!(s.media[1].direction(&s), Direction::Inactive);
        let s = sd("v=0\nm=audio 1 RTP/AVP 0\n");
        assert_eq!(s.media[0].direction(&s), Direction::SendRecv);
    }

    #[test]
    fn label_and_attribute_lookup() {
        let s = sd(
            "v=0\nm=audio 1 RTP/AVP 0\na=Label:a_leg\na=sendonly\nm=audio 2 RTP/AVP 0\na=label:\n",
        );
        assert_eq!(s.media[0].label(), Some("a_leg"));
        assert_eq!(s.media[0].attribute("sendonly"), Some(""));
        assert_eq!(s.media[0].attribute("recvonly"), None);
        assert_eq!(s.media[1].label(), None);
    }

    #[test]
    fn remote_addr_prefers_media_level_and_rejects_hold() {
        let s = sd(
            "v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\nc=IN IP4 198.51.100.7\nm=audio 0 RTP/AVP 0\n",
        );
        assert_eq!(
            s.media[0].remote_addr(&s),
            Some("192.0.2.1:4000".parse().unwrap())
        );
        assert_eq!(
            s.media[1].remote_addr(&s),
            Some("198.51.100.7:4002".parse().unwrap())
        );
        assert_eq!(s.media[2].remote_addr(&s), None);
        let s = sd("v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 8\n");
        assert_eq!(s.media[0].remote_addr(&s), None);
        let s = sd("v=0\nm=audio 4000 RTP/AVP 8\nc=IN IP6 2001:db8::5\n");
        assert_eq!(
            s.media[0].remote_addr(&s),
            Some("[2001:db8::5]:4000".parse().unwrap())
        );
        let s = sd("v=0\nm=audio 4000 RTP/AVP 8\nc=IN IP6 ::\n");
        assert_eq!(s.media[0].remote_addr(&s), None);
        let s = sd("v=0\nc=IN IP4 X.X.X.X\nm=audio 4000 RTP/AVP 8\n");
        assert_eq!(s.media[0].remote_addr(&s), None);
        let s = sd("v=0\nm=audio 4000 RTP/AVP 8\n");
        assert_eq!(s.media[0].remote_addr(&s), None);
    }
}

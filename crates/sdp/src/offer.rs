//! Offers for the SRC simulator (RFC 7866 section 7.1.1: one `sendonly` m-line per
//! recorded stream, each with `a=label`).

use std::net::IpAddr;

use crate::answer::{connection_for, rtpmap_value, tapline_origin};
use crate::model::{Attribute, MediaDescription, SessionDescription};

/// SRC simulator: an offer with one `sendonly` audio m-line per label, given payload types
/// `(payload type, encoding, clock rate)` in preference order. telephone-event gets
/// `a=fmtp:<pt> 0-15`; opus is written `opus/48000/2` (RFC 7587 section 7).
/// The origin version starts equal to the session id.
pub fn build_offer(
    addr: IpAddr,
    streams: &[(String, u16)],
    codecs: &[(u8, &str, u32)],
    session_id: u64,
) -> SessionDescription {
    let media = streams
        .iter()
        .map(|(label, port)| {
            let mut attributes = Vec::new();
            for &(pt, encoding, clock_rate) in codecs {
                let channels = if encoding.eq_ignore_ascii_case("opus") {
                    2
                } else {
                    1
                };
                attributes.push(Attribute::new(
                    "rtpmap",
                    &rtpmap_value(pt, encoding, clock_rate, channels),
                ));
                if encoding.eq_ignore_ascii_case("telephone-event") {
                    attributes.push(Attribute::new("fmtp", &format!("{pt} 0-15")));
                }
            }
            attributes.push(Attribute::flag("sendonly"));
            attributes.push(Attribute::new("label", label));
            MediaDescription {
                media: "audio".to_owned(),
                port: *port,
                port_count: None,
                proto: "RTP/AVP".to_owned(),
                formats: codecs.iter().map(|c| c.0.to_string()).collect(),
                connection: None,
                attributes,
                other_lines: Vec::new(),
            }
        })
        .collect();
    SessionDescription {
        version: Some("0".to_owned()),
        origin: Some(tapline_origin(addr, session_id, session_id)),
        session_name: Some("-".to_owned()),
        connection: Some(connection_for(addr)),
        attributes: Vec::new(),
        media,
        other_lines: vec![('t', "0 0".to_owned())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Direction;

    #[test]
    fn offer_has_one_sendonly_labelled_m_line_per_stream() {
        let streams = [("1".to_owned(), 20000), ("2".to_owned(), 20002)];
        let codecs = [
            (0, "PCMU", 8000),
            (8, "PCMA", 8000),
            (101, "telephone-event", 8000),
        ];
        let sd = build_offer("192.0.2.10".parse().unwrap(), &streams, &codecs, 42);
        let text = sd.to_string();
        assert!(text.starts_with("v=0\r\no=tapline 42 42 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"), "{text}");
        assert!(text.contains(
            "m=audio 20002 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendonly\r\na=label:2\r\n"
        ));
        let back = SessionDescription::parse(&text).unwrap();
        assert_eq!(back, sd);
        assert_eq!(back.media[0].direction(&back), Direction::SendOnly);
        assert_eq!(back.media[0].label(), Some("1"));
        assert_eq!(
            back.media[1].remote_addr(&back),
            Some("192.0.2.10:20002".parse().unwrap())
        );
    }

    #[test]
    fn ipv6_offer_and_opus_channels() {
        let sd = build_offer(
            "2001:db8::1".parse().unwrap(),
            &[("a".to_owned(), 30000)],
            &[(111, "opus", 48000)],
            7,
        );
        let text = sd.to_string();
        assert!(text.contains("c=IN IP6 2001:db8::1\r\n"));
        assert!(text.contains("a=rtpmap:111 opus/48000/2\r\n"));
        assert_eq!(sd.media[0].rtpmaps()[0].channels, 2);
    }
}

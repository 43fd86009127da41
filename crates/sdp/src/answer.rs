//! RFC 3264 answers for a recorder (RFC 7866 sections 7.2 and 8): receive-only audio,
//! one codec per stream, every other stream rejected with port 0.

use std::net::{IpAddr, SocketAddr};

use crate::model::{
    Attribute, Connection, Direction, MediaDescription, Origin, SessionDescription,
};

/// A codec the recorder can receive, matched on encoding name (case-insensitive) and clock rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecPref {
    /// Encoding name, e.g. `PCMU`.
    pub encoding: &'static str,
    /// RTP clock rate, e.g. 8000 (also 8000 for G722, RFC 3551).
    pub clock_rate: u32,
}

/// Why an offered stream is answered with port 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// The offerer disabled the stream itself (port 0, RFC 3264 section 8.2).
    PortZero,
    /// Not an audio stream (video, text, application...): we record audio only.
    NotAudio,
    /// Transport other than plain RTP/AVP(F), e.g. SRTP we hold no keys for.
    UnsupportedTransport,
    /// No offered format is one we can receive (RFC 3264 section 6).
    NoCommonCodec,
}

/// What to do with one offered m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamDecision {
    /// Receive this stream.
    Accept {
        /// Index of the m-line in the offer.
        index: usize,
        /// Offered `a=label`.
        label: Option<String>,
        /// Chosen payload type (the first offered one we support).
        payload_type: u8,
        /// Its encoding name as offered.
        encoding: String,
        /// Its clock rate.
        clock_rate: u32,
        /// Offered telephone-event payload type at the same clock rate (RFC 4733).
        telephone_event: Option<u8>,
        /// Where the SRC sends from; `None` on hold (`c=0.0.0.0`).
        remote: Option<SocketAddr>,
        /// Offered direction (media level, else session level, else sendrecv).
        offered_direction: Direction,
    },
    /// Answer this m-line with port 0.
    Reject {
        /// Index of the m-line in the offer.
        index: usize,
        /// Offered `a=label`.
        label: Option<String>,
        /// Why.
        reason: RejectReason,
    },
}

impl StreamDecision {
    /// Index of the offered m-line this decision is about.
    pub fn index(&self) -> usize {
        match self {
            StreamDecision::Accept { index, .. } | StreamDecision::Reject { index, .. } => *index,
        }
    }

    /// Where the offer says the peer sends from (its `c=` address) for an accepted stream;
    /// `None` for a rejected one or an unspecified address (`0.0.0.0`).
    pub fn remote_ip(&self) -> Option<std::net::IpAddr> {
        match self {
            StreamDecision::Accept { remote, .. } => remote.map(|a| a.ip()),
            StreamDecision::Reject { .. } => None,
        }
    }

    /// True for `Accept`. When no decision accepts, the whole offer is refused (488, A-55).
    pub fn is_accept(&self) -> bool {
        matches!(self, StreamDecision::Accept { .. })
    }
}

/// Formats that are not a voice codec and cannot be the chosen one.
fn is_auxiliary(encoding: &str) -> bool {
    ["telephone-event", "CN", "red", "ulpfec"]
        .iter()
        .any(|e| e.eq_ignore_ascii_case(encoding))
}

/// RTP profiles we can receive without keys (AVPF is receivable as AVP).
fn is_plain_rtp(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("RTP/AVP") || proto.eq_ignore_ascii_case("RTP/AVPF")
}

/// RFC 3264 answer planning for a recorder: each audio m-line with port != 0 and a supported codec is
/// accepted with the first OFFERED format we support (offer order = preference), keeping
/// telephone-event if offered. Video/text/application and unsupported codecs are rejected.
pub fn plan_answer(offer: &SessionDescription, supported: &[CodecPref]) -> Vec<StreamDecision> {
    plan_answer_preferring(offer, supported, &[])
}

/// Like [`plan_answer`], but among the offered formats we support, the one whose encoding
/// comes first in `preference` (case-insensitive names, e.g. `["G722", "PCMU"]`) is chosen;
/// formats the preference does not name rank after it, in offer order. An empty preference is
/// the offer's order.
pub fn plan_answer_preferring(
    offer: &SessionDescription,
    supported: &[CodecPref],
    preference: &[String],
) -> Vec<StreamDecision> {
    offer
        .media
        .iter()
        .enumerate()
        .map(|(index, m)| plan_stream(offer, index, m, supported, preference))
        .collect()
}

fn plan_stream(
    offer: &SessionDescription,
    index: usize,
    m: &MediaDescription,
    supported: &[CodecPref],
    preference: &[String],
) -> StreamDecision {
    let label = m.label().map(str::to_owned);
    let reject = |reason| StreamDecision::Reject {
        index,
        label: label.clone(),
        reason,
    };
    if m.port == 0 {
        return reject(RejectReason::PortZero);
    }
    if !m.media.eq_ignore_ascii_case("audio") {
        return reject(RejectReason::NotAudio);
    }
    if !is_plain_rtp(&m.proto) {
        return reject(RejectReason::UnsupportedTransport);
    }
    let maps = m.rtpmaps();
    let rank = |encoding: &str| {
        preference
            .iter()
            .position(|p| p.eq_ignore_ascii_case(encoding))
            .unwrap_or(usize::MAX)
    };
    let chosen = maps
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            !is_auxiliary(&r.encoding)
                && supported.iter().any(|c| {
                    c.encoding.eq_ignore_ascii_case(&r.encoding) && c.clock_rate == r.clock_rate
                })
        })
        .min_by_key(|(offered, r)| (rank(&r.encoding), *offered))
        .map(|(_, r)| r);
    let Some(chosen) = chosen else {
        return reject(RejectReason::NoCommonCodec);
    };
    let telephone_event = maps
        .iter()
        .find(|r| {
            r.encoding.eq_ignore_ascii_case("telephone-event") && r.clock_rate == chosen.clock_rate
        })
        .map(|r| r.payload_type);
    StreamDecision::Accept {
        index,
        label,
        payload_type: chosen.payload_type,
        encoding: chosen.encoding.clone(),
        clock_rate: chosen.clock_rate,
        telephone_event,
        remote: m.remote_addr(offer),
        offered_direction: m.direction(offer),
    }
}

/// Build the answer: same number and order of m-lines (3264 6); accepted: our port, the chosen
/// payload type (+ telephone-event with its rtpmap and fmtp 0-15), rtpmap lines, a=recvonly
/// (a=inactive if the offer was inactive or recvonly; never sendrecv, C-02..C-04), the offered
/// a=label echoed (C-08), c= per session with media_addr; rejected: port 0 with the offered
/// formats (keep the proto and at least one format) and no attributes other than label.
/// `ports[i]` is the port allocated by the caller for m-line i (ignored for rejected ones);
/// an accepted m-line without a port in `ports` (or port 0) is written as rejected.
/// An m-line without a decision is rejected. o= uses "tapline" + session_id/version.
pub fn build_answer(
    offer: &SessionDescription,
    decisions: &[StreamDecision],
    ports: &[u16],
    media_addr: IpAddr,
    session_id: u64,
    session_version: u64,
) -> SessionDescription {
    let media = offer
        .media
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let decision = decisions.iter().find(|d| d.index() == i);
            let port = ports.get(i).copied().filter(|&p| p != 0);
            match (decision, port) {
                (
                    Some(StreamDecision::Accept {
                        payload_type,
                        encoding,
                        clock_rate,
                        telephone_event,
                        offered_direction,
                        ..
                    }),
                    Some(port),
                ) => {
                    let chosen = Chosen {
                        payload_type: *payload_type,
                        encoding,
                        clock_rate: *clock_rate,
                        telephone_event: *telephone_event,
                    };
                    accepted_line(m, port, &chosen, *offered_direction)
                }
                _ => rejected_line(m),
            }
        })
        .collect();
    SessionDescription {
        version: Some("0".to_owned()),
        origin: Some(tapline_origin(media_addr, session_id, session_version)),
        session_name: Some("-".to_owned()),
        connection: Some(connection_for(media_addr)),
        attributes: Vec::new(),
        media,
        other_lines: vec![('t', "0 0".to_owned())],
    }
}

/// Our `o=` line.
pub(crate) fn tapline_origin(addr: IpAddr, session_id: u64, session_version: u64) -> Origin {
    let c = connection_for(addr);
    Origin {
        username: "tapline".to_owned(),
        session_id: session_id.to_string(),
        session_version: session_version.to_string(),
        net_type: "IN".to_owned(),
        addr_type: c.addr_type,
        address: c.address,
    }
}

/// `c=IN IP4|IP6 <addr>`.
pub(crate) fn connection_for(addr: IpAddr) -> Connection {
    let addr_type = if addr.is_ipv4() { "IP4" } else { "IP6" };
    Connection {
        addr_type: addr_type.to_owned(),
        address: addr.to_string(),
    }
}

struct Chosen<'a> {
    payload_type: u8,
    encoding: &'a str,
    clock_rate: u32,
    telephone_event: Option<u8>,
}

fn accepted_line(
    offered: &MediaDescription,
    port: u16,
    c: &Chosen<'_>,
    offered_dir: Direction,
) -> MediaDescription {
    let channels = offered.rtpmap(c.payload_type).map_or(1, |m| m.channels);
    let mut formats = vec![c.payload_type.to_string()];
    let mut attributes = vec![Attribute::new(
        "rtpmap",
        &rtpmap_value(c.payload_type, c.encoding, c.clock_rate, channels),
    )];
    if let Some(te) = c.telephone_event {
        formats.push(te.to_string());
        attributes.push(Attribute::new(
            "rtpmap",
            &rtpmap_value(te, "telephone-event", c.clock_rate, 1),
        ));
        attributes.push(Attribute::new("fmtp", &format!("{te} 0-15")));
    }
    // RFC 3264 6.1: sendonly/sendrecv -> recvonly; inactive/recvonly -> inactive (we never send).
    let dir = match offered_dir {
        Direction::Inactive | Direction::RecvOnly => Direction::Inactive,
        Direction::SendOnly | Direction::SendRecv => Direction::RecvOnly,
    };
    attributes.push(Attribute::flag(dir.as_str()));
    attributes.extend(label_attr(offered));
    MediaDescription {
        media: offered.media.clone(),
        port,
        port_count: None,
        proto: offered.proto.clone(),
        formats,
        connection: None,
        attributes,
        other_lines: Vec::new(),
    }
}

fn rejected_line(offered: &MediaDescription) -> MediaDescription {
    let mut formats = offered.formats.clone();
    if formats.is_empty() {
        formats.push("0".to_owned());
    }
    MediaDescription {
        media: offered.media.clone(),
        port: 0,
        port_count: None,
        proto: offered.proto.clone(),
        formats,
        connection: None,
        attributes: label_attr(offered).into_iter().collect(),
        other_lines: Vec::new(),
    }
}

fn label_attr(offered: &MediaDescription) -> Option<Attribute> {
    offered.label().map(|l| Attribute::new("label", l))
}

/// rtpmap value; channels only written when more than one (RFC 4566 section 6).
pub(crate) fn rtpmap_value(pt: u8, encoding: &str, clock_rate: u32, channels: u8) -> String {
    if channels > 1 {
        format!("{pt} {encoding}/{clock_rate}/{channels}")
    } else {
        format!("{pt} {encoding}/{clock_rate}")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod preference_tests {
    use super::*;

    const ALL: &[CodecPref] = &[
        CodecPref {
            encoding: "PCMU",
            clock_rate: 8000,
        },
        CodecPref {
            encoding: "PCMA",
            clock_rate: 8000,
        },
        CodecPref {
            encoding: "G722",
            clock_rate: 8000,
        },
    ];

    fn offer() -> SessionDescription {
        SessionDescription::parse(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 9\r\n",
        )
        .unwrap()
    }

    fn chosen(d: &[StreamDecision]) -> u8 {
        match d.first() {
            Some(StreamDecision::Accept { payload_type, .. }) => *payload_type,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn offer_order_without_preference() {
        assert_eq!(chosen(&plan_answer_preferring(&offer(), ALL, &[])), 0);
    }

    #[test]
    fn operator_preference_wins() {
        let pref = vec!["g722".to_owned(), "PCMA".to_owned()];
        assert_eq!(chosen(&plan_answer_preferring(&offer(), ALL, &pref)), 9);
        let pref = vec!["PCMA".to_owned()];
        assert_eq!(chosen(&plan_answer_preferring(&offer(), ALL, &pref)), 8);
        let pref = vec!["opus".to_owned()];
        assert_eq!(chosen(&plan_answer_preferring(&offer(), ALL, &pref)), 0);
    }
}

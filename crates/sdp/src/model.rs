//! SDP data model (RFC 4566 section 5). Values are kept as sent; unknown lines are kept.

/// A whole session description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDescription {
    /// `v=` value (always "0" in practice).
    pub version: Option<String>,
    /// `o=` line, `None` if absent or malformed (a malformed one stays in `other_lines`).
    pub origin: Option<Origin>,
    /// `s=` value.
    pub session_name: Option<String>,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level `a=` lines in order.
    pub attributes: Vec<Attribute>,
    /// `m=` sections in order.
    pub media: Vec<MediaDescription>,
    /// Other session-level lines (`t=`, `b=`, `i=`, unknown types...) in order.
    pub other_lines: Vec<(char, String)>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Username (`-` when none).
    pub username: String,
    /// Session id (numeric string, kept as text: vendors exceed u64).
    pub session_id: String,
    /// Session version; bumped on every change (RFC 3264 section 8).
    pub session_version: String,
    /// Network type, `IN`.
    pub net_type: String,
    /// `IP4` or `IP6`.
    pub addr_type: String,
    /// Address or host name.
    pub address: String,
}

/// `c=IN <addrtype> <address>`; multicast `/ttl/count` suffixes are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `IP4` or `IP6` as sent.
    pub addr_type: String,
    /// Address or host name without `/ttl`.
    pub address: String,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, `text`, `application`...
    pub media: String,
    /// Transport port; 0 means the stream is disabled/rejected (RFC 3264 section 6).
    pub port: u16,
    /// `<port>/<count>` count, if given.
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/AVPF`, `RTP/SAVP`...
    pub proto: String,
    /// Format list (payload type numbers for RTP) in offer order.
    pub formats: Vec<String>,
    /// Media-level `c=`.
    pub connection: Option<Connection>,
    /// Media-level `a=` lines in order.
    pub attributes: Vec<Attribute>,
    /// Other media-level lines (`b=`, `i=`, `k=`, unknown...) in order.
    pub other_lines: Vec<(char, String)>,
}

/// `a=<name>[:<value>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Attribute name as sent.
    pub name: String,
    /// Value after the first `:`, `None` for property attributes such as `sendonly`.
    pub value: Option<String>,
}

impl Attribute {
    /// Attribute with a value.
    pub fn new(name: &str, value: &str) -> Attribute {
        Attribute {
            name: name.to_owned(),
            value: Some(value.to_owned()),
        }
    }

    /// Property attribute without value.
    pub fn flag(name: &str) -> Attribute {
        Attribute {
            name: name.to_owned(),
            value: None,
        }
    }
}

/// Media direction (RFC 3264 section 5.1, RFC 4566 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv`, also the default when no direction is given.
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Direction named by an attribute, case-insensitively.
    pub fn from_attribute(name: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| name.eq_ignore_ascii_case(d.as_str()))
    }

    /// First direction attribute in a list.
    pub(crate) fn find(attributes: &[Attribute]) -> Option<Direction> {
        attributes
            .iter()
            .filter(|a| a.value.is_none())
            .find_map(|a| Direction::from_attribute(&a.name))
    }
}

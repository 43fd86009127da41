//! SIP messages (RFC 3261 section 7) and serialisation.

use crate::cseq::CSeq;
use crate::headers::Headers;
use crate::method::Method;
use crate::name_addr::NameAddr;
use crate::parse::{self, ParseError};
use crate::via::Via;

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method from the request line.
    pub method: Method,
    /// Request-URI as received.
    pub uri: String,
    /// Headers in order.
    pub headers: Headers,
    /// Body bytes (exactly Content-Length bytes when parsed strictly).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code 100..=699.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// Headers in order.
    pub headers: Headers,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

fn write_common(out: &mut Vec<u8>, headers: &Headers, body: &[u8]) {
    for (n, v) in headers.iter() {
        if n.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // Always correct, replacing any stale value (RFC 3261 20.14).
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
}

impl Headers {
    /// Call-ID value.
    pub fn call_id(&self) -> Option<&str> {
        self.get("Call-ID")
    }
    /// Parsed CSeq.
    pub fn cseq(&self) -> Option<CSeq> {
        self.get("CSeq").and_then(|v| CSeq::parse(v).ok())
    }
    /// Parsed From.
    pub fn from(&self) -> Option<NameAddr> {
        self.get("From").and_then(|v| NameAddr::parse(v).ok())
    }
    /// Parsed To.
    pub fn to(&self) -> Option<NameAddr> {
        self.get("To").and_then(|v| NameAddr::parse(v).ok())
    }
    /// Parsed top (first) Via element.
    pub fn top_via(&self) -> Option<Via> {
        self.get_all("Via").first().and_then(|v| Via::parse(v).ok())
    }
}

macro_rules! accessors {
    () => {
        /// Call-ID value.
        pub fn call_id(&self) -> Option<&str> {
            self.headers.call_id()
        }
        /// Parsed CSeq.
        pub fn cseq(&self) -> Option<CSeq> {
            self.headers.cseq()
        }
        /// Parsed From.
        pub fn from(&self) -> Option<NameAddr> {
            self.headers.from()
        }
        /// Parsed To.
        pub fn to(&self) -> Option<NameAddr> {
            self.headers.to()
        }
        /// From tag.
        pub fn from_tag(&self) -> Option<String> {
            self.from().and_then(|n| n.tag().map(str::to_string))
        }
        /// To tag.
        pub fn to_tag(&self) -> Option<String> {
            self.to().and_then(|n| n.tag().map(str::to_string))
        }
        /// Parsed top Via.
        pub fn top_via(&self) -> Option<Via> {
            self.headers.top_via()
        }
        /// First value of header `name` (case-insensitive, compact forms accepted).
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name)
        }
    };
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request {
            method,
            uri: uri.into(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    accessors!();

    /// Serialise with CRLF line endings and a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} SIP/2.0\r\n", self.method, self.uri).into_bytes();
        write_common(&mut out, &self.headers, &self.body);
        out
    }
}

impl Response {
    /// A response with no headers and no body.
    pub fn new(status: u16, reason: impl Into<String>) -> Response {
        Response {
            status,
            reason: reason.into(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    accessors!();

    /// Serialise with CRLF line endings and a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("SIP/2.0 {} {}\r\n", self.status, self.reason).into_bytes();
        write_common(&mut out, &self.headers, &self.body);
        out
    }
}

impl Message {
    /// Strict parse: a Content-Length larger than the available body is
    /// [`ParseError::BodyTruncated`] (RFC 3261 18.3), and mandatory headers are checked.
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        parse::parse(bytes, false)
    }

    /// Like [`Message::parse`] but accepts a body shorter than Content-Length (some SBCs
    /// overstate it); the body is then whatever follows the blank line.
    pub fn parse_lenient(bytes: &[u8]) -> Result<Message, ParseError> {
        parse::parse(bytes, true)
    }

    /// Serialise.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }

    /// Headers of either kind.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// Mutable headers of either kind.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        }
    }

    /// Body of either kind.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }
}

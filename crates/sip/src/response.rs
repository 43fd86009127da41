//! Building responses from requests (RFC 3261 sections 8.2.6 and 12.1.1).

use crate::message::{Request, Response};
use crate::name_addr::NameAddr;

impl Response {
    /// A response copying all Via lines (in order), From, To, Call-ID and CSeq from the request
    /// (RFC 3261 8.2.6.2). Adds no To tag: see [`Response::with_to_tag`].
    pub fn for_request(req: &Request, status: u16, reason: &str) -> Response {
        let mut resp = Response::new(status, reason);
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            for (n, v) in req.headers.iter() {
                if n.eq_ignore_ascii_case(name) {
                    resp.headers.push(n, v);
                }
            }
        }
        resp
    }

    /// Add `;tag=<tag>` to To unless it already carries a tag (RFC 3261 8.2.6.2: a tag
    /// present in the request must be kept).
    pub fn with_to_tag(mut self, tag: &str) -> Response {
        if let Some(to) = self.headers.get("To") {
            let has_tag = match NameAddr::parse(to) {
                Ok(n) => n.tag().is_some(),
                Err(_) => to.to_ascii_lowercase().contains(";tag="),
            };
            if !has_tag {
                let value = format!("{to};tag={tag}");
                self.headers.set("To", value);
            }
        }
        self
    }

    /// Copy the request's Record-Route lines in order, for a dialog-creating response
    /// (RFC 3261 12.1.1).
    pub fn copy_record_route(&mut self, req: &Request) {
        for (n, v) in req.headers.iter() {
            if n.eq_ignore_ascii_case("Record-Route") {
                self.headers.push(n, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn invite() -> Request {
        let raw = b"INVITE sip:srs@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP p1;branch=z9hG4bKa, SIP/2.0/UDP p2;branch=z9hG4bKb\r\n\
Record-Route: <sip:p1;lr>\r\n\
Via: SIP/2.0/UDP src;branch=z9hG4bKc\r\n\
Record-Route: <sip:p2;lr>, <sip:p3;lr>\r\n\
From: \"A, B\" <sip:src@example.com>;tag=f1\r\n\
To: <sip:srs@example.com>\r\n\
Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
        match Message::parse(raw).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!(),
        }
    }

    #[test]
    fn copies_mandatory_headers_in_order() {
        let req = invite();
        let resp = Response::for_request(&req, 180, "Ringing").with_to_tag("t9");
        let vias = resp.headers.get_all("Via");
        assert_eq!(vias.len(), 3);
        assert!(vias[0].contains("z9hG4bKa") && vias[2].contains("z9hG4bKc"));
        assert_eq!(resp.from_tag().as_deref(), Some("f1"));
        assert_eq!(resp.to_tag().as_deref(), Some("t9"));
        assert_eq!(resp.call_id(), Some("c1"));
        assert_eq!(resp.cseq().unwrap().seq, 1);
        assert!(resp.header("Max-Forwards").is_none());
        assert!(resp.header("Record-Route").is_none());
        // existing tag kept
        let again = resp.with_to_tag("other");
        assert_eq!(again.to_tag().as_deref(), Some("t9"));
    }

    #[test]
    fn record_route_copied_in_order() {
        let req = invite();
        let mut resp = Response::for_request(&req, 200, "OK");
        resp.copy_record_route(&req);
        assert_eq!(
            resp.headers.get_all("Record-Route"),
            vec!["<sip:p1;lr>", "<sip:p2;lr>", "<sip:p3;lr>"]
        );
        let bytes = resp.to_bytes();
        let Message::Response(back) = Message::parse(&bytes).unwrap() else {
            panic!()
        };
        assert_eq!(back.headers.get_all("Record-Route").len(), 3);
    }
}

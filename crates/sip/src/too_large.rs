//! 513 Message Too Large (RFC 3261 21.5.7) for a stream message the framer refused for its
//! size: built from the header bytes that did arrive, when they hold what a response needs.

use crate::framing::FramingError;
use crate::message::{Message, Response};
use crate::method::Method;
use crate::parse::parse_for_answer;

/// The bytes of a 513 answering the request whose header section starts `head` (as kept by
/// [`crate::StreamFramer::take_rejected_head`]), with `to_tag` added to To unless it has one.
///
/// `None` when no response can be routed: the head is not a request, is an ACK (RFC 3261
/// 17.2.1: never answered), or lacks a parsable Via, From, To, Call-ID or CSeq (8.2.6.2). A
/// header section cut at the size limit is read up to its last complete line.
pub fn too_large_response(head: &[u8], why: &FramingError, to_tag: &str) -> Option<Vec<u8>> {
    let lines = complete_lines(head)?;
    let Ok(Message::Request(req)) = parse_for_answer(lines) else {
        return None;
    };
    let routable = req.top_via().is_some()
        && req.from().is_some()
        && req.to().is_some()
        && req.call_id().is_some_and(|c| !c.is_empty())
        && req.cseq().is_some();
    if !routable || req.method == Method::Ack {
        return None;
    }
    let reason = format!("Message Too Large - {why}");
    let resp = Response::for_request(&req, 513, &reason).with_to_tag(to_tag);
    Some(resp.to_bytes())
}

/// `head` up to and including its last line feed (a line cut by the limit is dropped).
fn complete_lines(head: &[u8]) -> Option<&[u8]> {
    let last = head.iter().rposition(|b| *b == b'\n')?;
    head.get(..=last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::{MAX_HEADER_BYTES, StreamFramer};

    const HEAD: &str = "INVITE sip:srs@example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKbig\r\n\
From: <sip:src@example.com>;tag=f1\r\n\
To: <sip:srs@example.com>\r\n\
Call-ID: big@example.com\r\n\
CSeq: 7 INVITE\r\n";

    fn parse_response(bytes: &[u8]) -> Response {
        match Message::parse(bytes) {
            Ok(Message::Response(r)) => r,
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn body_too_large_is_answered_from_the_complete_head() {
        let mut f = StreamFramer::new();
        f.push(format!("{HEAD}Content-Length: 2000000\r\n\r\nxyz").as_bytes());
        let Some(Err(e)) = f.next_message() else {
            panic!("framer accepted a 2 MB body");
        };
        let bytes = too_large_response(&f.take_rejected_head(), &e, "t1").expect("a 513");
        let r = parse_response(&bytes);
        assert_eq!(r.status, 513);
        assert!(
            r.reason.starts_with("Message Too Large - body of 2000000"),
            "{}",
            r.reason
        );
        assert_eq!(r.call_id(), Some("big@example.com"));
        assert_eq!(r.cseq().map(|c| c.seq), Some(7));
        assert_eq!(r.to_tag().as_deref(), Some("t1"));
        assert!(
            r.top_via()
                .is_some_and(|v| v.to_string().contains("z9hG4bKbig"))
        );
        assert_eq!(r.body, b"");
    }

    #[test]
    fn header_section_cut_at_the_limit_is_read_to_its_last_line() {
        let mut msg = HEAD.to_owned();
        while msg.len() < MAX_HEADER_BYTES + 100 {
            msg.push_str("X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let mut f = StreamFramer::new();
        f.push(msg.as_bytes());
        let Some(Err(e)) = f.next_message() else {
            panic!("framer accepted a huge header");
        };
        assert_eq!(e, FramingError::HeadersTooLarge);
        let bytes = too_large_response(&f.take_rejected_head(), &e, "t2").expect("a 513");
        let r = parse_response(&bytes);
        assert_eq!(r.status, 513);
        assert!(r.header("X-Filler").is_none());
    }

    #[test]
    fn lf_only_heads_work_and_a_present_to_tag_is_kept() {
        let head = HEAD.replace("\r\n", "\n").replace(
            "To: <sip:srs@example.com>",
            "To: <sip:srs@example.com>;tag=old",
        );
        let e = FramingError::BodyTooLarge(5_000_000);
        let r = parse_response(&too_large_response(head.as_bytes(), &e, "new").expect("a 513"));
        assert_eq!(r.to_tag().as_deref(), Some("old"));
    }

    #[test]
    fn no_answer_without_routing_headers_for_ack_or_responses() {
        let e = FramingError::HeadersTooLarge;
        assert!(too_large_response(b"", &e, "t").is_none());
        assert!(too_large_response(&[b'a'; 1000], &e, "t").is_none());
        let no_via = HEAD.replace("Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKbig\r\n", "");
        assert!(too_large_response(no_via.as_bytes(), &e, "t").is_none());
        let no_cseq = HEAD.replace("CSeq: 7 INVITE\r\n", "");
        assert!(too_large_response(no_cseq.as_bytes(), &e, "t").is_none());
        let ack = HEAD.replace("INVITE", "ACK");
        assert!(too_large_response(ack.as_bytes(), &e, "t").is_none());
        let resp = HEAD.replace("INVITE sip:srs@example.com SIP/2.0", "SIP/2.0 200 OK");
        assert!(too_large_response(resp.as_bytes(), &e, "t").is_none());
    }
}

//! Stateless helpers of the endpoint: 400 answers to malformed requests, tags for them,
//! and Via stamping of received requests.

use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::parse::{self, ParseError};
use crate::peer::Peer;

/// Deterministic To tag for stateless answers (no randomness is available here; the tag
/// only has to differ from other dialogs' tags, and no dialog is created).
pub(crate) fn tag_for(req: &Request) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in req.call_id().unwrap_or("").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("x{h:016x}")
}

/// A 400 for a request that failed validation, or a 505 for one whose SIP-Version is not
/// 2.0 (RFC 3261 21.5.7, RFC 4475 badvers), when it has a Via to send the response to
/// (RFC 3261 8.2.6, 18.3). Never for ACK (17.2.1: ACK gets no response). The reason
/// phrase is fixed text: it never echoes what the request carried.
pub(crate) fn bad_request(bytes: &[u8], err: &ParseError) -> Option<Response> {
    let Ok(Message::Request(req)) = parse::parse_for_answer(bytes) else {
        return None;
    };
    // The response is routed by the top Via (RFC 3261 18.2.2); whatever else the request
    // carries is copied, so even a request missing Call-ID or CSeq learns what was wrong.
    let enough = req.headers.get("Via").is_some();
    if !enough || req.method == Method::Ack {
        return None;
    }
    let resp = match err {
        ParseError::UnsupportedVersion(_) => {
            Response::for_request(&req, 505, "Version Not Supported")
        }
        _ => {
            let reason = format!("Bad Request - {}", err.reason_phrase());
            Response::for_request(&req, 400, &reason)
        }
    };
    Some(resp.with_to_tag(&tag_for(&req)))
}

/// RFC 3261 18.2.1 (any transport) and RFC 3581: record where a request really came
/// from, so that copies of the Via in responses carry it.
pub(crate) fn stamp_via(from: Peer, req: &mut Request) {
    let Some(mut via) = req.top_via() else { return };
    let ip = from.addr.ip().to_string();
    let wants_rport = via.rport().is_some();
    if wants_rport || via.host.trim_matches(['[', ']']) != ip {
        via.set_param("received", Some(&ip));
    }
    if wants_rport {
        via.set_param("rport", Some(&from.addr.port().to_string()));
    }
    req.headers.replace_first_element("Via", &via.to_string());
}

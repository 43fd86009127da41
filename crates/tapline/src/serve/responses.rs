//! Building the SRS's responses: the headers every answer of ours carries (RFC 3261 8.2.6,
//! 13.3.1.4; RFC 7866 6.2 for `+sip.srs`).

use std::net::SocketAddr;

use tapline_sip::{Request, Response, Transport};

pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO";
pub(crate) const ACCEPT: &str =
    "application/sdp, application/rs-metadata+xml, application/rs-metadata, multipart/mixed";
pub(crate) const SUPPORTED: &str = "siprec";
pub(crate) const SERVER: &str = concat!("tapline/", env!("CARGO_PKG_VERSION"));
/// Option tags we can honour when they appear in Require (RFC 3261 8.2.2.3).
pub(crate) const UNDERSTOOD_REQUIRE: &[&str] = &["siprec", "timer"];

/// A response with the common headers; `to_tag` is added when the request had none.
pub(crate) fn make(req: &Request, status: u16, reason: &str, to_tag: &str) -> Response {
    let mut resp = Response::for_request(req, status, reason);
    if status > 100 {
        resp = resp.with_to_tag(to_tag);
    }
    resp.headers.push("Server", SERVER);
    resp
}

/// Our Contact for a dialog, with the SRS feature tag.
pub(crate) fn contact(local: SocketAddr, transport: Transport) -> String {
    let host = match local {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    let t = match transport {
        Transport::Udp => "",
        Transport::Tcp => ";transport=tcp",
    };
    format!("<sip:tapline@{host}:{}{t}>;+sip.srs", local.port())
}

/// Add the capability headers (OPTIONS answers, 2xx to INVITE, 415/420 answers).
pub(crate) fn add_capabilities(resp: &mut Response) {
    resp.headers.push("Allow", ALLOW);
    resp.headers.push("Accept", ACCEPT);
    resp.headers.push("Supported", SUPPORTED);
}

/// Option tags in Require that we do not support.
pub(crate) fn unsupported_requires(req: &Request) -> Vec<String> {
    req.headers
        .get_all("Require")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty() && !UNDERSTOOD_REQUIRE.contains(&t.as_str()))
        .collect()
}

/// Whether the INVITE declares itself a recording session (RFC 7866 6.2), liberally: the
/// `+sip.src` feature tag as a Contact parameter, inside the URI, or spelled `;src`
/// (BroadWorks), or `Require: siprec`.
pub(crate) fn declares_siprec(req: &Request) -> bool {
    let contact_says = req.headers.get_all("Contact").into_iter().any(|c| {
        let lower = c.to_ascii_lowercase();
        lower.contains("+sip.src")
            || lower
                .split([';', '>', '<'])
                .any(|p| p.trim() == "src" || p.trim().starts_with("src="))
    });
    let require_says = req
        .headers
        .get_all("Require")
        .into_iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("siprec"));
    contact_says || require_says
}

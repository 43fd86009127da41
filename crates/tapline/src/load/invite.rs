//! The SIPREC INVITE of one load call (RFC 7866 6.1.1): `Require: siprec`, `+sip.src`, and a
//! multipart/mixed body with an SDP offer of two sendonly labelled PCMU/PCMA m-lines and an
//! RFC 7865 complete metadata snapshot naming a caller and a callee.

use std::net::SocketAddr;

use tapline_body::PartSpec;
use tapline_sip::{Method, Request};

/// Per-run constants of every INVITE.
pub(crate) struct InviteTemplate {
    pub(crate) srs: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) pt: u8,
    pub(crate) encoding: &'static str,
}

/// A fresh RFC 3261 branch.
pub(crate) fn branch(rng: &mut fastrand::Rng) -> String {
    format!("z9hG4bK{:016x}", rng.u64(..))
}

impl InviteTemplate {
    /// The INVITE of call number `n`, its RTP offered from `ports` (caller, callee).
    pub(crate) fn invite(&self, n: u64, ports: [u16; 2], rng: &mut fastrand::Rng) -> Request {
        let local = self.local;
        let ip = local.ip();
        let streams = [("1".to_owned(), ports[0]), ("2".to_owned(), ports[1])];
        let sdp = tapline_sdp::build_offer(
            ip,
            &streams,
            &[(self.pt, self.encoding, 8000)],
            rng.u64(1..u64::MAX / 2),
        )
        .to_string();
        let xml = metadata(n, rng);
        let boundary = format!("load-{:016x}", rng.u64(..));
        let body = tapline_body::build_multipart(
            &boundary,
            &[
                PartSpec {
                    content_type: "application/sdp",
                    disposition: None,
                    body: sdp.as_bytes(),
                },
                PartSpec {
                    content_type: "application/rs-metadata+xml",
                    disposition: Some("recording-session"),
                    body: xml.as_bytes(),
                },
            ],
        );
        let srs = self.srs;
        let mut req = Request::new(Method::Invite, format!("sip:srs@{srs}"));
        let h = &mut req.headers;
        h.push(
            "Via",
            format!("SIP/2.0/UDP {local};branch={};rport", branch(rng)),
        );
        h.push("Max-Forwards", "70");
        h.push(
            "From",
            format!("<sip:src@{local}>;tag={:016x}", rng.u64(..)),
        );
        h.push("To", format!("<sip:srs@{srs}>"));
        h.push("Call-ID", format!("load-{n}-{:016x}@{ip}", rng.u64(..)));
        h.push("CSeq", "1 INVITE");
        h.push("Contact", format!("<sip:src@{local}>;+sip.src"));
        h.push("Require", "siprec");
        h.push("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
        h.push("Accept", "application/sdp, application/rs-metadata+xml");
        h.push(
            "User-Agent",
            concat!("tapline-load/", env!("CARGO_PKG_VERSION")),
        );
        h.push("MIME-Version", "1.0");
        h.push(
            "Content-Type",
            format!("multipart/mixed;boundary={boundary}"),
        );
        req.body = body;
        req
    }
}

/// RFC 7865 section 8.1-style snapshot: caller sends label 1, callee label 2.
fn metadata(n: u64, rng: &mut fastrand::Rng) -> String {
    crate::call::metadata_doc::two_party_with(
        rng,
        &format!("sip:caller{n}@load.example"),
        &format!("sip:callee{n}@load.example"),
        ("1", "2"),
        &format!("load-cs-{n}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_is_a_parseable_siprec_offer_with_metadata() {
        let t = InviteTemplate {
            srs: "127.0.0.1:5080".parse().unwrap(),
            local: "127.0.0.1:40000".parse().unwrap(),
            pt: 0,
            encoding: "PCMU",
        };
        let mut rng = fastrand::Rng::with_seed(7);
        let req = t.invite(42, [41000, 41002], &mut rng);
        let bytes = tapline_sip::Message::Request(req).to_bytes();
        let tapline_sip::Message::Request(req) = tapline_sip::Message::parse(&bytes).unwrap()
        else {
            panic!("not a request");
        };
        assert_eq!(req.header("Require"), Some("siprec"));
        assert!(req.call_id().unwrap().starts_with("load-42-"));
        let body = tapline_body::classify(req.header("Content-Type"), None, &req.body).unwrap();
        let sdp = tapline_sdp::SessionDescription::parse(&String::from_utf8_lossy(
            body.sdp.as_deref().unwrap(),
        ))
        .unwrap();
        assert_eq!(sdp.media.len(), 2);
        assert_eq!(sdp.media[0].port, 41000);
        assert_eq!(sdp.media[1].port, 41002);
        let parsed = tapline_metadata::parse(body.metadata.as_deref().unwrap()).unwrap();
        let r = tapline_metadata::resolve(&parsed.metadata);
        let caller = r
            .participants
            .iter()
            .find(|p| p.aor.as_deref() == Some("sip:caller42@load.example"))
            .unwrap();
        assert_eq!(caller.sends, vec!["1".to_owned()]);
        assert_eq!(caller.receives, vec!["2".to_owned()]);
    }
}

//! SDP: parse an offer, plan and build the recorder's answer.
//! Checks: the answer has exactly as many m-lines as the offer (RFC 3264 section 6), never
//! offers to send (no sendrecv/sendonly on an accepted line, RFC 7866 7.2), and both offer
//! and answer survive a write -> parse round trip with the same m-line count.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use tapline_sdp::{CodecPref, SessionDescription, build_answer, plan_answer};

const SUPPORTED: [CodecPref; 2] = [
    CodecPref {
        encoding: "PCMU",
        clock_rate: 8000,
    },
    CodecPref {
        encoding: "PCMA",
        clock_rate: 8000,
    },
];

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let n = offer.media.len();
    let written = offer.to_string();
    let reparsed = SessionDescription::parse(&written).expect("written offer re-parses");
    assert_eq!(
        reparsed.media.len(),
        n,
        "offer m-line count changed by write/parse"
    );

    let decisions = plan_answer(&offer, &SUPPORTED);
    assert_eq!(decisions.len(), n, "one decision per offered m-line");
    for (i, d) in decisions.iter().enumerate() {
        assert_eq!(d.index(), i);
    }
    // Every third port 0 exercises the "accepted but no port" path.
    let ports: Vec<u16> = (0..n)
        .map(|i| {
            if i % 3 == 2 {
                0
            } else {
                20_000u16.wrapping_add(2 * i as u16)
            }
        })
        .collect();
    let answer = build_answer(
        &offer,
        &decisions,
        &ports,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        1,
        1,
    );
    assert_eq!(
        answer.media.len(),
        n,
        "answer m-line count differs from offer"
    );
    for m in &answer.media {
        if m.port != 0 {
            let dir = m.direction(&answer);
            assert!(
                matches!(dir.as_str(), "recvonly" | "inactive"),
                "accepted answer line is {}",
                dir.as_str()
            );
        }
    }
    let text = answer.to_string();
    let again = SessionDescription::parse(&text).expect("written answer re-parses");
    assert_eq!(
        again.media.len(),
        n,
        "answer m-line count changed by write/parse"
    );
});

//! MIME bodies: `split` and `classify` with an arbitrary Content-Type.
//!
//! Input: line 1 = Content-Type value (a lone `-` means no header), line 2 =
//! Content-Disposition value (empty means none), the rest = the body.
//! Checks: parts are disjoint pieces of the body; rebuilding the parts with
//! `build_multipart` and splitting again gives the same parts back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapline_body::{Part, PartSpec, build_multipart, classify, split};

fn take_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            data.get(i + 1..).unwrap_or_default(),
        ),
        None => (data, &[]),
    }
}

fn header<'a>(part: &'a Part, name: &str) -> Option<&'a str> {
    part.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn round_trip(parts: &[Part]) {
    let mut specs = Vec::new();
    for p in parts {
        let Some(ct) = header(p, "content-type") else {
            return;
        };
        let disp = header(p, "content-disposition");
        let clean = |v: &str| !v.contains(['\r', '\n']);
        if p.content_type.is_none() || !clean(ct) || !disp.is_none_or(clean) {
            return;
        }
        specs.push(PartSpec {
            content_type: ct,
            disposition: disp,
            body: &p.body,
        });
    }
    if specs.is_empty() {
        return;
    }
    let boundary = (0u32..)
        .map(|n| format!("fuzzb{n}"))
        .find(|b| parts.iter().all(|p| !contains(&p.body, b.as_bytes())))
        .unwrap_or_default();
    let built = build_multipart(&boundary, &specs);
    let ct = format!("multipart/mixed;boundary={boundary}");
    let again = split(Some(&ct), None, &built).expect("re-split of build_multipart output");
    assert_eq!(again.len(), parts.len(), "part count changed in round trip");
    for (a, b) in parts.iter().zip(&again) {
        assert_eq!(
            a.content_type, b.content_type,
            "content type changed in round trip"
        );
        assert_eq!(
            a.disposition, b.disposition,
            "disposition changed in round trip"
        );
        assert_eq!(a.body, b.body, "part body changed in round trip");
    }
}

fuzz_target!(|data: &[u8]| {
    let (ct, rest) = take_line(data);
    let (disp, body) = take_line(rest);
    let ct = String::from_utf8_lossy(ct);
    let disp = String::from_utf8_lossy(disp);
    let ct = (ct.trim_end_matches('\r') != "-").then_some(ct.trim_end_matches('\r'));
    let disp = Some(disp.trim_end_matches('\r')).filter(|d| !d.is_empty());

    if let Ok(parts) = split(ct, disp, body) {
        let total: usize = parts.iter().map(|p| p.body.len()).sum();
        assert!(total <= body.len(), "parts longer than the body");
        round_trip(&parts);
    }
    if let Ok(rb) = classify(ct, disp, body) {
        for found in [&rb.sdp, &rb.metadata].into_iter().flatten() {
            assert!(
                found.len() <= body.len(),
                "classified part longer than the body"
            );
        }
    }
});

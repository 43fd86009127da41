//! Every multipart body of the shared SIPREC corpus, split and classified.

use crate::{BodyError, Part, classify, detect_boundary, split};

macro_rules! corpus {
    ($p:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/siprec/corpus/",
            $p
        )
    };
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("corpus file {path} missing: {e}"))
}

fn essences(parts: &[Part]) -> Vec<String> {
    parts
        .iter()
        .map(|p| {
            p.content_type
                .as_ref()
                .map(|m| m.essence())
                .unwrap_or_default()
        })
        .collect()
}

/// Split a bare fixture body with the boundary taken from its first delimiter line.
fn split_bare(path: &str) -> (String, Vec<Part>, Vec<u8>) {
    let body = read(path);
    let boundary = detect_boundary(&body).unwrap_or_else(|| panic!("no delimiter in {path}"));
    let ct = format!("multipart/mixed;boundary={boundary}");
    let parts = split(Some(&ct), None, &body).unwrap_or_else(|e| panic!("{path}: {e}"));
    (ct, parts, body)
}

/// Header value and body of a SIP message text (RFC figure or SIPp template).
fn message(path: &str) -> (Option<String>, Vec<u8>) {
    let text = String::from_utf8(read(path)).unwrap();
    let (head, body) = text
        .split_once("\n\n")
        .or_else(|| text.split_once("\n \n"))
        .unwrap_or((&text, ""));
    let ct = head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case("content-type")
            .then(|| v.trim().to_owned())
    });
    (ct, body.as_bytes().to_vec())
}

const META_XML: &str = "application/rs-metadata+xml";
const SDP: &str = "application/sdp";

#[test]
fn vendor_bodies_split_into_the_expected_parts() {
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            corpus!("vendor/vendor-avaya-sbce-multipart-body.txt"),
            "foobar",
            &[SDP, META_XML],
        ),
        (
            corpus!("vendor/vendor-broadworks-mangled-multipart-body.txt"),
            "UniqueBroadWorksBoundary",
            &["application/+xml", SDP],
        ),
        (
            corpus!("vendor/vendor-cisco-cube-hold-sendonly-multipart-body.txt"),
            "uniqueBoundary",
            &[SDP, META_XML],
        ),
        (
            corpus!("vendor/vendor-cisco-cube-multipart-body.txt"),
            "uniqueBoundary",
            &[SDP, META_XML, "application/gtd"],
        ),
        (
            corpus!("vendor/vendor-opensips-connectel-multipart-body.txt"),
            "OSS-unique-boundary-42",
            &[SDP, META_XML],
        ),
        (
            corpus!("vendor/vendor-oracle-acme-multipart-body.txt"),
            "unique-boundary-1",
            &[SDP, META_XML],
        ),
        (
            corpus!("vendor/vendor-ribbon-sonus-multipart-body.txt"),
            "sonus-content-delim",
            &[SDP, META_XML],
        ),
        (
            corpus!("vendor/vendor-sems-procomm-multipart-body.txt"),
            "2CD2A2E9",
            &[SDP, "application/rs-metadata"],
        ),
    ];
    for (path, boundary, kinds) in cases {
        let (ct, parts, body) = split_bare(path);
        assert_eq!(ct, format!("multipart/mixed;boundary={boundary}"), "{path}");
        assert_eq!(essences(&parts), kinds, "{path}");
        for p in &parts {
            // The line break before a delimiter belongs to the delimiter.
            assert!(
                !p.body.ends_with(b"\n\n"),
                "{path}: part body ends with extra break"
            );
            assert!(
                !p.body
                    .windows(2 + boundary.len())
                    .any(|w| w.ends_with(boundary.as_bytes())),
                "{path}"
            );
        }
        let rb = classify(Some(&ct), None, &body).unwrap_or_else(|e| panic!("{path}: {e}"));
        let sdp = String::from_utf8(rb.sdp.expect("sdp")).unwrap();
        assert!(
            sdp.starts_with("v=0\n") && sdp.contains("m=audio"),
            "{path}"
        );
        let meta = String::from_utf8(rb.metadata.expect("metadata")).unwrap();
        assert!(
            meta.trim_end().ends_with("recording>") || meta.ends_with("</recording_metadata>"),
            "{path}: {meta:?}"
        );
    }
}

#[test]
fn cisco_gtd_part_is_optional_and_ignored() {
    let (ct, parts, body) = split_bare(corpus!("vendor/vendor-cisco-cube-multipart-body.txt"));
    // No close delimiter: the last part runs to the end, trailing LF trimmed.
    assert_eq!(parts[2].body, b"IAM,\nGCI,91036128574411e789f9d0ff56c3c658");
    assert!(!parts[2].disposition.as_ref().unwrap().handling_required);
    assert!(parts[0].disposition.as_ref().unwrap().handling_required);
    let rb = classify(Some(&ct), None, &body).unwrap();
    assert_eq!(rb.ignored, vec!["application/gtd".to_owned()]);
    assert!(rb.warnings.is_empty(), "{:?}", rb.warnings);
    assert_eq!(rb.metadata_content_type.as_deref(), Some(META_XML));
}

#[test]
fn broadworks_mangled_body_splits_with_junk_metadata() {
    let (ct, parts, body) = split_bare(corpus!(
        "vendor/vendor-broadworks-mangled-multipart-body.txt"
    ));
    assert!(
        parts[0]
            .headers
            .iter()
            .any(|(n, v)| n == "Content-Length" && v == "2012")
    );
    assert!(parts[0].body.starts_with(b"<recording_metadata"));
    assert!(parts[1].body.ends_with(b"a=label:1\n"));
    let rb = classify(Some(&ct), None, &body).unwrap();
    assert_eq!(
        rb.metadata_content_type.as_deref(),
        Some("application/+xml")
    );
    assert!(rb.metadata.unwrap().ends_with(b"</recording_metadata>"));
    assert_eq!(rb.warnings.len(), 1);
}

#[test]
fn sipp_invites_split() {
    for (path, meta_type) in [
        (
            corpus!("vendor/vendor-broadworks-invite.sipp.txt"),
            META_XML,
        ),
        (
            corpus!("vendor/vendor-metaswitch-invite.sipp.txt"),
            "application/rs-metadata",
        ),
    ] {
        let (ct, body) = message(path);
        let rb = classify(ct.as_deref(), None, &body).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(rb.sdp.unwrap().starts_with(b"v=0\n"), "{path}");
        assert_eq!(
            rb.metadata_content_type.as_deref(),
            Some(meta_type),
            "{path}"
        );
    }
    let (ct, body) = message(corpus!("vendor/vendor-broadworks-pause-reinvite.sipp.txt"));
    let rb = classify(ct.as_deref(), None, &body).unwrap();
    assert!(rb.sdp.unwrap().starts_with(b"v=0\n") && rb.metadata.is_none());
}

#[test]
fn rfc_messages_with_multipart_bodies() {
    let files = [
        corpus!("rfc/rfc7866-9.1-fig12-invite.txt"),
        corpus!("rfc/rfc8068-3.2.1-basic-invite.txt"),
        corpus!("rfc/rfc8068-3.2.2-hold-reinvite.txt"),
        corpus!("rfc/rfc8068-3.2.2-resume-reinvite.txt"),
        corpus!("rfc/rfc8068-3.2.3-transfer-reinvite.txt"),
        corpus!("rfc/rfc8068-3.2.3-refer-transfer-old-cs.txt"),
        corpus!("rfc/rfc8068-3.2.3-refer-transfer-new-cs.txt"),
        corpus!("rfc/rfc8068-3.3.1-mixing-invite.txt"),
        corpus!("rfc/rfc8068-3.3.2-mixing-hold-reinvite.txt"),
        corpus!("rfc/rfc8068-3.3.2-mixing-resume-reinvite.txt"),
        corpus!("rfc/rfc8068-3.3.3-join-reinvite.txt"),
        corpus!("rfc/rfc8068-3.3.3-drop-reinvite.txt"),
    ];
    for path in files {
        let (ct, body) = message(path);
        let rb = classify(ct.as_deref(), None, &body).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(rb.sdp.is_some(), "{path}");
        assert!(
            rb.metadata_content_type.as_deref() == Some("application/rs-metadata"),
            "{path}"
        );
        let meta = String::from_utf8(rb.metadata.unwrap()).unwrap();
        assert!(
            meta.trim_start().starts_with('<') || meta.contains("[metadata content]"),
            "{path}"
        );
    }
}

#[test]
fn rfc8068_bye_one_part_without_close_delimiter() {
    let (ct, body) = message(corpus!("rfc/rfc8068-3.2.4-bye.txt"));
    assert_eq!(ct.as_deref(), Some("multipart/mixed;boundary=foobar"));
    let parts = split(ct.as_deref(), None, &body).unwrap();
    assert_eq!(essences(&parts), ["application/rs-metadata"]);
    assert!(parts[0].disposition.is_none());
    let rb = classify(ct.as_deref(), None, &body).unwrap();
    assert!(rb.sdp.is_none());
    let meta = String::from_utf8(rb.metadata.unwrap()).unwrap();
    // Indentation is the RFC's own layout; the trailing line break is trimmed.
    assert!(
        meta.trim_start().starts_with("<?xml") && meta.ends_with("</recording>"),
        "{meta:?}"
    );
    // Persistent RS: re-INVITE with metadata only (H-04).
    let (ct, body) = message(corpus!(
        "rfc/rfc8068-3.4.1-persistent-cs-disconnect-reinvite.txt"
    ));
    let rb = classify(ct.as_deref(), None, &body).unwrap();
    assert!(rb.sdp.is_none() && rb.metadata.is_some());
}

#[test]
fn snapshot_request_and_cisco_bye_single_bodies() {
    let (ct, body) = message(corpus!("rfc/rfc7866-9.2-fig13-update-snapshot-request.txt"));
    let rb = classify(ct.as_deref(), Some("recording-session"), &body).unwrap();
    assert_eq!(
        rb.metadata_content_type.as_deref(),
        Some("application/rs-metadata")
    );
    let (ct, body) = message(corpus!("vendor/vendor-cisco-cube-bye-with-metadata.txt"));
    let rb = classify(ct.as_deref(), Some("recording-session"), &body).unwrap();
    assert_eq!(rb.metadata_content_type.as_deref(), Some(META_XML));
}

#[test]
fn cisco_debug_capture_without_blank_lines_still_splits() {
    let text =
        String::from_utf8(read(corpus!("vendor/vendor-cisco-cube-invite-debug.txt"))).unwrap();
    let start = text.find("--uniqueBoundary").unwrap();
    let body = text.get(start..).unwrap().as_bytes();
    let parts = split(Some("multipart/mixed;boundary=uniqueBoundary"), None, body).unwrap();
    assert_eq!(essences(&parts), [SDP, META_XML]);
    assert_eq!(parts[0].disposition.as_ref().unwrap().kind, "session");
    assert!(
        String::from_utf8_lossy(&parts[0].body)
            .trim_start()
            .starts_with("v=0")
    );
}

#[test]
fn plain_text_only_is_415() {
    let err = classify(Some("text/plain"), None, b"just text\r\n").unwrap_err();
    assert_eq!(
        err,
        BodyError::Unsupported {
            content_type: "text/plain".into()
        }
    );
    let body = b"--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n";
    let err = classify(Some("multipart/mixed; boundary=\"x\""), None, body).unwrap_err();
    assert_eq!(
        err,
        BodyError::Unsupported {
            content_type: "text/plain".into()
        }
    );
}

#[test]
fn truncated_and_corrupted_bodies_never_panic() {
    let (ct, _, body) = split_bare(corpus!("vendor/vendor-cisco-cube-multipart-body.txt"));
    for cut in 0..body.len() {
        let _ = classify(Some(&ct), None, body.get(..cut).unwrap());
        let _ = detect_boundary(body.get(cut..).unwrap());
    }
    let mut noisy = body.clone();
    for (i, b) in noisy.iter_mut().enumerate() {
        if i % 7 == 0 {
            *b = [b'\r', b'\n', b'-', b':', 0xff][i % 5];
        }
    }
    let _ = classify(Some(&ct), Some(";"), &noisy);
}

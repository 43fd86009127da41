use super::*;

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn essence(p: &Part) -> String {
    p.content_type
        .as_ref()
        .map(MediaType::essence)
        .unwrap_or_default()
}

const TWO_PARTS: &str = "preamble text\n\n--b1\nContent-Type: application/sdp\n\nv=0\no=x\n\n--b1\ncontent-type:application/rs-metadata+xml\nCONTENT-DISPOSITION:recording-session\n\n<x/>\n--b1--\nepilogue\n";

#[test]
fn splits_crlf_and_lf_identically_and_drops_break_before_delimiter() {
    for body in [TWO_PARTS.as_bytes().to_vec(), crlf(TWO_PARTS)] {
        let parts = split(Some("multipart/mixed;boundary=b1"), None, &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(essence(&parts[0]), "application/sdp");
        let sdp = String::from_utf8(parts[0].body.clone()).unwrap();
        assert_eq!(sdp.replace("\r\n", "\n"), "v=0\no=x\n");
        assert_eq!(parts[1].body, b"<x/>");
        let d = parts[1].disposition.as_ref().unwrap();
        assert_eq!(d.kind, "recording-session");
        assert_eq!(
            headers::find(&parts[1].headers, "Content-Type"),
            Some("application/rs-metadata+xml")
        );
    }
}

#[test]
fn quoted_and_unquoted_boundary() {
    let body = b"--a b\nContent-Type: text/plain\n\nhi\n--a b--\n";
    let q = split(Some("multipart/mixed; boundary=\"a b\""), None, body).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].body, b"hi");
    let body = b"--simple\nContent-Type: text/plain\n\nhi\n--simple--";
    let u = split(Some("Multipart/Mixed;Boundary=simple"), None, body).unwrap();
    assert_eq!(u[0].body, b"hi");
}

#[test]
fn trailing_whitespace_after_delimiters_and_missing_close() {
    let body =
        b"--b \nContent-Type: text/plain\n\none\n--b\t\nContent-Type: text/plain\n\ntwo\n--b-- \n";
    let parts = split(Some("multipart/mixed;boundary=b"), None, body).unwrap();
    assert_eq!(
        parts.iter().map(|p| p.body.clone()).collect::<Vec<_>>(),
        vec![b"one".to_vec(), b"two".to_vec()]
    );
    // No close delimiter: everything to the end, one trailing CRLF trimmed.
    let body = b"--b\r\nContent-Type: text/plain\r\n\r\nlast line\r\n\r\n";
    let parts = split(Some("multipart/mixed;boundary=b"), None, body).unwrap();
    assert_eq!(parts[0].body, b"last line\r\n");
}

#[test]
fn longer_boundary_is_not_a_delimiter() {
    let body = b"--b\nContent-Type: text/plain\n\n--bc\n--b--";
    let parts = split(Some("multipart/mixed;boundary=b"), None, body).unwrap();
    assert_eq!(parts[0].body, b"--bc");
}

#[test]
fn part_without_headers_and_per_part_content_length() {
    let body =
        b"--b\n\nraw body\n--b\nContent-Length:999\nContent-Type:application/sdp\n\nv=0\n--b--";
    let parts = split(Some("multipart/mixed;boundary=b"), None, body).unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts[0].content_type.is_none() && parts[0].headers.is_empty());
    assert_eq!(parts[0].body, b"raw body");
    // Content-Length inside a part is ignored: the delimiter is authoritative.
    assert_eq!(parts[1].body, b"v=0");
}

#[test]
fn boundary_never_appears_is_an_error() {
    let err = split(
        Some("multipart/mixed;boundary=zzz"),
        None,
        b"--other\n\nx\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        BodyError::BoundaryNotFound {
            boundary: "zzz".into()
        }
    );
    assert_eq!(
        split(Some("multipart/mixed"), None, b"no delimiters").unwrap_err(),
        BodyError::MissingBoundary
    );
}

#[test]
fn missing_boundary_param_falls_back_to_detection() {
    let parts = split(
        Some("multipart/mixed"),
        None,
        b"\r\n--xyz\r\nContent-Type: text/plain\r\n\r\nq\r\n--xyz--",
    )
    .unwrap();
    assert_eq!(parts[0].body, b"q");
}

#[test]
fn nested_multipart_is_flattened() {
    let body = b"--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: application/sdp\n\nv=0\n--inner\nContent-Type: text/plain\n\nalt\n--inner--\n--outer\nContent-Type: application/rs-metadata\n\n<m/>\n--outer--\n";
    let parts = split(Some("multipart/mixed;boundary=outer"), None, body).unwrap();
    let kinds: Vec<String> = parts.iter().map(essence).collect();
    assert_eq!(
        kinds,
        ["application/sdp", "text/plain", "application/rs-metadata"]
    );
    assert_eq!(parts[0].body, b"v=0");
}

#[test]
fn hostile_nesting_is_refused() {
    let mut body = String::new();
    for i in 0..20 {
        body.push_str(&format!(
            "--b{i}\nContent-Type: multipart/mixed;boundary=b{}\n\n",
            i + 1
        ));
    }
    let err = split(Some("multipart/mixed;boundary=b0"), None, body.as_bytes()).unwrap_err();
    assert_eq!(err, BodyError::NestingTooDeep { max: MAX_DEPTH });
}

#[test]
fn single_part_body_and_empty_body() {
    let parts = split(Some("application/SDP"), Some("session"), b"v=0\r\n").unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(essence(&parts[0]), "application/sdp");
    assert_eq!(parts[0].body, b"v=0\r\n");
    assert_eq!(parts[0].disposition.as_ref().unwrap().kind, "session");
    assert!(
        split(Some("application/sdp"), None, b"")
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        split(Some("garbage"), None, b"x"),
        Err(BodyError::BadMediaType { .. })
    ));
}

#[test]
fn detect_boundary_skips_blank_and_preamble_lines() {
    assert_eq!(
        detect_boundary(b"  \r\n\r\nThis is MIME\r\n--abc-1 \r\nx"),
        Some("abc-1".into())
    );
    assert_eq!(detect_boundary(b"no delimiter here\n"), None);
    assert_eq!(detect_boundary(b"--\n"), None);
    assert_eq!(detect_boundary(b""), None);
}

#[test]
fn never_panics_on_odd_bytes() {
    let samples: [&[u8]; 8] = [
        b"--b",
        b"--b--",
        b"\n--b\n",
        b"--b\r",
        b"\r\n--b\r\n\r",
        b"--b\n--b\n--b",
        b"\xff\xfe--b\n\xff:\xff\n\n",
        b"--b\n \n",
    ];
    for s in samples {
        let _ = split(Some("multipart/mixed;boundary=b"), None, s);
        let _ = detect_boundary(s);
    }
    let parts = split(Some("multipart/mixed;boundary=b"), None, b"--b\n--b\n--b").unwrap();
    assert!(parts.is_empty());
}

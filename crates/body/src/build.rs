//! Building multipart/mixed bodies for the SRC simulator (RFC 2046 section 5.1.1).

/// One part to put in a multipart body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSpec<'a> {
    /// Content-Type value, e.g. `application/sdp`.
    pub content_type: &'a str,
    /// Content-Disposition value, e.g. `recording-session`; omitted when `None`.
    pub disposition: Option<&'a str>,
    /// Part content, written unchanged.
    pub body: &'a [u8],
}

/// Build a multipart/mixed body with CRLF line endings and a close delimiter. The CRLF
/// written before each delimiter belongs to the delimiter, so `split` returns each body
/// byte for byte. The caller picks a boundary that does not occur in the bodies.
pub fn build_multipart(boundary: &str, parts: &[PartSpec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Type: {}\r\n", part.content_type).as_bytes(),
        );
        if let Some(d) = part.disposition {
            out.extend_from_slice(format!("Content-Disposition: {d}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(part.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::classify;
    use crate::multipart::split;

    #[test]
    fn round_trips_through_split_and_classify() {
        let sdp = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";
        let meta = b"<recording/>";
        let body = build_multipart(
            "tapline-b",
            &[
                PartSpec {
                    content_type: "application/sdp",
                    disposition: None,
                    body: sdp,
                },
                PartSpec {
                    content_type: "application/rs-metadata+xml",
                    disposition: Some("recording-session"),
                    body: meta,
                },
            ],
        );
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.starts_with("--tapline-b\r\nContent-Type: application/sdp\r\n\r\nv=0"));
        assert!(text.ends_with("<recording/>\r\n--tapline-b--\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        let parts = split(Some("multipart/mixed;boundary=tapline-b"), None, &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].body, sdp);
        assert_eq!(parts[1].body, meta);
        let rb = classify(Some("multipart/mixed;boundary=tapline-b"), None, &body).unwrap();
        assert_eq!(rb.sdp.as_deref(), Some(&sdp[..]));
        assert_eq!(rb.metadata.as_deref(), Some(&meta[..]));
    }
}

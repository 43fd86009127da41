//! Finding the SDP offer and the recording metadata in a SIPREC request body
//! (RFC 7866 section 9, RFC 5621, REQUIREMENTS A-50..A-53, D-01..D-04).

use crate::error::BodyError;
use crate::media_type::Disposition;
use crate::multipart::{Part, split};

/// Metadata media types: RFC 7865/9806 name first, then the RFC 7866 short form (D-01).
const METADATA_TYPES: [&str; 2] = ["application/rs-metadata+xml", "application/rs-metadata"];
const SDP_TYPE: &str = "application/sdp";
/// Disposition that marks the metadata part (RFC 7866 section 9).
const RECORDING_SESSION: &str = "recording-session";

/// What a recording-session request carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingBody {
    /// The SDP part (offer or answer), as sent.
    pub sdp: Option<Vec<u8>>,
    /// The recording metadata document, as sent.
    pub metadata: Option<Vec<u8>>,
    /// Content type of the metadata part (lower-cased essence).
    pub metadata_content_type: Option<String>,
    /// Content types of parts that were ignored (empty string for a part without one).
    pub ignored: Vec<String>,
    /// Human-readable notes about tolerated irregularities, for logging.
    pub warnings: Vec<String>,
}

/// Classify: locate parts by Content-Type, never by position (D-04). `application/sdp` is
/// the offer; `application/rs-metadata+xml` and `application/rs-metadata` are metadata, with
/// or without Content-Disposition (D-02). A part of another type marked
/// `recording-session` is taken as metadata when no properly typed one exists (its
/// content is the metadata parser's problem). Other parts are ignored: silently when
/// `handling=optional`, with a warning when required (real SBCs add parts).
/// If nothing usable remains in a non-empty body -> `BodyError::Unsupported` (415, A-50).
/// An empty body is an offerless request: Ok with both fields `None`.
pub fn classify(
    content_type: Option<&str>,
    content_disposition: Option<&str>,
    body: &[u8],
) -> Result<RecordingBody, BodyError> {
    let mut out = RecordingBody::default();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(out);
    }
    if content_type.is_none() {
        return Err(BodyError::MissingContentType);
    }
    let parts = split(content_type, content_disposition, body)?;
    let mut leftovers: Vec<(&Part, String)> = Vec::new();
    for part in &parts {
        let essence = part
            .content_type
            .as_ref()
            .map(|m| m.essence())
            .unwrap_or_default();
        if essence == SDP_TYPE {
            take(
                &mut out.sdp,
                part,
                &essence,
                "session",
                &mut out.ignored,
                &mut out.warnings,
            );
        } else if METADATA_TYPES.contains(&essence.as_str()) {
            if take(
                &mut out.metadata,
                part,
                &essence,
                RECORDING_SESSION,
                &mut out.ignored,
                &mut out.warnings,
            ) {
                out.metadata_content_type = Some(essence);
            }
        } else {
            leftovers.push((part, essence));
        }
    }
    let mut first_unknown: Option<String> = None;
    for (part, essence) in leftovers {
        let disposition = part
            .disposition
            .clone()
            .unwrap_or_else(|| Disposition::default_for(part.content_type.as_ref()));
        if disposition.kind == RECORDING_SESSION && out.metadata.is_none() {
            out.warnings.push(format!(
                "recording-session part with content type {essence:?} taken as metadata"
            ));
            out.metadata = Some(part.body.clone());
            out.metadata_content_type = Some(essence);
            continue;
        }
        if disposition.handling_required {
            out.warnings.push(format!(
                "ignored unsupported part {essence:?} despite handling=required"
            ));
        }
        first_unknown.get_or_insert_with(|| essence.clone());
        out.ignored.push(essence);
    }
    if out.sdp.is_none() && out.metadata.is_none() {
        return Err(BodyError::Unsupported {
            content_type: first_unknown.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Store the first part of a kind; later duplicates are ignored with a warning.
/// Returns true when the part was taken.
fn take(
    slot: &mut Option<Vec<u8>>,
    part: &Part,
    essence: &str,
    expected_disposition: &str,
    ignored: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> bool {
    if slot.is_some() {
        warnings.push(format!("second {essence} part ignored"));
        ignored.push(essence.to_owned());
        return false;
    }
    if let Some(d) = &part.disposition
        && d.kind != expected_disposition
    {
        warnings.push(format!(
            "{essence} part with unexpected disposition {:?}",
            d.kind
        ));
    }
    *slot = Some(part.body.clone());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP: &str = "multipart/mixed;boundary=b";

    #[test]
    fn empty_body_is_offerless() {
        let rb = classify(None, None, b"").unwrap();
        assert_eq!(rb, RecordingBody::default());
        assert!(
            classify(Some("application/sdp"), None, b"\r\n")
                .unwrap()
                .sdp
                .is_none()
        );
    }

    #[test]
    fn single_sdp_and_single_metadata() {
        let rb = classify(Some("Application/SDP"), None, b"v=0\r\n").unwrap();
        assert_eq!(rb.sdp.as_deref(), Some(&b"v=0\r\n"[..]));
        assert!(rb.metadata.is_none());
        let rb = classify(
            Some("application/rs-metadata"),
            Some("recording-session"),
            b"<r/>",
        )
        .unwrap();
        assert_eq!(rb.metadata.as_deref(), Some(&b"<r/>"[..]));
        assert_eq!(
            rb.metadata_content_type.as_deref(),
            Some("application/rs-metadata")
        );
        assert!(rb.sdp.is_none() && rb.warnings.is_empty());
    }

    #[test]
    fn metadata_first_without_disposition_is_found() {
        let body = b"--b\nContent-Type: application/rs-metadata+xml\n\n<r/>\n--b\nContent-Type: application/sdp\n\nv=0\n--b--";
        let rb = classify(Some(MP), None, body).unwrap();
        assert_eq!(rb.sdp.as_deref(), Some(&b"v=0"[..]));
        assert_eq!(rb.metadata.as_deref(), Some(&b"<r/>"[..]));
        assert_eq!(
            rb.metadata_content_type.as_deref(),
            Some("application/rs-metadata+xml")
        );
    }

    #[test]
    fn optional_unknown_is_ignored_silently_required_with_warning() {
        let body = b"--b\nContent-Type: application/sdp\n\nv=0\n--b\nContent-Type: application/gtd\nContent-Disposition: signal;handling=optional\n\nIAM\n--b--";
        let rb = classify(Some(MP), None, body).unwrap();
        assert_eq!(rb.ignored, vec!["application/gtd".to_owned()]);
        assert!(rb.warnings.is_empty());
        let body = b"--b\nContent-Type: application/sdp\n\nv=0\n--b\nContent-Type: application/isup\n\nIAM\n--b--";
        let rb = classify(Some(MP), None, body).unwrap();
        assert_eq!(rb.ignored, vec!["application/isup".to_owned()]);
        assert_eq!(rb.warnings.len(), 1);
    }

    #[test]
    fn nothing_usable_is_unsupported() {
        let err = classify(Some("text/plain"), None, b"hello").unwrap_err();
        assert_eq!(
            err,
            BodyError::Unsupported {
                content_type: "text/plain".into()
            }
        );
        let body = b"--b\nContent-Type: application/gtd\nContent-Disposition: signal;handling=optional\n\nIAM\n--b--";
        let err = classify(Some(MP), None, body).unwrap_err();
        assert_eq!(
            err,
            BodyError::Unsupported {
                content_type: "application/gtd".into()
            }
        );
        assert_eq!(
            classify(None, None, b"v=0").unwrap_err(),
            BodyError::MissingContentType
        );
    }

    #[test]
    fn mistyped_recording_session_part_becomes_metadata() {
        let body = b"--b\nContent-Type:application/ +xml\nContent-Disposition:recording-session\n\n<junk/>\n--b\nContent-Type: application/sdp\n\nv=0\n--b--";
        let rb = classify(Some(MP), None, body).unwrap();
        assert_eq!(rb.metadata.as_deref(), Some(&b"<junk/>"[..]));
        assert_eq!(
            rb.metadata_content_type.as_deref(),
            Some("application/+xml")
        );
        assert_eq!(rb.warnings.len(), 1);
        // A properly typed metadata part wins over the mistyped one, whatever the order.
        let body = b"--b\nContent-Type: text/xml\nContent-Disposition: recording-session\n\n<a/>\n--b\nContent-Type: application/rs-metadata\n\n<b/>\n--b--";
        let rb = classify(Some(MP), None, body).unwrap();
        assert_eq!(rb.metadata.as_deref(), Some(&b"<b/>"[..]));
        assert_eq!(rb.ignored, vec!["text/xml".to_owned()]);
    }

    #[test]
    fn duplicate_sdp_keeps_the_first() {
        let body = b"--b\nContent-Type: application/sdp\n\nfirst\n--b\nContent-Type: application/sdp\n\nsecond\n--b--";
        let rb = classify(Some(MP), None, body).unwrap();
        assert_eq!(rb.sdp.as_deref(), Some(&b"first"[..]));
        assert_eq!(rb.ignored, vec!["application/sdp".to_owned()]);
    }
}

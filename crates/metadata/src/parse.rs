//! Entry point: bytes -> model. Decides what is an error (unusable document)
//! and what is a warning (usable with caveats).

use std::borrow::Cow;
use std::collections::HashSet;

use roxmltree::{Document, Node, ParsingOptions};

use crate::elements::{self, Ctx};
use crate::error::{MetadataError, Warning};
use crate::model::{DataMode, Dialect, Metadata};
use crate::repair::{self, Repairs};
use crate::xmlutil::{
    NS_DRAFT, NS_NO_VERSION, NS_RFC, attr, elements as children, has_loose_text, is_recording_ns,
    key, trimmed,
};

/// Bound on XML nodes so a hostile body cannot exhaust memory.
const NODES_LIMIT: u32 = 200_000;

/// A parsed document and what was odd about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The metadata.
    pub metadata: Metadata,
    /// Tolerated oddities, in document order.
    pub warnings: Vec<Warning>,
}

/// Parses one metadata body (the bytes of the MIME part).
pub fn parse(xml: &[u8]) -> Result<Parsed, MetadataError> {
    let mut repairs = Repairs::default();
    let decoded = decode(xml, &mut repairs);
    let text = trim_doc(&decoded);
    if text.is_empty() {
        return Err(MetadataError::Empty);
    }
    let doc = load(text)?;
    let root = doc.root_element();
    let root_name = root.tag_name().name().to_string();
    let ns = root.tag_name().namespace();
    match key(root).as_str() {
        "recording" | "recordingmetadata" => {}
        "requestsnapshot" if is_recording_ns(ns) => return Err(MetadataError::SnapshotRequest),
        _ => return Err(MetadataError::UnknownRoot { root: root_name }),
    }
    let dialect = dialect_of(ns).ok_or_else(|| MetadataError::UnknownNamespace {
        root: root_name.clone(),
        namespace: ns.unwrap_or_default().to_string(),
    })?;
    let mut ctx = Ctx {
        input: text,
        warnings: repairs.warning().into_iter().collect(),
    };
    if children(root).next().is_none() {
        if has_loose_text(root) {
            return Err(MetadataError::NoElements { root: root_name });
        }
        ctx.warn(format!("<{root_name}> is empty"));
    } else if has_loose_text(root) {
        // Cisco's guide elides parts with "…" between elements.
        ctx.warn(format!(
            "character data directly inside <{root_name}> ignored"
        ));
    }
    let metadata = recording(&mut ctx, root, dialect);
    check_duplicates(&mut ctx, &metadata);
    Ok(Parsed {
        metadata,
        warnings: ctx.warnings,
    })
}

/// Parses an SRS snapshot request (RFC 7865 §7); returns the `requestreason` text if any.
pub fn parse_request_snapshot(xml: &[u8]) -> Result<Option<String>, MetadataError> {
    let decoded = decode(xml, &mut Repairs::default());
    let text = trim_doc(&decoded);
    if text.is_empty() {
        return Err(MetadataError::Empty);
    }
    let doc = load(text)?;
    let root = doc.root_element();
    if key(root) != "requestsnapshot" || !is_recording_ns(root.tag_name().namespace()) {
        return Err(MetadataError::UnknownRoot {
            root: root.tag_name().name().to_string(),
        });
    }
    Ok(children(root)
        .find(|c| key(*c) == "requestreason")
        .map(trimmed))
}

fn load(text: &str) -> Result<Document<'_>, MetadataError> {
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, opts).map_err(|e| MetadataError::Xml {
        reason: e.to_string(),
    })
}

/// Leading whitespace / stray BOM before `<?xml` is common once a MIME part is cut out.
fn trim_doc(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\0')
}

fn dialect_of(ns: Option<&str>) -> Option<Dialect> {
    let ns = match ns {
        None => return Some(Dialect::NoNamespace),
        Some(n) => n.trim(),
    };
    [
        (NS_RFC, Dialect::Rfc7865),
        (NS_NO_VERSION, Dialect::RecordingNoVersion),
        (NS_DRAFT, Dialect::SiprecDraft),
    ]
    .into_iter()
    .find(|(u, _)| u.eq_ignore_ascii_case(ns))
    .map(|(_, d)| d)
}

/// UTF-8 (BOM optional); UTF-16 with BOM; Latin-1 when declared so. Invalid UTF-8 and
/// characters XML forbids are repaired rather than refused, and counted in `repairs`.
fn decode<'a>(bytes: &'a [u8], repairs: &mut Repairs) -> Cow<'a, str> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        repair::utf8_lossy(rest, repairs)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        Cow::Owned(utf16(rest, u16::from_le_bytes))
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        Cow::Owned(utf16(rest, u16::from_be_bytes))
    } else if std::str::from_utf8(bytes).is_err() && declares_latin1(bytes) {
        Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
    } else {
        repair::utf8_lossy(bytes, repairs)
    };
    repair::drop_illegal(text, repairs)
}

fn utf16(bytes: &[u8], f: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| {
        f([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ])
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn declares_latin1(bytes: &[u8]) -> bool {
    let head: String = bytes
        .iter()
        .take(100)
        .map(|&b| char::from(b).to_ascii_lowercase())
        .collect();
    head.starts_with("<?xml")
        && [
            "iso-8859-1",
            "latin1",
            "latin-1",
            "windows-1252",
            "us-ascii",
        ]
        .iter()
        .any(|e| head.contains(e))
}

/// Walks the children of the root in any order (S-03).
fn recording(ctx: &mut Ctx<'_>, root: Node<'_, '_>, dialect: Dialect) -> Metadata {
    let mut m = Metadata {
        dialect,
        recording_id: attr(root, &["id"]),
        ..Metadata::default()
    };
    let mut seen_datamode = false;
    for c in children(root) {
        if !is_recording_ns(c.tag_name().namespace()) {
            m.extensions.push(crate::xmlutil::extension(c, ctx.input));
            continue;
        }
        match key(c).as_str() {
            "datamode" if !seen_datamode => {
                seen_datamode = true;
                m.datamode = datamode(ctx, &trimmed(c));
            }
            "datamode" => ctx.warn("second <datamode> ignored"),
            "group" => m.groups.push(elements::group(ctx, c)),
            "session" => m.sessions.push(elements::session(ctx, c)),
            "participant" => m.participants.push(elements::participant(ctx, c)),
            "stream" => m.streams.push(elements::stream(ctx, c)),
            "sessionrecordingassoc" => m
                .session_recording_assocs
                .push(elements::session_recording_assoc(ctx, c)),
            "participantsessionassoc" => m
                .participant_session_assocs
                .push(elements::participant_session_assoc(ctx, c)),
            "participantstreamassoc" => m
                .participant_stream_assocs
                .push(elements::participant_stream_assoc(ctx, c)),
            "extensiondata" => m.extensions.push(crate::xmlutil::extension(c, ctx.input)),
            // siprec draft: <recording id=..> describes the RS itself (requestor, type).
            "recording" if dialect == Dialect::SiprecDraft || m.recording_id.is_none() => {
                m.recording_id = attr(c, &["id"]);
            }
            _ => ctx.warn(format!(
                "ignored unknown element <{}> in <{}>",
                c.tag_name().name(),
                root.tag_name().name()
            )),
        }
    }
    m
}

fn datamode(ctx: &mut Ctx<'_>, v: &str) -> DataMode {
    if v.eq_ignore_ascii_case("partial") {
        DataMode::Partial
    } else {
        if !v.eq_ignore_ascii_case("complete") {
            ctx.warn(format!("unknown datamode {v:?}, taken as complete"));
        }
        DataMode::Complete
    }
}

/// RFC 7865 §6.10 / E-09: ids are checked per element type only.
fn check_duplicates(ctx: &mut Ctx<'_>, m: &Metadata) {
    let lists: [(&str, Vec<&str>); 4] = [
        ("group", m.groups.iter().map(|g| g.id.as_str()).collect()),
        (
            "session",
            m.sessions.iter().map(|s| s.id.as_str()).collect(),
        ),
        (
            "participant",
            m.participants.iter().map(|p| p.id.as_str()).collect(),
        ),
        ("stream", m.streams.iter().map(|s| s.id.as_str()).collect()),
    ];
    for (kind, ids) in lists {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                ctx.warn(format!("{kind} id {id:?} appears more than once"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &[u8]) -> MetadataError {
        parse(s).unwrap_err()
    }

    #[test]
    fn errors_are_typed_and_one_line() {
        assert_eq!(err(b"  \n"), MetadataError::Empty);
        assert!(matches!(
            err(b"<recording><a></recording>"),
            MetadataError::Xml { .. }
        ));
        assert_eq!(
            err(b"<foo xmlns='urn:ietf:params:xml:ns:recording:1'/>"),
            MetadataError::UnknownRoot { root: "foo".into() }
        );
        assert_eq!(
            err(b"<recording xmlns='urn:example'/>"),
            MetadataError::UnknownNamespace {
                root: "recording".into(),
                namespace: "urn:example".into()
            }
        );
        assert_eq!(
            err(b"<requestsnapshot xmlns='urn:ietf:params:xml:ns:recording:1'/>"),
            MetadataError::SnapshotRequest
        );
        assert_eq!(
            err(b"<recording>completeSRC</recording>"),
            MetadataError::NoElements {
                root: "recording".into()
            }
        );
        let msg = err(b"<recording>\n<a>\n</b></recording>").to_string();
        assert!(msg.contains("3:") && !msg.contains('\n'), "{msg}");
        // DTDs (entity expansion attacks) are refused.
        assert!(matches!(
            err(b"<!DOCTYPE r [<!ENTITY a 'x'>]><recording>&a;</recording>"),
            MetadataError::Xml { .. }
        ));
    }

    #[test]
    fn encodings_bom_and_declarations() {
        let body = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><participant participant_id='p'><nameID aor='sip:j\u{f6}rg@x'/></participant></recording>";
        let aor = |r: Parsed| r.metadata.participants[0].name_ids[0].aor.clone();
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(format!("<?xml version='1.0' encoding='UTF-8'?>\n{body}").as_bytes());
        assert_eq!(aor(parse(&bom).unwrap()), "sip:j\u{f6}rg@x");
        let mut u16le = vec![0xFF, 0xFE];
        u16le.extend(body.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(aor(parse(&u16le).unwrap()), "sip:j\u{f6}rg@x");
        let latin1: Vec<u8> = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{body}")
            .chars()
            .map(|c| c as u8)
            .collect();
        assert_eq!(aor(parse(&latin1).unwrap()), "sip:j\u{f6}rg@x");
        // Leading blank lines before the declaration (cut-out MIME part).
        assert!(parse(format!("\r\n  <?xml version=\"1.0\"?>{body}\r\n").as_bytes()).is_ok());
    }

    #[test]
    fn datamode_spellings_and_default() {
        let dm = |x: &str| parse(x.as_bytes()).unwrap().metadata.datamode;
        assert_eq!(
            dm("<recording><dataMode>partial</dataMode></recording>"),
            DataMode::Partial
        );
        assert_eq!(
            dm("<recording><datamode> Partial </datamode></recording>"),
            DataMode::Partial
        );
        assert_eq!(
            dm("<recording><session session_id='s'/></recording>"),
            DataMode::Complete
        );
        let p = parse(b"<recording><datamode>weird</datamode></recording>").unwrap();
        assert_eq!(p.metadata.datamode, DataMode::Complete);
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn dialects_and_unknown_elements() {
        let d = |x: &str| parse(x.as_bytes()).unwrap().metadata.dialect;
        assert_eq!(
            d(
                "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>complete</datamode></recording>"
            ),
            Dialect::Rfc7865
        );
        assert_eq!(
            d(
                "<r:recording xmlns:r='urn:ietf:params:xml:ns:recording'><r:datamode>complete</r:datamode></r:recording>"
            ),
            Dialect::RecordingNoVersion
        );
        assert_eq!(
            d(
                "<recording_metadata xmlns='urn:ietf:params:xml:ns:siprec'><dataMode>complete</dataMode></recording_metadata>"
            ),
            Dialect::SiprecDraft
        );
        assert_eq!(
            d("<recording><datamode>complete</datamode></recording>"),
            Dialect::NoNamespace
        );
        let p = parse(b"<recording><channel>1</channel><participant participant_id='a'><role>agent</role></participant></recording>").unwrap();
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p.warnings[1].0.contains("<role> in <participant>"));
        let p = parse(b"<recording><stream stream_id='s'/><stream id='s'/></recording>").unwrap();
        assert!(
            p.warnings
                .iter()
                .any(|w| w.0.contains("stream id \"s\" appears more than once"))
        );
    }

    #[test]
    fn snapshot_request_parses() {
        let x = b"<requestsnapshot xmlns='urn:ietf:params:xml:ns:recording:1'><requestreason xml:lang='it'> SRS internal error </requestreason></requestsnapshot>";
        assert_eq!(
            parse_request_snapshot(x).unwrap().as_deref(),
            Some("SRS internal error")
        );
        assert!(parse_request_snapshot(b"<recording/>").is_err());
    }
}

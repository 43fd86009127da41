//! `tapline inspect FILE|-`: read a SIP message, a bare multipart body, an SDP or a bare
//! metadata document, and print one normalized JSON object. Exit 0 when the input could be read,
//! 2 with a one-line reason on stderr when it could not.

mod input;
mod sipp;
mod streams;

use std::io::Read;
use std::process::ExitCode;

use serde_json::{Value, json};
use tapline_metadata::{DataMode, MetadataError, Role};
use tapline_sdp::SessionDescription;

use crate::cli::InspectArgs;
use streams::MetaKind;

pub(crate) fn main(args: InspectArgs) -> ExitCode {
    let bytes = if args.file == "-" {
        let mut buf = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
            return fail(&format!("cannot read standard input: {e}"));
        }
        buf
    } else {
        match std::fs::read(&args.file) {
            Ok(b) => b,
            Err(e) => return fail(&format!("cannot read {}: {e}", args.file)),
        }
    };
    match inspect(&bytes) {
        Ok(v) => match serde_json::to_string_pretty(&v) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Err(reason) => fail(&reason),
    }
}

fn fail(reason: &str) -> ExitCode {
    let one_line = reason.replace(['\n', '\r'], " ");
    eprintln!("tapline inspect: {one_line}");
    ExitCode::from(2)
}

/// Inspect bytes of unknown kind.
pub(crate) fn inspect(bytes: &[u8]) -> Result<Value, String> {
    let pieces = input::split_input(bytes)?;
    let mut warnings = pieces.warnings;

    let sdp = match &pieces.sdp {
        Some(raw) => {
            Some(SessionDescription::parse_bytes(raw).map_err(|e| format!("unreadable SDP: {e}"))?)
        }
        None => None,
    };
    let mut snapshot_request = Value::Null;
    let parsed = match &pieces.metadata {
        Some(raw) => match tapline_metadata::parse(raw) {
            Ok(p) => Some(p),
            // An SRS snapshot request (RFC 7865 section 7, RFC 7866 9.2) is readable input.
            Err(MetadataError::SnapshotRequest) => {
                let reason = tapline_metadata::parse_request_snapshot(raw)
                    .map_err(|e| format!("unreadable snapshot request: {e}"))?;
                snapshot_request = json!({ "reason": reason });
                None
            }
            Err(e) => {
                return Err(not_xml(raw).unwrap_or_else(|| format!("unreadable metadata: {e}")));
            }
        },
        None => None,
    };
    if sdp.is_none() && parsed.is_none() && snapshot_request.is_null() {
        if pieces.sip.is_none() {
            return Err("no SDP and no recording metadata found in the input".into());
        }
        warnings.push("message carries no SDP and no recording metadata".into());
    }

    let mut participants = Vec::new();
    let mut streams: Vec<Value> = Vec::new();
    let mut sessions = Vec::new();
    let mut group = Value::Null;
    let mut datamode = Value::Null;
    let mut meta = MetaKind::None;
    // Metadata-crate warnings that the SDP may show to be harmless (see below).
    let mut multi_send: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(p) = &parsed {
        let m = &p.metadata;
        meta = match m.datamode {
            DataMode::Complete => MetaKind::Complete,
            DataMode::Partial => MetaKind::Partial,
        };
        datamode = json!(match m.datamode {
            DataMode::Complete => "complete",
            DataMode::Partial => "partial",
        });
        warnings.extend(p.warnings.iter().map(|w| w.to_string()));
        let r = tapline_metadata::resolve(m);
        let mut undescribed = 0usize;
        for w in &r.warnings {
            let w = w.to_string();
            // A partial update names streams of the earlier snapshot (RFC 7865 section 6).
            if meta == MetaKind::Partial && w.ends_with("that no <stream> describes") {
                undescribed += 1;
                continue;
            }
            warnings.push(w);
        }
        if undescribed > 0 {
            warnings.push(format!(
                "partial update: {undescribed} stream reference(s) to streams not described in this document (described by an earlier snapshot?); sends/receives show their stream ids"
            ));
        }
        for rp in &r.participants {
            if rp.sends.len() > 1 {
                multi_send.push((rp.id.clone(), rp.sends.clone()));
            }
            participants.push(json!({
                "id": rp.id,
                "aor": rp.aor,
                "name": rp.name,
                "sends": rp.sends,
                "receives": rp.receives,
                "role": rp.role.map(|r| match r { Role::Caller => "caller", Role::Callee => "callee" }),
                "role_source": rp.role_source,
            }));
        }
        for st in &m.streams {
            streams.push(json!({ "id": st.id, "label": st.label, "session_id": st.session_id }));
        }
        for s in &m.sessions {
            sessions.push(json!({
                "id": s.id,
                "group_ref": s.group_ref,
                "sip_session_ids": s.sip_session_ids,
            }));
        }
        if let Some(g) = m.groups.first() {
            group = json!({ "id": g.id });
        }
        if r.send_map_inferred {
            warnings.push("no participantstreamassoc: senders inferred from document order".into());
        }
    }
    if let Some(sdp) = &sdp {
        streams::merge(sdp, &mut streams, meta, &mut warnings);
        // One audio plus one video stream per participant is the normal unmixed A/V case
        // (RFC 8068 3.2.1): drop the "sends N streams" caution when the SDP shows that.
        let media = streams::media_by_label(&streams);
        for (id, sends) in &multi_send {
            let kinds: Vec<&String> = sends.iter().filter_map(|l| media.get(l)).collect();
            let distinct = kinds.len() == sends.len()
                && kinds
                    .iter()
                    .enumerate()
                    .all(|(i, k)| !kinds.iter().skip(i + 1).any(|o| o == k));
            if distinct {
                let prefix = format!("participant {id:?} sends ");
                warnings.retain(|w| !w.starts_with(&prefix));
            }
        }
    }
    Ok(json!({
        "kind": pieces.kind,
        "sip": pieces.sip,
        "participants": participants,
        "streams": streams,
        "sessions": sessions,
        "group": group,
        "datamode": datamode,
        "snapshot_request": snapshot_request,
        "warnings": warnings,
    }))
}

/// A metadata part that does not even start like XML (a figure's `[metadata content]`
/// placeholder, a template left unfilled): say what it starts with instead of a parser
/// position.
fn not_xml(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() || text.starts_with('<') {
        return None;
    }
    let first: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    Some(format!(
        "unreadable metadata: the metadata part is not XML (it starts with {first:?})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_metadata_is_named() {
        let r = not_xml(b"\n  [metadata content]\n--b--").unwrap();
        assert!(
            r.contains("not XML") && r.contains("[metadata content]"),
            "{r}"
        );
        assert!(not_xml(b"\xEF\xBB\xBF<recording/>").is_none());
        assert!(not_xml(b"  \n").is_none());
    }

    #[test]
    fn bodiless_message_is_read_but_junk_is_not() {
        let v = inspect(
            b"BYE sip:a@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK1\r\n\
            From: <sip:b@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n\
            Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(v["kind"], "sip-request");
        assert_eq!(
            v["warnings"][0],
            "message carries no SDP and no recording metadata"
        );
        assert!(inspect(b"hello").is_err());
        assert_eq!(inspect(b" \n").unwrap_err(), "input is empty");
    }
}

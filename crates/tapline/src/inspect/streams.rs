//! Tie SDP m-lines to metadata streams by `a=label` (RFC 7866 section 7.1.1, RFC 4574) and
//! say which side lacks its counterpart (REQUIREMENTS C-06, C-07, E-72).

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use tapline_sdp::{Direction, SessionDescription};

/// Whether the metadata (if any) was a complete snapshot or a partial update.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum MetaKind {
    /// No metadata in the input: m-lines are listed without cross-checks.
    None,
    /// A complete snapshot: every m-line should have a stream and vice versa.
    Complete,
    /// A partial update (RFC 7865 section 6): streams may be described by an earlier snapshot.
    Partial,
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::SendRecv => "sendrecv",
        Direction::SendOnly => "sendonly",
        Direction::RecvOnly => "recvonly",
        Direction::Inactive => "inactive",
    }
}

/// Adds the SDP facts (`media`, `codecs`, `direction`, `port`, `mline`) to the metadata
/// stream with the same label, or appends an SDP-only stream; pushes a warning for every
/// m-line without a metadata stream and every metadata stream without an m-line.
pub(super) fn merge(
    sdp: &SessionDescription,
    streams: &mut Vec<Value>,
    meta: MetaKind,
    warnings: &mut Vec<String>,
) {
    let from_metadata = streams.len();
    let partial_note = if meta == MetaKind::Partial {
        " (partial update: it may be described by an earlier snapshot)"
    } else {
        ""
    };
    for (i, m) in sdp.media.iter().enumerate() {
        let label = m.label().map(str::to_owned);
        let codecs: Vec<String> = m
            .rtpmaps()
            .iter()
            .map(|r| format!("{}/{}", r.encoding, r.clock_rate))
            .collect();
        let sdp_fields = json!({
            "media": m.media,
            "codecs": codecs,
            "direction": direction_name(m.direction(sdp)),
            "port": m.port,
            "mline": i,
        });
        let same_label = |s: &Value| {
            label.is_some() && s.get("label").and_then(Value::as_str) == label.as_deref()
        };
        let pos = streams.iter().position(same_label);
        let already_tied = pos
            .and_then(|p| streams.get(p))
            .is_some_and(|s| s.get("mline").is_some());
        match pos {
            Some(p) if !already_tied => {
                if let Some(obj) = streams.get_mut(p).and_then(Value::as_object_mut) {
                    extend(obj, &sdp_fields);
                }
            }
            _ => {
                if already_tied {
                    warnings.push(format!(
                        "m-line {i} repeats label {} of an earlier m-line",
                        label.as_deref().unwrap_or_default()
                    ));
                } else if meta != MetaKind::None {
                    warnings.push(match &label {
                        Some(l) => format!(
                            "m-line {i} (label {l}) has no stream in the metadata{partial_note}"
                        ),
                        None => format!(
                            "m-line {i} has no a=label: cannot be tied to a metadata stream"
                        ),
                    });
                }
                let mut v = json!({ "id": Value::Null, "label": label });
                if let Some(obj) = v.as_object_mut() {
                    extend(obj, &sdp_fields);
                }
                streams.push(v);
            }
        }
    }
    if meta == MetaKind::None {
        return;
    }
    for s in streams.iter().take(from_metadata) {
        if s.get("mline").is_some() {
            continue;
        }
        let id = s.get("id").and_then(Value::as_str).unwrap_or("?");
        warnings.push(match s.get("label").and_then(Value::as_str) {
            Some(l) => format!("metadata stream {id} (label {l}) has no m-line in the SDP"),
            None => format!("metadata stream {id} has no label: cannot be tied to an m-line"),
        });
    }
}

fn extend(obj: &mut Map<String, Value>, add: &Value) {
    if let Some(add) = add.as_object() {
        for (k, v) in add {
            obj.insert(k.clone(), v.clone());
        }
    }
}

/// Media kind (`audio`, `video`...) of each label that has an m-line.
pub(super) fn media_by_label(streams: &[Value]) -> HashMap<String, String> {
    streams
        .iter()
        .filter_map(|s| {
            let label = s.get("label")?.as_str()?;
            let media = s.get("media")?.as_str()?;
            Some((label.to_owned(), media.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdp(text: &str) -> SessionDescription {
        SessionDescription::parse(text).unwrap()
    }

    #[test]
    fn ties_by_label_and_reports_both_sides() {
        let sd = sdp(
            "v=0\nm=audio 10 RTP/AVP 0\na=label:1\nm=audio 12 RTP/AVP 8\na=label:9\n\
                      m=audio 14 RTP/AVP 0\n",
        );
        let mut streams = vec![
            json!({"id": "a", "label": "1"}),
            json!({"id": "b", "label": "2"}),
            json!({"id": "c", "label": null}),
        ];
        let mut w = Vec::new();
        merge(&sd, &mut streams, MetaKind::Complete, &mut w);
        assert_eq!(streams.len(), 5);
        assert_eq!(streams[0]["port"], 10);
        assert_eq!(streams[0]["codecs"], json!(["PCMU/8000"]));
        assert_eq!(streams[3]["label"], "9");
        assert_eq!(streams[3]["id"], Value::Null);
        assert!(w.contains(&"m-line 1 (label 9) has no stream in the metadata".to_string()));
        assert!(w.iter().any(|x| x.starts_with("m-line 2 has no a=label")));
        assert!(w.contains(&"metadata stream b (label 2) has no m-line in the SDP".to_string()));
        assert!(
            w.iter()
                .any(|x| x.starts_with("metadata stream c has no label"))
        );
        assert_eq!(
            media_by_label(&streams).get("1").map(String::as_str),
            Some("audio")
        );
    }

    #[test]
    fn repeated_label_and_partial_note() {
        let sd = sdp("v=0\nm=audio 10 RTP/AVP 0\na=label:1\nm=audio 12 RTP/AVP 0\na=label:1\n");
        let mut streams = vec![json!({"id": "a", "label": "1"})];
        let mut w = Vec::new();
        merge(&sd, &mut streams, MetaKind::Partial, &mut w);
        assert_eq!(
            w,
            vec!["m-line 1 repeats label 1 of an earlier m-line".to_string()]
        );
        let mut streams = Vec::new();
        let mut w = Vec::new();
        merge(&sd, &mut streams, MetaKind::Partial, &mut w);
        assert!(w[0].ends_with("(partial update: it may be described by an earlier snapshot)"));
        let mut w = Vec::new();
        merge(&sd, &mut Vec::new(), MetaKind::None, &mut w);
        assert_eq!(
            w,
            vec!["m-line 1 repeats label 1 of an earlier m-line".to_string()]
        );
        let one = sdp("v=0\nm=audio 10 RTP/AVP 0\n");
        let mut w = Vec::new();
        merge(&one, &mut Vec::new(), MetaKind::None, &mut w);
        assert!(w.is_empty(), "no metadata: nothing to cross-check");
    }
}

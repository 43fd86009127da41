//! "Who sends what": participants with the stream LABELS they send and receive,
//! which is what the server needs to name the recorded channels.

use std::collections::{HashMap, HashSet};

use crate::error::Warning;
use crate::model::{Metadata, Stream};
use crate::roles;

/// Role of a participant in a two-party call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The calling party.
    Caller,
    /// The called party.
    Callee,
}

/// One participant after resolution.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResolvedParticipant {
    /// Participant id.
    pub id: String,
    /// First address of record, if any.
    pub aor: Option<String>,
    /// First display name, if any.
    pub name: Option<String>,
    /// Labels (or stream ids when unlabelled/unknown) of streams the participant sends.
    pub sends: Vec<String>,
    /// Labels (or stream ids) of streams the participant receives.
    pub receives: Vec<String>,
    /// Caller / callee when some rule could tell.
    pub role: Option<Role>,
    /// Which rule decided `role` ("extension:apkt", "document-order", ...).
    pub role_source: Option<String>,
}

/// Result of [`resolve`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolution {
    /// Participants: declared ones in document order, then ones only referenced by associations.
    pub participants: Vec<ResolvedParticipant>,
    /// Oddities found while resolving.
    pub warnings: Vec<Warning>,
    /// True when no send/recv information existed and participant i was mapped to stream i (E-83).
    pub send_map_inferred: bool,
}

/// Participant entry under construction: stream ids, not yet labels.
#[derive(Default)]
struct Acc {
    id: String,
    aor: Option<String>,
    name: Option<String>,
    send: Vec<String>,
    recv: Vec<String>,
}

/// Resolves one document (apply partial updates onto a snapshot first to resolve a whole call).
pub fn resolve(m: &Metadata) -> Resolution {
    resolve_opts(m, true)
}

/// [`resolve`], with the E-83 document-order guess allowed only when `infer`.
pub(crate) fn resolve_opts(m: &Metadata, infer: bool) -> Resolution {
    let mut warnings = Warnings::default();
    let mut accs: Vec<Acc> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut entry = |accs: &mut Vec<Acc>, id: &str| -> usize {
        *index.entry(id.to_string()).or_insert_with(|| {
            accs.push(Acc {
                id: id.to_string(),
                ..Acc::default()
            });
            accs.len() - 1
        })
    };
    for p in &m.participants {
        let i = entry(&mut accs, &p.id);
        if let Some(a) = accs.get_mut(i) {
            for n in &p.name_ids {
                if a.aor.is_none() && !n.aor.is_empty() {
                    a.aor = Some(n.aor.clone());
                }
                if a.name.is_none() {
                    a.name.clone_from(&n.name);
                }
            }
            // Old Oracle/Acme and siprec-draft shapes carry send/recv in the participant.
            a.send.extend(p.send.iter().cloned());
            a.recv.extend(p.recv.iter().cloned());
        }
    }
    for psa in &m.participant_stream_assocs {
        let i = entry(&mut accs, &psa.participant_id);
        if let Some(a) = accs.get_mut(i) {
            a.send.extend(psa.send.iter().cloned());
            a.recv.extend(psa.recv.iter().cloned());
        }
    }

    // E-83: no association at all (OpenSIPS 2.x): participant i sends stream i.
    let any_send_info = accs
        .iter()
        .any(|a| !a.send.is_empty() || !a.recv.is_empty());
    let inferred = infer && !any_send_info && !accs.is_empty() && !m.streams.is_empty();
    if inferred {
        warnings.push(format!(
            "no participant-stream association: {} participant(s) mapped to {} stream(s) by document order",
            accs.len(),
            m.streams.len()
        ));
        for (a, s) in accs.iter_mut().zip(&m.streams) {
            a.send.push(s.id.clone());
        }
    }

    let streams: HashMap<&str, &Stream> = m.streams.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut sent: HashSet<&str> = HashSet::new();
    let mut participants = Vec::with_capacity(accs.len());
    for a in &accs {
        let sends = labels(&a.send, &a.id, &streams, &mut warnings);
        let receives = labels(&a.recv, &a.id, &streams, &mut warnings);
        sent.extend(a.send.iter().map(String::as_str));
        if sends.len() > 1 {
            warnings.push(format!(
                "participant {:?} sends {} streams ({})",
                a.id,
                sends.len(),
                sends.join(", ")
            ));
        }
        participants.push(ResolvedParticipant {
            id: a.id.clone(),
            aor: a.aor.clone(),
            name: a.name.clone(),
            sends,
            receives,
            ..ResolvedParticipant::default()
        });
    }
    for s in &m.streams {
        if !sent.contains(s.id.as_str()) {
            warnings.push(format!(
                "stream {} is sent by no participant",
                s.label.as_deref().unwrap_or(&s.id)
            ));
        }
    }
    roles::assign(m, &mut participants, &mut warnings);
    Resolution {
        participants,
        warnings: warnings.list,
        send_map_inferred: inferred,
    }
}

/// Stream ids -> labels, de-duplicated (Metaswitch lists the same `send` twice).
fn labels(
    ids: &[String],
    pid: &str,
    streams: &HashMap<&str, &Stream>,
    w: &mut Warnings,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let label = match streams.get(id.as_str()) {
            Some(Stream { label: Some(l), .. }) => l.clone(),
            Some(_) => {
                w.push(format!(
                    "stream {id:?} has no label; its id is used instead"
                ));
                id.clone()
            }
            None => {
                w.push(format!(
                    "participant {pid:?} references stream {id:?} that no <stream> describes"
                ));
                id.clone()
            }
        };
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// Warning list without repeats.
#[derive(Default)]
pub(crate) struct Warnings {
    list: Vec<Warning>,
    seen: HashSet<String>,
}

impl Warnings {
    pub(crate) fn push(&mut self, msg: String) {
        if self.seen.insert(msg.clone()) {
            self.list.push(Warning(msg));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn res(xml: &str) -> Resolution {
        resolve(&parse(xml.as_bytes()).unwrap().metadata)
    }

    fn has(r: &Resolution, needle: &str) -> bool {
        r.warnings.iter().any(|w| w.0.contains(needle))
    }

    #[test]
    fn unlabelled_and_unknown_streams_fall_back_to_ids() {
        let r = res(
            "<recording><participant participant_id='a'><nameID aor='sip:a@x'/></participant>\
             <stream stream_id='s1'/><participantstreamassoc participant_id='a'><send> s1 </send><send>s1</send>\
             <recv>s9</recv><recv>s2</recv></participantstreamassoc><stream stream_id='s2'><label> </label></stream></recording>",
        );
        assert_eq!(r.participants[0].sends, ["s1"], "trimmed and de-duplicated");
        assert_eq!(
            r.participants[0].receives,
            ["s9", "s2"],
            "blank label counts as none"
        );
        assert!(has(&r, "stream \"s1\" has no label"));
        assert!(has(&r, "references stream \"s9\""));
        assert!(!r.send_map_inferred);
    }

    #[test]
    fn inferred_map_follows_document_order() {
        let r = res(
            "<recording><participant participant_id='a'/><participant participant_id='b'/>\
             <participant participant_id='c'/><stream stream_id='x'><label>L1</label></stream>\
             <stream stream_id='y'><label>L2</label></stream></recording>",
        );
        assert!(r.send_map_inferred);
        let sends: Vec<_> = r.participants.iter().map(|p| p.sends.clone()).collect();
        assert_eq!(
            sends,
            [vec!["L1".to_string()], vec!["L2".to_string()], vec![]]
        );
        assert_eq!(r.participants[2].role, None);
        assert!(has(&r, "3 participant(s) mapped to 2 stream(s)"));
    }

    #[test]
    fn no_inference_when_any_send_info_exists() {
        let r = res(
            "<recording><participant participant_id='a'/><participant participant_id='b'/>\
             <stream stream_id='x'><label>1</label></stream>\
             <participantstreamassoc participant_id='b'><recv>x</recv></participantstreamassoc></recording>",
        );
        assert!(!r.send_map_inferred);
        assert!(
            r.participants
                .iter()
                .all(|p| p.sends.is_empty() && p.role.is_none())
        );
        assert!(has(&r, "stream 1 is sent by no participant"));
    }

    #[test]
    fn participants_only_in_associations_are_listed_after_declared_ones() {
        let r = res(
            "<recording><participantstreamassoc participant_id='z'><send>x</send></participantstreamassoc>\
             <participant participant_id='a'><nameID aor='sip:a@x'><name> Ann </name></nameID></participant></recording>",
        );
        let ids: Vec<_> = r.participants.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a", "z"]);
        assert_eq!(r.participants[0].name.as_deref(), Some("Ann"));
        assert_eq!(r.participants[1].aor, None);
    }
}

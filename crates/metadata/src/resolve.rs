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
    let inferred = !any_send_info && !accs.is_empty() && !m.streams.is_empty();
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

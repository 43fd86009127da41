//! What a metadata state means "right now" (who is in the call, who sends and
//! receives which stream, which sessions and streams are live), and the
//! [`Change`]s between two such states. Changes are derived by comparing the
//! state before and after an update rather than from the update's elements, so
//! complete snapshots (which replace everything, RFC 7866 §9.2) and partial
//! updates yield the same kind of timeline.

use std::collections::{HashMap, HashSet};

use crate::change::Change;
use crate::model::Metadata;

/// The "now" reading of a [`Metadata`]; every list in a stable order.
#[derive(Debug, Default)]
pub(crate) struct View {
    groups: Vec<String>,
    sessions: Vec<String>,
    session_groups: HashMap<String, Option<String>>,
    sip_ids: HashMap<String, Vec<String>>,
    /// Live streams: (id, label).
    streams: Vec<(String, Option<String>)>,
    /// Present participants: (id, aor).
    participants: Vec<(String, Option<String>)>,
    /// (participant, stream id).
    sends: Vec<(String, String)>,
    recvs: Vec<(String, String)>,
    /// Label of every stream described, live or not.
    labels: HashMap<String, String>,
}

impl View {
    pub(crate) fn of(m: &Metadata) -> View {
        let mut v = View::default();
        let mut seen = HashSet::new();
        for g in &m.groups {
            if g.disassociate_time.is_none() && seen.insert(g.id.as_str()) {
                v.groups.push(g.id.clone());
            }
        }
        let live = live_sessions(m);
        for s in m.sessions.iter().filter(|s| live.contains(s.id.as_str())) {
            if !v.session_groups.contains_key(&s.id) {
                v.sessions.push(s.id.clone());
                v.session_groups.insert(s.id.clone(), s.group_ref.clone());
                v.sip_ids.insert(s.id.clone(), s.sip_session_ids.clone());
            }
        }
        let declared: HashSet<&str> = m.sessions.iter().map(|s| s.id.as_str()).collect();
        // A stream of a session that ended is over; one naming no known session
        // (or none) lives as long as the recording does.
        let stream_live = |sid: &Option<String>| {
            sid.as_deref()
                .is_none_or(|s| live.contains(s) || !declared.contains(s))
        };
        let mut dead_streams = HashSet::new();
        let mut seen = HashSet::new();
        for s in &m.streams {
            if let Some(l) = &s.label {
                v.labels.entry(s.id.clone()).or_insert_with(|| l.clone());
            }
            if !seen.insert(s.id.as_str()) {
                continue;
            }
            if stream_live(&s.session_id) {
                v.streams.push((s.id.clone(), s.label.clone()));
            } else {
                dead_streams.insert(s.id.as_str());
            }
        }
        let present = present_participants(m, &live);
        for (id, aor) in present {
            v.participants.push((id.to_string(), aor));
        }
        let here: HashSet<&str> = v.participants.iter().map(|(p, _)| p.as_str()).collect();
        let add = |list: &mut Vec<(String, String)>,
                   seen: &mut HashSet<(String, String)>,
                   p: &str,
                   ids: &[String]| {
            for s in ids {
                let pair = (p.to_string(), s.clone());
                if here.contains(p) && !dead_streams.contains(s.as_str()) && seen.insert(pair) {
                    list.push((p.to_string(), s.clone()));
                }
            }
        };
        let (mut ss, mut rs) = (HashSet::new(), HashSet::new());
        for p in &m.participants {
            add(&mut v.sends, &mut ss, &p.id, &p.send);
            add(&mut v.recvs, &mut rs, &p.id, &p.recv);
        }
        // A closed participant-stream association contributes nothing.
        for a in m
            .participant_stream_assocs
            .iter()
            .filter(|a| a.disassociate_time.is_none())
        {
            add(&mut v.sends, &mut ss, &a.participant_id, &a.send);
            add(&mut v.recvs, &mut rs, &a.participant_id, &a.recv);
        }
        v
    }

    /// Ids of present participants, to clear the others' send/recv sets.
    pub(crate) fn participant_ids(&self) -> HashSet<&str> {
        self.participants.iter().map(|(p, _)| p.as_str()).collect()
    }

    /// Ids of streams someone present sends.
    fn sent_streams(&self) -> HashSet<&String> {
        self.sends.iter().map(|(_, s)| s).collect()
    }

    /// Streams `m` describes that are not live (their session ended).
    pub(crate) fn dead_streams<'m>(&self, m: &'m Metadata) -> HashSet<&'m str> {
        let live: HashSet<&str> = self.streams.iter().map(|(s, _)| s.as_str()).collect();
        m.streams
            .iter()
            .map(|s| s.id.as_str())
            .filter(|s| !live.contains(s))
            .collect()
    }

    fn label(&self, stream: &str) -> String {
        self.labels
            .get(stream)
            .cloned()
            .unwrap_or_else(|| stream.to_string())
    }
}

/// Sessions with no `stop-time` whose recording association (if any) is open.
fn live_sessions(m: &Metadata) -> HashSet<&str> {
    let mut closed: HashMap<&str, bool> = HashMap::new();
    for a in &m.session_recording_assocs {
        // The last association for a session is the current interval.
        closed.insert(a.session_id.as_str(), a.disassociate_time.is_some());
    }
    m.sessions
        .iter()
        .filter(|s| s.stop_time.is_none() && !closed.get(s.id.as_str()).copied().unwrap_or(false))
        .map(|s| s.id.as_str())
        .collect()
}

/// Participants in the call now, declared ones first, then those only named by
/// associations (Cisco guide elisions). A participant with session
/// associations is present while one of them is open on a live session; one
/// without (old vendor shapes, OpenSIPS) while it has no `disassociate-time`
/// and not all of its `session` attributes name ended sessions.
fn present_participants<'m>(
    m: &'m Metadata,
    live: &HashSet<&str>,
) -> Vec<(&'m str, Option<String>)> {
    let declared: HashSet<&str> = m.sessions.iter().map(|s| s.id.as_str()).collect();
    let mut open: HashMap<&str, bool> = HashMap::new();
    let mut last: HashMap<(&str, &str), bool> = HashMap::new();
    for a in &m.participant_session_assocs {
        let is_open = a.disassociate_time.is_none()
            && (live.contains(a.session_id.as_str()) || !declared.contains(a.session_id.as_str()));
        last.insert((&a.participant_id, &a.session_id), is_open);
    }
    for ((p, _), is_open) in last {
        let e = open.entry(p).or_insert(false);
        *e = *e || is_open;
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for p in &m.participants {
        if !seen.insert(p.id.as_str()) {
            continue;
        }
        let here = match open.get(p.id.as_str()) {
            Some(o) => *o,
            None => {
                p.disassociate_time.is_none()
                    && (p.session_ids.is_empty()
                        || p.session_ids
                            .iter()
                            .any(|s| live.contains(s.as_str()) || !declared.contains(s.as_str())))
            }
        };
        if here {
            let aor = p
                .name_ids
                .iter()
                .find(|n| !n.aor.is_empty())
                .map(|n| n.aor.clone());
            out.push((p.id.as_str(), aor));
        }
    }
    let undeclared = m
        .participant_session_assocs
        .iter()
        .map(|a| a.participant_id.as_str())
        .chain(
            m.participant_stream_assocs
                .iter()
                .map(|a| a.participant_id.as_str()),
        );
    for p in undeclared {
        if seen.insert(p) && open.get(p).copied().unwrap_or(true) {
            out.push((p, None));
        }
    }
    out
}

/// Changes from `a` to `b`: everything that stopped first, then what started.
pub(crate) fn diff(a: &View, b: &View) -> Vec<Change> {
    let mut out = Vec::new();
    let pairs =
        |v: &[(String, String)]| -> HashSet<(String, String)> { v.iter().cloned().collect() };
    let (a_send, b_send) = (pairs(&a.sends), pairs(&b.sends));
    let (a_recv, b_recv) = (pairs(&a.recvs), pairs(&b.recvs));
    let ended = |list: &[(String, String)], other: &HashSet<(String, String)>| {
        list.iter()
            .filter(|x| !other.contains(*x))
            .cloned()
            .collect::<Vec<_>>()
    };
    for (participant, stream) in ended(&a.sends, &b_send) {
        let label = a.label(&stream);
        out.push(Change::SendStopped {
            participant,
            stream,
            label,
        });
    }
    for (participant, stream) in ended(&a.recvs, &b_recv) {
        let label = a.label(&stream);
        out.push(Change::RecvStopped {
            participant,
            stream,
            label,
        });
    }
    let b_parts: HashSet<&str> = b.participant_ids();
    for (id, _) in a
        .participants
        .iter()
        .filter(|(p, _)| !b_parts.contains(p.as_str()))
    {
        out.push(Change::ParticipantLeft { id: id.clone() });
    }
    let (a_busy, b_busy) = (a.sent_streams(), b.sent_streams());
    let a_live: HashSet<&(String, Option<String>)> = a.streams.iter().collect();
    // Streams live before and after whose sender set emptied / filled.
    let both = || b.streams.iter().filter(|s| a_live.contains(s));
    for (id, label) in both().filter(|(id, _)| a_busy.contains(id) && !b_busy.contains(id)) {
        out.push(Change::StreamIdle {
            id: id.clone(),
            label: label.clone(),
        });
    }
    let b_streams: HashSet<&(String, Option<String>)> = b.streams.iter().collect();
    for (id, label) in a.streams.iter().filter(|s| !b_streams.contains(s)) {
        out.push(Change::StreamRemoved {
            id: id.clone(),
            label: label.clone(),
        });
    }
    let b_sessions: HashSet<&String> = b.sessions.iter().collect();
    for id in a.sessions.iter().filter(|s| !b_sessions.contains(s)) {
        out.push(Change::SessionStopped { id: id.clone() });
    }
    let b_groups: HashSet<&String> = b.groups.iter().collect();
    for id in a.groups.iter().filter(|g| !b_groups.contains(g)) {
        out.push(Change::GroupEnded { id: id.clone() });
    }
    let a_groups: HashSet<&String> = a.groups.iter().collect();
    for id in b.groups.iter().filter(|g| !a_groups.contains(g)) {
        out.push(Change::GroupStarted { id: id.clone() });
    }
    let a_sessions: HashSet<&String> = a.sessions.iter().collect();
    for id in b.sessions.iter().filter(|s| !a_sessions.contains(s)) {
        out.push(Change::SessionStarted { id: id.clone() });
    }
    for id in &b.sessions {
        let group = b.session_groups.get(id).cloned().flatten();
        if a.session_groups.get(id).cloned().flatten() != group && group.is_some() {
            out.push(Change::SessionGroupChanged {
                session: id.clone(),
                group,
            });
        }
        let ids = b.sip_ids.get(id).cloned().unwrap_or_default();
        if a.sip_ids.get(id).cloned().unwrap_or_default() != ids && !ids.is_empty() {
            out.push(Change::SipSessionIdsChanged {
                session: id.clone(),
                ids,
            });
        }
    }
    let a_streams: HashSet<&(String, Option<String>)> = a.streams.iter().collect();
    for (id, label) in b.streams.iter().filter(|s| !a_streams.contains(s)) {
        out.push(Change::StreamAdded {
            id: id.clone(),
            label: label.clone(),
        });
    }
    let a_parts: HashSet<&str> = a.participant_ids();
    for (id, aor) in b
        .participants
        .iter()
        .filter(|(p, _)| !a_parts.contains(p.as_str()))
    {
        out.push(Change::ParticipantJoined {
            id: id.clone(),
            aor: aor.clone(),
        });
    }
    for (participant, stream) in ended(&b.sends, &a_send) {
        let label = b.label(&stream);
        out.push(Change::SendStarted {
            participant,
            stream,
            label,
        });
    }
    for (participant, stream) in ended(&b.recvs, &a_recv) {
        let label = b.label(&stream);
        out.push(Change::RecvStarted {
            participant,
            stream,
            label,
        });
    }
    for (id, label) in both().filter(|(id, _)| !a_busy.contains(id) && b_busy.contains(id)) {
        out.push(Change::StreamActive {
            id: id.clone(),
            label: label.clone(),
        });
    }
    out
}

//! Partial-update merge rules. RFC 7865 §5 says a partial update carries only
//! the changed elements but defines no per-element rules; these follow
//! REQUIREMENTS E-101 (consistent with the RFC 8068 §3 flows):
//! elements are keyed by type + id and updated field by field, a
//! `participantstreamassoc` replaces the participant's send/recv sets (E-81),
//! a `session` with any `sipSessionID` replaces the list, association times
//! close / reopen intervals, and a session `stop-time` disassociates everyone
//! still in that session (RFC 8068 §3.2.3: the old CS ends).

use std::collections::{HashMap, HashSet};

use crate::model::{
    Extension, Group, Metadata, Participant, ParticipantSessionAssoc, ParticipantStreamAssoc,
    Session, SessionRecordingAssoc, Stream,
};

/// Merges the partial update `doc` into `base`.
pub(crate) fn merge_partial(base: &mut Metadata, doc: &Metadata) {
    base.dialect = doc.dialect;
    if doc.recording_id.is_some() {
        base.recording_id.clone_from(&doc.recording_id);
    }
    merge_by_id(&mut base.groups, &doc.groups, |g| g.id.clone(), group);
    merge_by_id(&mut base.sessions, &doc.sessions, |s| s.id.clone(), session);
    merge_by_id(
        &mut base.participants,
        &doc.participants,
        |p| p.id.clone(),
        participant,
    );
    merge_by_id(&mut base.streams, &doc.streams, |s| s.id.clone(), stream);
    merge_by_id(
        &mut base.session_recording_assocs,
        &doc.session_recording_assocs,
        |a| a.session_id.clone(),
        session_recording,
    );
    merge_by_id(
        &mut base.participant_session_assocs,
        &doc.participant_session_assocs,
        |a| format!("{}\u{0}{}", a.participant_id, a.session_id),
        participant_session,
    );
    stream_assocs(
        &mut base.participant_stream_assocs,
        &doc.participant_stream_assocs,
    );
    merge_extensions(&mut base.extensions, &doc.extensions);
    stop_disassociates(base, doc);
}

/// Updates the LAST element with the same key (it holds the current interval),
/// or appends a new one.
fn merge_by_id<T: Clone>(
    base: &mut Vec<T>,
    new: &[T],
    key: impl Fn(&T) -> String,
    update: fn(&mut T, &T),
) {
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, e) in base.iter().enumerate() {
        index.insert(key(e), i);
    }
    for n in new {
        let k = key(n);
        match index.get(&k).and_then(|&i| base.get_mut(i)) {
            Some(old) => update(old, n),
            None => {
                index.insert(k, base.len());
                base.push(n.clone());
            }
        }
    }
}

/// `Some` fields of the update win; absent ones keep the old value.
fn set<T: Clone>(old: &mut Option<T>, new: &Option<T>) {
    if new.is_some() {
        old.clone_from(new);
    }
}

/// Extensions are keyed by (namespace, local name): a re-sent one replaces the
/// old copy (NetSapiens re-sends its whole extension with a new groupSeq).
fn merge_extensions(base: &mut Vec<Extension>, new: &[Extension]) {
    for n in new {
        match base
            .iter_mut()
            .find(|e| e.namespace == n.namespace && e.name == n.name)
        {
            Some(e) => e.clone_from(n),
            None => base.push(n.clone()),
        }
    }
}

fn group(old: &mut Group, new: &Group) {
    set(&mut old.associate_time, &new.associate_time);
    set(&mut old.disassociate_time, &new.disassociate_time);
    merge_extensions(&mut old.extensions, &new.extensions);
}

fn session(old: &mut Session, new: &Session) {
    // E-101 (b): RFC 8068 §3.3.3 drop re-lists the remaining Session-IDs.
    if !new.sip_session_ids.is_empty() {
        old.sip_session_ids.clone_from(&new.sip_session_ids);
    }
    set(&mut old.group_ref, &new.group_ref);
    set(&mut old.start_time, &new.start_time);
    set(&mut old.stop_time, &new.stop_time);
    set(&mut old.associate_time, &new.associate_time);
    if !new.reasons.is_empty() {
        old.reasons.clone_from(&new.reasons);
    }
    merge_extensions(&mut old.extensions, &new.extensions);
}

fn participant(old: &mut Participant, new: &Participant) {
    if !new.name_ids.is_empty() {
        old.name_ids.clone_from(&new.name_ids);
    }
    for s in &new.session_ids {
        if !old.session_ids.contains(s) {
            old.session_ids.push(s.clone());
        }
    }
    // Old shapes carry send/recv inside the participant; a participant re-sent
    // only for its name (RFC 7865 §8.2) must not lose them.
    if !new.send.is_empty() || !new.recv.is_empty() {
        old.send.clone_from(&new.send);
        old.recv.clone_from(&new.recv);
    }
    reopen_or_close(
        &mut old.associate_time,
        &mut old.disassociate_time,
        new.associate_time.as_ref(),
        new.disassociate_time.as_ref(),
    );
    merge_extensions(&mut old.extensions, &new.extensions);
}

fn stream(old: &mut Stream, new: &Stream) {
    set(&mut old.session_id, &new.session_id);
    set(&mut old.label, &new.label);
    set(&mut old.mode, &new.mode);
    set(&mut old.associate_time, &new.associate_time);
    merge_extensions(&mut old.extensions, &new.extensions);
}

fn session_recording(old: &mut SessionRecordingAssoc, new: &SessionRecordingAssoc) {
    reopen_or_close(
        &mut old.associate_time,
        &mut old.disassociate_time,
        new.associate_time.as_ref(),
        new.disassociate_time.as_ref(),
    );
    merge_extensions(&mut old.extensions, &new.extensions);
}

fn participant_session(old: &mut ParticipantSessionAssoc, new: &ParticipantSessionAssoc) {
    reopen_or_close(
        &mut old.associate_time,
        &mut old.disassociate_time,
        new.associate_time.as_ref(),
        new.disassociate_time.as_ref(),
    );
    if !new.params.is_empty() {
        old.params.clone_from(&new.params);
    }
    merge_extensions(&mut old.extensions, &new.extensions);
}

/// E-101 (c): an `associate-time` alone opens a new interval (clearing an old
/// `disassociate-time`); a `disassociate-time` closes the current one.
fn reopen_or_close<T: Clone>(
    assoc: &mut Option<T>,
    disassoc: &mut Option<T>,
    new_assoc: Option<&T>,
    new_disassoc: Option<&T>,
) {
    if let Some(a) = new_assoc {
        *assoc = Some(a.clone());
        if new_disassoc.is_none() {
            *disassoc = None;
        }
    }
    if let Some(d) = new_disassoc {
        *disassoc = Some(d.clone());
    }
}

/// E-81: a `participantstreamassoc` in an update REPLACES the participant's
/// send and recv sets; one with neither means "sends and receives nothing"
/// (Cisco inactive hold). Older copies for the same participant are dropped so
/// the merged document holds one current set per participant.
fn stream_assocs(base: &mut Vec<ParticipantStreamAssoc>, new: &[ParticipantStreamAssoc]) {
    for n in new {
        let mut first = true;
        base.retain_mut(|old| {
            if old.participant_id != n.participant_id {
                return true;
            }
            if !first {
                return false;
            }
            first = false;
            old.send.clone_from(&n.send);
            old.recv.clone_from(&n.recv);
            reopen_or_close(
                &mut old.associate_time,
                &mut old.disassociate_time,
                n.associate_time.as_ref(),
                n.disassociate_time.as_ref(),
            );
            merge_extensions(&mut old.extensions, &n.extensions);
            true
        });
        if first {
            base.push(n.clone());
        }
    }
}

/// RFC 8068 §3.2.3 / §3.2.4: a session `stop-time` ends every participant's
/// membership of that session, even when the SRC lists no disassociation.
fn stop_disassociates(base: &mut Metadata, doc: &Metadata) {
    for s in doc.sessions.iter().filter(|s| s.stop_time.is_some()) {
        let stop = base
            .sessions
            .iter()
            .rev()
            .find(|b| b.id == s.id)
            .and_then(|b| b.stop_time.clone());
        for a in base
            .participant_session_assocs
            .iter_mut()
            .filter(|a| a.session_id == s.id && a.disassociate_time.is_none())
        {
            a.disassociate_time.clone_from(&stop);
        }
    }
}

/// References in the partial `doc` to ids that the merged state `m` does not
/// declare (the SRS missed an update, or the SRC relies on one it never sent):
/// one message per unknown id, in document order.
pub(crate) fn unknown_refs(m: &Metadata, doc: &Metadata) -> Vec<String> {
    let participants: HashSet<&str> = m.participants.iter().map(|p| p.id.as_str()).collect();
    let sessions: HashSet<&str> = m.sessions.iter().map(|s| s.id.as_str()).collect();
    let streams: HashSet<&str> = m.streams.iter().map(|s| s.id.as_str()).collect();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut check = |kind: &str, id: &str, known: &HashSet<&str>, out: &mut Vec<String>| {
        if !known.contains(id) && seen.insert(format!("{kind}\u{0}{id}")) {
            out.push(format!(
                "partial update references {kind} {id:?} that no snapshot described"
            ));
        }
    };
    for a in &doc.participant_stream_assocs {
        check("participant", &a.participant_id, &participants, &mut out);
        for s in a.send.iter().chain(&a.recv) {
            check("stream", s, &streams, &mut out);
        }
    }
    for p in &doc.participants {
        for s in p.send.iter().chain(&p.recv) {
            check("stream", s, &streams, &mut out);
        }
    }
    for a in &doc.participant_session_assocs {
        check("participant", &a.participant_id, &participants, &mut out);
        check("session", &a.session_id, &sessions, &mut out);
    }
    for a in &doc.session_recording_assocs {
        check("session", &a.session_id, &sessions, &mut out);
    }
    for s in &doc.streams {
        if let Some(sid) = &s.session_id {
            check("session", sid, &sessions, &mut out);
        }
    }
    out
}

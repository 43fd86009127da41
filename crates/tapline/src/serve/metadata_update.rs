//! Metadata arriving inside a recording session (re-INVITE, UPDATE, BYE; RFC 7866 9): every
//! document is stored as received; complete snapshots and partial updates are merged
//! (RFC 7865 5, REQUIREMENTS E-100/E-101) and what changed is kept as the call's timeline.

use time::OffsetDateTime;

use tapline_metadata::{Change, Metadata, MetadataState, ResolvedParticipant, Role};
use tapline_store::{EventRow, ParticipantRow};

use super::core::Core;
use super::plan::CsRows;

/// The catalogue row of a resolved participant.
pub(crate) fn participant_row(p: &ResolvedParticipant) -> ParticipantRow {
    ParticipantRow {
        participant_id: p.id.clone(),
        aor: p.aor.clone(),
        name: p.name.clone(),
        role: p.role.map(|r| match r {
            Role::Caller => "caller".to_owned(),
            Role::Callee => "callee".to_owned(),
        }),
        role_source: p.role_source.clone(),
        sends: p.sends.clone(),
        receives: p.receives.clone(),
    }
}

/// Catalogue rows for a merged metadata state.
pub(crate) fn participant_rows(state: &MetadataState) -> Vec<ParticipantRow> {
    tapline_metadata::resolve(state.current())
        .participants
        .iter()
        .map(participant_row)
        .collect()
}

/// Roles stick: a participant keeps the role first decided for it; new participants get theirs
/// unless that role is already taken by someone else.
pub(crate) fn keep_roles(
    known: &mut std::collections::HashMap<String, (String, Option<String>)>,
    rows: &mut [ParticipantRow],
) {
    for row in rows.iter_mut() {
        if let Some((role, source)) = known.get(&row.participant_id) {
            row.role = Some(role.clone());
            row.role_source = source.clone();
        }
    }
    for row in rows.iter_mut() {
        if known.contains_key(&row.participant_id) {
            continue;
        }
        if let Some(role) = row.role.clone() {
            let taken = known.values().any(|(r, _)| *r == role);
            if taken {
                row.role = None;
                row.role_source = None;
            } else {
                known.insert(row.participant_id.clone(), (role, row.role_source.clone()));
            }
        }
    }
}

/// Timeline events for the changes of one update. A stream whose last sender lost its send
/// association is on hold (RFC 8068 3.2.2): the label is paused until someone sends it again.
pub(crate) fn events_for(changes: &[Change], at: OffsetDateTime, method: &str) -> Vec<EventRow> {
    let ev = |kind: &str,
              label: Option<&str>,
              participant: Option<&str>,
              details: serde_json::Value| EventRow {
        at,
        kind: kind.to_owned(),
        label: label.map(str::to_owned),
        participant_id: participant.map(str::to_owned),
        details: Some(details),
    };
    let mut out = Vec::new();
    for c in changes {
        let src = serde_json::json!({ "source": "metadata", "method": method });
        match c {
            Change::ParticipantJoined { id, aor } => out.push(ev(
                "participant_joined",
                None,
                Some(id),
                serde_json::json!({ "aor": aor, "method": method }),
            )),
            Change::ParticipantLeft { id } => out.push(ev("participant_left", None, Some(id), src)),
            Change::SendStarted {
                participant, label, ..
            } => out.push(ev("send_started", Some(label), Some(participant), src)),
            Change::SendStopped {
                participant, label, ..
            } => out.push(ev("send_stopped", Some(label), Some(participant), src)),
            // A live stream that lost its last sender is on hold; in a mixed stream other
            // participants may still send it (RFC 8068 3.3.2), so SendStopped alone is no pause.
            Change::StreamIdle { label, .. } => out.push(ev("pause", label.as_deref(), None, src)),
            Change::StreamActive { label, .. } => {
                out.push(ev("resume", label.as_deref(), None, src))
            }
            Change::RecvStarted {
                participant, label, ..
            } => out.push(ev("recv_started", Some(label), Some(participant), src)),
            Change::RecvStopped {
                participant, label, ..
            } => out.push(ev("recv_stopped", Some(label), Some(participant), src)),
            Change::StreamAdded { id, label } => out.push(ev(
                "metadata_stream_added",
                label.as_deref(),
                None,
                serde_json::json!({ "stream_id": id, "method": method }),
            )),
            Change::StreamRemoved { id, label } => out.push(ev(
                "metadata_stream_removed",
                label.as_deref(),
                None,
                serde_json::json!({ "stream_id": id, "method": method }),
            )),
            Change::SessionStarted { id } => out.push(ev(
                "cs_started",
                None,
                None,
                serde_json::json!({ "session_id": id, "method": method }),
            )),
            Change::SessionStopped { id } => out.push(ev(
                "cs_stopped",
                None,
                None,
                serde_json::json!({ "session_id": id, "method": method }),
            )),
            other => out.push(ev(
                "metadata_change",
                None,
                None,
                serde_json::json!({ "change": format!("{other:?}"), "method": method }),
            )),
        }
    }
    out
}

impl Core {
    /// Store and apply a metadata document received in `method` for session `num`.
    pub(crate) fn apply_metadata(
        &mut self,
        num: u64,
        raw: Vec<u8>,
        content_type: Option<String>,
        method: &str,
    ) {
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        let now = OffsetDateTime::now_utc();
        let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let parsed = tapline_metadata::parse(&raw);
        let parse_error = parsed.as_ref().err().map(|e| e.to_string());
        let mut events = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        let mut rows = None;
        let mut cs = None;
        let mut needs_snapshot = false;
        match &parsed {
            Ok(p) => match s.metadata.apply(&p.metadata, now_ms) {
                Ok(outcome) => {
                    warnings.extend(p.warnings.iter().map(|w| w.to_string()));
                    warnings.extend(outcome.warnings.iter().map(|w| w.to_string()));
                    events = events_for(&outcome.changes, now, method);
                    let mut r = participant_rows(&s.metadata);
                    keep_roles(&mut s.roles, &mut r);
                    rows = Some(r);
                    cs = Some(CsRows::from_metadata(s.metadata.current()));
                    needs_snapshot = outcome.needs_snapshot;
                }
                Err(e) => warnings.push(format!("metadata update in {method} not applied: {e}")),
            },
            Err(e) => warnings.push(format!("metadata in {method} unreadable: {e}")),
        }
        {
            let _e = s.span.enter();
            tracing::info!(
                method,
                changes = events.len(),
                error = parse_error.as_deref().unwrap_or("-"),
                "metadata received"
            );
            for w in &warnings {
                tracing::warn!(warning = %w, "metadata warning");
            }
        }
        let rec = s.recording_id.clone();
        let method_owned = method.to_owned();
        self.store.run(move |c| {
            // One transaction: a reader never sees a document without what it changed.
            let r = c.batch(|c| {
                c.add_metadata_document(
                    &rec,
                    now,
                    &method_owned,
                    content_type.as_deref(),
                    &raw,
                    parse_error.as_deref(),
                )?;
                if let Some(rows) = &rows {
                    c.replace_participants(&rec, rows)?;
                }
                if let Some(cs) = &cs {
                    c.replace_sessions(&rec, &cs.sessions, &cs.links)?;
                    c.set_group(&rec, cs.group.as_deref())?;
                }
                for e in &events {
                    c.add_event(&rec, e)?;
                }
                for w in &warnings {
                    c.add_warning(&rec, now, w)?;
                }
                Ok(())
            });
            if let Err(e) = r {
                tracing::error!(error = %e, "catalogue: metadata update");
                // The document itself is kept whatever else failed.
                let kept = c
                    .add_metadata_document(
                        &rec,
                        now,
                        &method_owned,
                        content_type.as_deref(),
                        &raw,
                        parse_error.as_deref(),
                    )
                    .and_then(|_| {
                        c.add_warning(&rec, now, &format!("metadata update not fully stored: {e}"))
                    });
                if let Err(e) = kept {
                    tracing::error!(error = %e, "catalogue: metadata document");
                }
            }
        });
        if needs_snapshot {
            self.request_snapshot(num, "a partial update refers to elements never received");
        }
    }
}

/// The first document of a session (the INVITE's): applied on an empty state.
pub(crate) fn initial_state(
    doc: &Metadata,
    at: OffsetDateTime,
) -> (MetadataState, Vec<EventRow>, Vec<String>, bool) {
    let mut state = MetadataState::new();
    let at_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    match state.apply(doc, at_ms) {
        Ok(outcome) => {
            let events = events_for(&outcome.changes, at, "INVITE");
            let warnings = outcome.warnings.iter().map(|w| w.to_string()).collect();
            (state, events, warnings, outcome.needs_snapshot)
        }
        Err(e) => (
            state,
            Vec::new(),
            vec![format!("metadata not applied: {e}")],
            false,
        ),
    }
}

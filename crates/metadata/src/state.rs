//! Per-recording-session metadata state (REQUIREMENTS E-100..E-103): complete
//! snapshots replace it, partial updates merge into it ([`crate::merge`]), and
//! every update yields the [`Change`]s a server stores as the call timeline.
//! Sans-IO: the caller passes the receive time (E-91 prefers SRS receive time
//! over the SRC's clock for ordering).

use crate::change::Change;
use crate::error::Warning;
use crate::merge::{merge_partial, unknown_refs};
use crate::model::{DataMode, Metadata};
use crate::resolve::{Resolution, resolve_opts};
use crate::timeline::{View, diff};

/// Bound on each element list of the merged state, so a stream of hostile
/// partial updates cannot grow it without end.
pub const MAX_ELEMENTS: usize = 10_000;

/// Why an update was refused; the state is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Applying the update would leave more than [`MAX_ELEMENTS`] of one kind.
    #[error("metadata update would hold {count} {kind} elements (limit {limit})")]
    TooManyElements {
        /// Element kind ("participant", "stream", ...).
        kind: &'static str,
        /// How many there would be.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

/// What applying one document did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApplyOutcome {
    /// The instant the changes are filed under (the caller's `at_ms`, never
    /// earlier than the previous update's).
    pub at_ms: i64,
    /// What changed, stops before starts.
    pub changes: Vec<Change>,
    /// Oddities: unknown references, partial before snapshot, clock going back.
    pub warnings: Vec<Warning>,
    /// The state may be incomplete: ask the SRC for a full snapshot (RFC 7866 §9.2).
    pub needs_snapshot: bool,
}

/// Merged metadata of one recording session.
#[derive(Debug, Clone, Default)]
pub struct MetadataState {
    current: Metadata,
    has_snapshot: bool,
    last_ms: Option<i64>,
    updates: u64,
}

impl MetadataState {
    /// An empty state (no snapshot yet).
    pub fn new() -> MetadataState {
        MetadataState::default()
    }

    /// Applies a parsed document received at `at_ms` (caller's clock, ms).
    pub fn apply(&mut self, doc: &Metadata, at_ms: i64) -> Result<ApplyOutcome, MergeError> {
        let mut warnings = Vec::new();
        let at_ms = match self.last_ms {
            Some(last) if at_ms < last => {
                warnings.push(Warning::new(format!(
                    "update time {at_ms} ms is before the previous update ({last} ms); filed at {last}"
                )));
                last
            }
            _ => at_ms,
        };
        let next = match doc.datamode {
            // E-101 (d), E-102: a complete snapshot replaces everything.
            DataMode::Complete => doc.clone(),
            DataMode::Partial => {
                let mut m = self.current.clone();
                merge_partial(&mut m, doc);
                m.datamode = if self.has_snapshot {
                    DataMode::Complete
                } else {
                    DataMode::Partial
                };
                m
            }
        };
        check_limits(&next)?;
        let mut needs_snapshot = false;
        if doc.datamode == DataMode::Partial {
            if !self.has_snapshot {
                // RFC 7866 §9.1: partial updates follow a complete snapshot.
                needs_snapshot = true;
                warnings.push(Warning::new(
                    "partial update before any complete snapshot; applied to an empty state",
                ));
            }
            let unknown = unknown_refs(&next, doc);
            needs_snapshot |= !unknown.is_empty();
            warnings.extend(unknown.into_iter().map(Warning));
        }
        if let (Some(old), Some(new)) = (&self.current.recording_id, &doc.recording_id) {
            if old != new && self.updates > 0 {
                warnings.push(Warning::new(format!(
                    "recording id changed from {old:?} to {new:?}"
                )));
            }
        }
        let changes = diff(&View::of(&self.current), &View::of(&next));
        self.current = next;
        self.has_snapshot |= doc.datamode == DataMode::Complete;
        self.last_ms = Some(at_ms);
        self.updates = self.updates.saturating_add(1);
        Ok(ApplyOutcome {
            at_ms,
            changes,
            warnings,
            needs_snapshot,
        })
    }

    /// The merged document: every element ever described (until a complete
    /// snapshot replaced them), with the latest field values and times.
    /// `resolve(state.current())` answers "who sent what during the recording".
    pub fn current(&self) -> &Metadata {
        &self.current
    }

    /// True once a complete snapshot was applied.
    pub fn has_snapshot(&self) -> bool {
        self.has_snapshot
    }

    /// Who sends / receives what NOW: like `resolve(self.current())` but
    /// participants who left, closed stream associations and streams of ended
    /// sessions contribute nothing.
    pub fn resolve_now(&self) -> Resolution {
        // Guess by document order (E-83) only when the SRC never sent any
        // send/recv, not because everyone has left.
        let c = &self.current;
        let infer = c
            .participants
            .iter()
            .all(|p| p.send.is_empty() && p.recv.is_empty())
            && c.participant_stream_assocs
                .iter()
                .all(|a| a.send.is_empty() && a.recv.is_empty());
        let view = View::of(&self.current);
        let here = view.participant_ids();
        let dead = view.dead_streams(&self.current);
        let keep = |ids: &mut Vec<String>| ids.retain(|s| !dead.contains(s.as_str()));
        let mut m = self.current.clone();
        for p in &mut m.participants {
            if !here.contains(p.id.as_str()) {
                p.send.clear();
                p.recv.clear();
            }
            keep(&mut p.send);
            keep(&mut p.recv);
        }
        for a in &mut m.participant_stream_assocs {
            if a.disassociate_time.is_some() || !here.contains(a.participant_id.as_str()) {
                a.send.clear();
                a.recv.clear();
            }
            keep(&mut a.send);
            keep(&mut a.recv);
        }
        resolve_opts(&m, infer)
    }
}

fn check_limits(m: &Metadata) -> Result<(), MergeError> {
    let counts = [
        ("group", m.groups.len()),
        ("session", m.sessions.len()),
        ("participant", m.participants.len()),
        ("stream", m.streams.len()),
        ("sessionrecordingassoc", m.session_recording_assocs.len()),
        (
            "participantsessionassoc",
            m.participant_session_assocs.len(),
        ),
        ("participantstreamassoc", m.participant_stream_assocs.len()),
        ("extension", m.extensions.len()),
    ];
    for (kind, count) in counts {
        if count > MAX_ELEMENTS {
            return Err(MergeError::TooManyElements {
                kind,
                count,
                limit: MAX_ELEMENTS,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;

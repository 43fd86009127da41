//! A new offer inside an existing session (re-INVITE or UPDATE, RFC 3264 section 8): what it
//! does to each m-line compared with the session in force. m-lines are never deleted (8.2): a
//! stream is removed with port 0, added at a new index or by reusing a disabled one (8.1), and
//! paused with `a=inactive`/`a=recvonly`/`c=0.0.0.0` (RFC 7866 7.1.1.1, REQUIREMENTS C-13).

use crate::answer::StreamDecision;
use crate::model::Direction;

/// The negotiated state of one m-line before the new offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedStream {
    /// Whether we receive it (accepted with a port).
    pub active: bool,
    /// Its `a=label`.
    pub label: Option<String>,
    /// The payload type chosen in our last answer.
    pub payload_type: Option<u8>,
    /// Whether the SRC had it paused (inactive, recvonly or c=0.0.0.0).
    pub paused: bool,
}

/// What the new offer does to one m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamChange {
    /// The stream goes on (same label): maybe paused, resumed or switched to another codec.
    Kept {
        /// m-line index.
        index: usize,
        /// Paused now.
        paused: bool,
        /// Paused before.
        was_paused: bool,
        /// The chosen payload type differs from the last answer's.
        codec_changed: bool,
    },
    /// A new stream at this index (a new m-line, a reused disabled one, or a new label on an
    /// active one, which RFC 7866 7.1.1.1 treats as a new stream).
    Added {
        /// m-line index.
        index: usize,
        /// The stream it replaces at this index, if one was active.
        replaces_active: bool,
    },
    /// The stream is disabled now (port 0 or no longer acceptable).
    Removed {
        /// m-line index.
        index: usize,
    },
    /// Rejected before and now.
    StillRejected {
        /// m-line index.
        index: usize,
    },
}

/// Whether the SRC stopped sending on an accepted stream: RFC 3264 directions that exclude
/// sending, or the legacy hold address `c=0.0.0.0` (RFC 3264 8.4).
pub fn is_paused(decision: &StreamDecision) -> bool {
    match decision {
        StreamDecision::Accept {
            offered_direction,
            remote,
            ..
        } => {
            matches!(offered_direction, Direction::Inactive | Direction::RecvOnly)
                || remote.is_none()
        }
        StreamDecision::Reject { .. } => false,
    }
}

/// What our answer negotiated per m-line: `ports[i]` is the port we answered m-line `i` with
/// (0 when rejected). This is the `previous` of the next [`compare_reoffer`].
pub fn negotiated(decisions: &[StreamDecision], ports: &[u16]) -> Vec<NegotiatedStream> {
    decisions
        .iter()
        .map(|d| match d {
            StreamDecision::Accept {
                label,
                payload_type,
                ..
            } => NegotiatedStream {
                active: ports.get(d.index()).is_some_and(|p| *p != 0),
                label: label.clone(),
                payload_type: Some(*payload_type),
                paused: is_paused(d),
            },
            StreamDecision::Reject { label, .. } => NegotiatedStream {
                active: false,
                label: label.clone(),
                payload_type: None,
                paused: false,
            },
        })
        .collect()
}

/// Compare the plan for a new offer (`plan_answer` of it) with the session in force.
pub fn compare_reoffer(
    previous: &[NegotiatedStream],
    decisions: &[StreamDecision],
) -> Vec<StreamChange> {
    decisions
        .iter()
        .map(|d| {
            let index = d.index();
            let prev = previous.get(index);
            let was_active = prev.is_some_and(|p| p.active);
            match d {
                StreamDecision::Reject { .. } if was_active => StreamChange::Removed { index },
                StreamDecision::Reject { .. } => StreamChange::StillRejected { index },
                StreamDecision::Accept {
                    label,
                    payload_type,
                    ..
                } => match prev {
                    Some(p) if p.active && p.label == *label => StreamChange::Kept {
                        index,
                        paused: is_paused(d),
                        was_paused: p.paused,
                        codec_changed: p.payload_type != Some(*payload_type),
                    },
                    _ => StreamChange::Added {
                        index,
                        replaces_active: was_active,
                    },
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CodecPref, SessionDescription, plan_answer};

    const PCM: &[CodecPref] = &[
        CodecPref {
            encoding: "PCMU",
            clock_rate: 8000,
        },
        CodecPref {
            encoding: "PCMA",
            clock_rate: 8000,
        },
    ];

    fn offer(lines: &[&str]) -> Vec<StreamDecision> {
        let mut text = String::from(
            "v=0\r\no=src 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n",
        );
        for l in lines {
            text.push_str(l);
            text.push_str("\r\n");
        }
        plan_answer(&SessionDescription::parse(&text).unwrap(), PCM)
    }

    fn prev(labels: &[(&str, bool, u8)]) -> Vec<NegotiatedStream> {
        labels
            .iter()
            .map(|(l, active, pt)| NegotiatedStream {
                active: *active,
                label: Some((*l).to_owned()),
                payload_type: Some(*pt),
                paused: false,
            })
            .collect()
    }

    #[test]
    fn unchanged_offer_keeps_everything() {
        let d = offer(&[
            "m=audio 4000 RTP/AVP 0",
            "a=label:1",
            "a=sendonly",
            "m=audio 4002 RTP/AVP 0",
            "a=label:2",
            "a=sendonly",
        ]);
        let c = compare_reoffer(&prev(&[("1", true, 0), ("2", true, 0)]), &d);
        assert_eq!(
            c,
            vec![
                StreamChange::Kept {
                    index: 0,
                    paused: false,
                    was_paused: false,
                    codec_changed: false
                },
                StreamChange::Kept {
                    index: 1,
                    paused: false,
                    was_paused: false,
                    codec_changed: false
                },
            ]
        );
    }

    #[test]
    fn hold_forms_are_pauses() {
        let d = offer(&[
            "m=audio 4000 RTP/AVP 0",
            "a=label:1",
            "a=inactive",
            "m=audio 4002 RTP/AVP 0",
            "c=IN IP4 0.0.0.0",
            "a=label:2",
            "m=audio 4004 RTP/AVP 0",
            "a=label:3",
            "a=recvonly",
        ]);
        let c = compare_reoffer(&prev(&[("1", true, 0), ("2", true, 0), ("3", true, 0)]), &d);
        for ch in c {
            assert!(
                matches!(
                    ch,
                    StreamChange::Kept {
                        paused: true,
                        was_paused: false,
                        ..
                    }
                ),
                "{ch:?}"
            );
        }
    }

    #[test]
    fn removal_addition_reuse_and_codec_change() {
        let d = offer(&[
            "m=audio 0 RTP/AVP 0",
            "a=label:1",
            "m=audio 4002 RTP/AVP 8 0",
            "a=label:2",
            "m=audio 4004 RTP/AVP 0",
            "a=label:7",
            "m=audio 4006 RTP/AVP 0",
            "a=label:4",
        ]);
        let mut p = prev(&[("1", true, 0), ("2", true, 0), ("3", false, 0)]);
        p[2].label = Some("3".into());
        let c = compare_reoffer(&p, &d);
        assert_eq!(c[0], StreamChange::Removed { index: 0 });
        assert_eq!(
            c[1],
            StreamChange::Kept {
                index: 1,
                paused: false,
                was_paused: false,
                codec_changed: true
            }
        );
        assert_eq!(
            c[2],
            StreamChange::Added {
                index: 2,
                replaces_active: false
            }
        );
        assert_eq!(
            c[3],
            StreamChange::Added {
                index: 3,
                replaces_active: false
            }
        );
    }

    #[test]
    fn new_label_on_an_active_line_is_a_new_stream() {
        let d = offer(&["m=audio 4000 RTP/AVP 0", "a=label:9"]);
        let c = compare_reoffer(&prev(&[("1", true, 0)]), &d);
        assert_eq!(
            c,
            vec![StreamChange::Added {
                index: 0,
                replaces_active: true
            }]
        );
    }

    #[test]
    fn resume_after_pause() {
        let d = offer(&["m=audio 4000 RTP/AVP 0", "a=label:1", "a=sendonly"]);
        let mut p = prev(&[("1", true, 0)]);
        p[0].paused = true;
        let c = compare_reoffer(&p, &d);
        assert_eq!(
            c,
            vec![StreamChange::Kept {
                index: 0,
                paused: false,
                was_paused: true,
                codec_changed: false
            }]
        );
    }
}

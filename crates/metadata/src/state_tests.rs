//! Merge rules and timeline on small hand-written documents.

use super::*;
use crate::parse;

const NS: &str = "urn:ietf:params:xml:ns:recording:1";

fn doc(mode: &str, body: &str) -> Metadata {
    let x = format!("<recording xmlns='{NS}'><datamode>{mode}</datamode>{body}</recording>");
    parse(x.as_bytes()).unwrap().metadata
}

/// Session s, participants a and b, streams x (label 1, sent by a) and y (label 2, sent by b).
fn call() -> MetadataState {
    let mut st = MetadataState::new();
    let base = doc(
        "complete",
        "<session session_id='s'/>\
         <participant participant_id='a'><nameID aor='sip:a@h'/></participant>\
         <participant participant_id='b'><nameID aor='sip:b@h'/></participant>\
         <stream stream_id='x' session_id='s'><label>1</label></stream>\
         <stream stream_id='y' session_id='s'><label>2</label></stream>\
         <participantsessionassoc participant_id='a' session_id='s'/>\
         <participantsessionassoc participant_id='b' session_id='s'/>\
         <participantstreamassoc participant_id='a'><send>x</send><recv>y</recv></participantstreamassoc>\
         <participantstreamassoc participant_id='b'><send>y</send><recv>x</recv></participantstreamassoc>",
    );
    let o = st.apply(&base, 0).unwrap();
    assert_eq!(o.changes.len(), 1 + 2 + 2 + 2 + 2, "{:?}", o.changes);
    st
}

fn partial(st: &mut MetadataState, body: &str, at: i64) -> ApplyOutcome {
    st.apply(&doc("partial", body), at).unwrap()
}

fn send(p: &str, s: &str, l: &str, started: bool) -> Change {
    let (participant, stream, label) = (p.to_string(), s.to_string(), l.to_string());
    if started {
        Change::SendStarted {
            participant,
            stream,
            label,
        }
    } else {
        Change::SendStopped {
            participant,
            stream,
            label,
        }
    }
}

fn recv(p: &str, s: &str, l: &str, started: bool) -> Change {
    let (participant, stream, label) = (p.to_string(), s.to_string(), l.to_string());
    if started {
        Change::RecvStarted {
            participant,
            stream,
            label,
        }
    } else {
        Change::RecvStopped {
            participant,
            stream,
            label,
        }
    }
}

fn idle(id: &str, label: &str, idle: bool) -> Change {
    let (id, label) = (id.to_string(), Some(label.to_string()));
    if idle {
        Change::StreamIdle { id, label }
    } else {
        Change::StreamActive { id, label }
    }
}

#[test]
fn empty_stream_assoc_is_inactive_hold() {
    // E-81 / Cisco inactive: neither send nor recv = nothing at all; still present.
    let mut st = call();
    let o = partial(&mut st, "<participantstreamassoc participant_id='a'/>", 10);
    assert_eq!(
        o.changes,
        [
            send("a", "x", "1", false),
            recv("a", "y", "2", false),
            idle("x", "1", true)
        ]
    );
    assert!(!o.needs_snapshot && o.warnings.is_empty());
    let o = partial(
        &mut st,
        "<participantstreamassoc participant_id='a'><send>x</send></participantstreamassoc>",
        20,
    );
    assert_eq!(
        o.changes,
        [send("a", "x", "1", true), idle("x", "1", false)]
    );
}

#[test]
fn stream_assoc_intervals_close_and_reopen() {
    let mut st = call();
    let close = "<participantstreamassoc participant_id='b'><send>y</send><recv>x</recv>\
                 <disassociate-time>2020-01-01T00:00:10Z</disassociate-time></participantstreamassoc>";
    let o = partial(&mut st, close, 10);
    assert_eq!(
        o.changes,
        [
            send("b", "y", "2", false),
            recv("b", "x", "1", false),
            idle("y", "2", true)
        ]
    );
    let reopen = "<participantstreamassoc participant_id='b'><send>y</send>\
                  <associate-time>2020-01-01T00:00:20Z</associate-time></participantstreamassoc>";
    let o = partial(&mut st, reopen, 20);
    assert_eq!(
        o.changes,
        [send("b", "y", "2", true), idle("y", "2", false)]
    );
    let a = &st.current().participant_stream_assocs[1];
    assert!(a.disassociate_time.is_none() && a.associate_time.is_some());
    assert_eq!(st.current().participant_stream_assocs.len(), 2);
}

#[test]
fn participant_leaves_and_rejoins() {
    let mut st = call();
    let o = partial(
        &mut st,
        "<participantsessionassoc participant_id='b' session_id='s'>\
         <disassociate-time>2020-01-01T00:00:10Z</disassociate-time></participantsessionassoc>",
        10,
    );
    assert_eq!(
        o.changes,
        [
            send("b", "y", "2", false),
            recv("b", "x", "1", false),
            Change::ParticipantLeft { id: "b".into() },
            idle("y", "2", true)
        ]
    );
    // A new interval: b is back with the send/recv sets the state still holds.
    let o = partial(
        &mut st,
        "<participantsessionassoc participant_id='b' session_id='s'>\
         <associate-time>2020-01-01T00:00:20Z</associate-time></participantsessionassoc>",
        20,
    );
    assert_eq!(
        o.changes,
        [
            Change::ParticipantJoined {
                id: "b".into(),
                aor: Some("sip:b@h".into())
            },
            send("b", "y", "2", true),
            recv("b", "x", "1", true),
            idle("y", "2", false)
        ]
    );
    assert_eq!(st.current().participant_session_assocs.len(), 2);
    assert!(
        st.current().participant_session_assocs[1]
            .disassociate_time
            .is_none()
    );
}

#[test]
fn unknown_references_ask_for_a_snapshot() {
    let mut st = call();
    let o = partial(
        &mut st,
        "<participantstreamassoc participant_id='ghost'><send>x</send><recv>zz</recv></participantstreamassoc>\
         <participantsessionassoc participant_id='a' session_id='s9'/>",
        10,
    );
    assert!(o.needs_snapshot);
    let w: Vec<&str> = o.warnings.iter().map(|w| w.0.as_str()).collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("participant \"ghost\""));
    assert!(w[1].contains("stream \"zz\""));
    assert!(w[2].contains("session \"s9\""));
    // The unknown participant still shows up in the timeline.
    assert!(o.changes.contains(&send("ghost", "x", "1", true)));
    assert!(o.changes.contains(&recv("ghost", "zz", "zz", true)));
}

#[test]
fn labels_groups_and_recording_assoc() {
    let mut st = call();
    let o = partial(
        &mut st,
        "<group group_id='g'/><session session_id='s'><group-ref>g</group-ref></session>\
         <stream stream_id='x'><label>9</label></stream>",
        10,
    );
    assert_eq!(
        o.changes,
        [
            Change::StreamRemoved {
                id: "x".into(),
                label: Some("1".into())
            },
            Change::GroupStarted { id: "g".into() },
            Change::SessionGroupChanged {
                session: "s".into(),
                group: Some("g".into())
            },
            Change::StreamAdded {
                id: "x".into(),
                label: Some("9".into())
            },
        ]
    );
    // The stream kept its session (field-by-field update).
    assert_eq!(st.current().streams[0].session_id.as_deref(), Some("s"));
    // The CS leaves the recording session: everything in it stops.
    let o = partial(
        &mut st,
        "<sessionrecordingassoc session_id='s'><disassociate-time>2020-01-01T00:00:30Z</disassociate-time></sessionrecordingassoc>",
        30,
    );
    assert!(
        o.changes
            .contains(&Change::SessionStopped { id: "s".into() })
    );
    assert!(
        o.changes
            .contains(&Change::ParticipantLeft { id: "a".into() })
    );
    assert!(
        !o.changes
            .iter()
            .any(|c| matches!(c, Change::GroupEnded { .. }))
    );
}

#[test]
fn old_shape_participants_merge() {
    // Oracle / draft shape: send inside the participant, no associations.
    let mut st = MetadataState::new();
    let base = doc(
        "complete",
        "<session id='s'/><participant id='a' session='s'><send>x</send></participant>\
         <stream id='x' session='s'><label>7</label></stream>",
    );
    st.apply(&base, 0).unwrap();
    // A participant re-sent without send keeps its set; with disassociate-time it leaves.
    let o = partial(
        &mut st,
        "<participant id='a'><nameID aor='sip:a@h'/></participant>",
        1,
    );
    assert!(o.changes.is_empty(), "{:?}", o.changes);
    assert_eq!(st.current().participants[0].send, ["x"]);
    let o = partial(
        &mut st,
        "<participant id='a'><disassociate-time>2020-01-01T00:00:00Z</disassociate-time></participant>",
        2,
    );
    assert_eq!(
        o.changes,
        [
            send("a", "x", "7", false),
            Change::ParticipantLeft { id: "a".into() },
            idle("x", "7", true)
        ]
    );
}

#[test]
fn clock_going_back_is_clamped() {
    let mut st = call();
    partial(&mut st, "", 100);
    let o = partial(&mut st, "", 50);
    assert_eq!(o.at_ms, 100);
    assert!(o.warnings[0].0.contains("before the previous update"));
    assert!(o.changes.is_empty());
}

#[test]
fn recording_id_change_is_reported() {
    let mut st = MetadataState::new();
    let a = parse(b"<recording id='r1'><participant participant_id='p'/></recording>").unwrap();
    st.apply(&a.metadata, 0).unwrap();
    let b = parse(b"<recording id='r2'><datamode>partial</datamode></recording>").unwrap();
    let o = st.apply(&b.metadata, 1).unwrap();
    assert!(o.warnings.iter().any(|w| w.0.contains("\"r1\" to \"r2\"")));
    assert_eq!(st.current().recording_id.as_deref(), Some("r2"));
}

#[test]
fn too_many_elements_is_refused_and_state_kept() {
    let mut st = call();
    let mut body = String::new();
    for i in 0..=MAX_ELEMENTS {
        body.push_str(&format!("<stream stream_id='n{i}'/>"));
    }
    let e = st.apply(&doc("partial", &body), 10).unwrap_err();
    assert_eq!(
        e,
        MergeError::TooManyElements {
            kind: "stream",
            count: MAX_ELEMENTS + 2 + 1,
            limit: MAX_ELEMENTS
        }
    );
    assert_eq!(st.current().streams.len(), 2);
    assert!(e.to_string().contains("limit 10000"));
}

//! RFC 7865 §8 and every RFC 8068 flow applied step by step on a
//! [`MetadataState`]: the merged state and the timeline changes of each step.

use super::*;
use crate::{ApplyOutcome, Change, Metadata, MetadataState};

/// The parsed document of a corpus file.
fn doc(rel: &str) -> Metadata {
    load(rel).0.metadata
}

/// Applies an RFC corpus file at `at` ms.
pub(super) fn step(st: &mut MetadataState, rel: &str, at: i64) -> ApplyOutcome {
    st.apply(&doc(&format!("rfc/{rel}")), at)
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// One line per change: `send- alice 97`, `join carol sip:..`, `cs+ hVpd`.
pub(super) fn lines(o: &ApplyOutcome, names: &[(&str, &str)]) -> Vec<String> {
    let who = |id: &str| {
        names
            .iter()
            .find(|(p, _)| id.starts_with(p))
            .map_or_else(|| id.to_string(), |(_, n)| (*n).to_string())
    };
    let short = |id: &str| id.chars().take(4).collect::<String>();
    let lbl = |l: &Option<String>, id: &str| l.clone().unwrap_or_else(|| id.to_string());
    o.changes
        .iter()
        .map(|c| match c {
            Change::GroupStarted { id } => format!("group+ {}", short(id)),
            Change::GroupEnded { id } => format!("group- {}", short(id)),
            Change::SessionStarted { id } => format!("cs+ {}", short(id)),
            Change::SessionStopped { id } => format!("cs- {}", short(id)),
            Change::SessionGroupChanged { session, group } => format!(
                "group-ref {} {}",
                short(session),
                short(group.as_deref().unwrap_or("-"))
            ),
            Change::SipSessionIdsChanged { session, ids } => format!(
                "sipids {} {}",
                short(session),
                ids.iter().map(|i| short(i)).collect::<Vec<_>>().join(",")
            ),
            Change::StreamAdded { id, label } => format!("stream+ {}", lbl(label, id)),
            Change::StreamRemoved { id, label } => format!("stream- {}", lbl(label, id)),
            Change::ParticipantJoined { id, aor } => {
                format!("join {} {}", who(id), aor.as_deref().unwrap_or("-"))
            }
            Change::ParticipantLeft { id } => format!("left {}", who(id)),
            Change::SendStarted {
                participant, label, ..
            } => {
                format!("send+ {} {label}", who(participant))
            }
            Change::SendStopped {
                participant, label, ..
            } => {
                format!("send- {} {label}", who(participant))
            }
            Change::RecvStarted {
                participant, label, ..
            } => {
                format!("recv+ {} {label}", who(participant))
            }
            Change::StreamIdle { id, label } => format!("idle {}", lbl(label, id)),
            Change::StreamActive { id, label } => format!("active {}", lbl(label, id)),
            Change::RecvStopped {
                participant, label, ..
            } => {
                format!("recv- {} {label}", who(participant))
            }
        })
        .collect()
}

pub(super) const AB: &[(&str, &str)] = &[("srfB", "alice"), ("zSfP", "bob"), ("Atnm", "carol")];

/// (id prefix, sends, receives) of `resolve_now`.
pub(super) fn now(st: &MetadataState) -> Vec<(String, Vec<String>, Vec<String>)> {
    st.resolve_now()
        .participants
        .into_iter()
        .map(|p| (p.id.chars().take(4).collect(), p.sends, p.receives))
        .collect()
}

pub(super) fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| (*x).to_string()).collect()
}

pub(super) fn basic(st: &mut MetadataState) {
    let o = step(st, "rfc8068-3.2.1-basic-metadata.xml", 1_000);
    assert_eq!(
        lines(&o, AB),
        [
            "group+ 7+OT",
            "cs+ hVpd",
            "group-ref hVpd 7+OT",
            "sipids hVpd ab30",
            "stream+ 96",
            "stream+ 97",
            "stream+ 98",
            "stream+ 99",
            "join alice sip:alice@atlanta.com",
            "join bob sip:bob@biloxy.com",
            "send+ alice 97",
            "send+ alice 96",
            "send+ bob 98",
            "send+ bob 99",
            "recv+ alice 98",
            "recv+ alice 99",
            "recv+ bob 96",
            "recv+ bob 97",
        ]
    );
    assert!(!o.needs_snapshot && o.warnings.is_empty(), "{o:?}");
    assert!(st.has_snapshot());
}

/// Every participant of a two-party call stops and leaves, the CS ends.
pub(super) const CALL_ENDS: &[&str] = &[
    "send- alice 97",
    "send- alice 96",
    "send- bob 98",
    "send- bob 99",
    "recv- alice 98",
    "recv- alice 99",
    "recv- bob 96",
    "recv- bob 97",
    "left alice",
    "left bob",
    "stream- 96",
    "stream- 97",
    "stream- 98",
    "stream- 99",
    "cs- hVpd",
];

#[test]
fn rfc7865_partial_on_complete() {
    let mut st = MetadataState::new();
    step(&mut st, "rfc7865-8.1-complete.xml", 1_000);
    let o = step(&mut st, "rfc7865-8.2-partial.xml", 2_000);
    let names = &[("srfB", "bob"), ("zSfP", "paul")];
    assert_eq!(
        lines(&o, names),
        [
            "send- bob 97",
            "send- bob 96",
            "recv- bob 98",
            "recv- bob 99",
            "left bob",
            "idle 96",
            "idle 97"
        ]
    );
    assert!(!o.needs_snapshot && o.warnings.is_empty(), "{o:?}");
    assert_eq!(o.at_ms, 2_000);
    let m = st.current();
    // Bob's re-sent participant element did not lose anything; his
    // membership now has both ends.
    assert_eq!(m.participants.len(), 2);
    let a = &m.participant_session_assocs[0];
    assert!(a.associate_time.is_some() && a.disassociate_time.is_some());
    // The merged document still says what Bob sent; "now" he sends nothing.
    assert_eq!(resolve(m).participants[0].sends, ["97", "96"]);
    assert_eq!(
        now(&st),
        [
            ("srfB".into(), vec![], vec![]),
            ("zSfP".into(), v(&["98", "99"]), v(&["96", "97"]))
        ]
    );
}

#[test]
fn rfc8068_hold_and_resume() {
    let mut st = MetadataState::new();
    basic(&mut st);
    let o = step(&mut st, "rfc8068-3.2.2-hold-metadata.xml", 2_000);
    assert_eq!(
        lines(&o, AB),
        [
            "send- alice 97",
            "send- alice 96",
            "recv- bob 96",
            "recv- bob 97",
            // Nobody sends Alice's labels any more: pause them.
            "idle 96",
            "idle 97"
        ]
    );
    assert!(!o.needs_snapshot && o.warnings.is_empty(), "{o:?}");
    // Labels resolve against the merged streams although the partial had none.
    let r = resolve(st.current());
    assert!(r.participants[0].sends.is_empty());
    assert_eq!(r.participants[0].receives, ["98", "99"]);
    assert_eq!(r.participants[1].sends, ["98", "99"]);
    assert!(r.participants[1].receives.is_empty());
    let o = step(&mut st, "rfc8068-3.2.2-resume-metadata.xml", 3_000);
    assert_eq!(
        lines(&o, AB),
        [
            "send+ alice 97",
            "send+ alice 96",
            "recv+ bob 97",
            "recv+ bob 96",
            "active 96",
            "active 97"
        ]
    );
    assert_eq!(
        now(&st),
        [
            ("srfB".into(), v(&["97", "96"]), v(&["98", "99"])),
            ("zSfP".into(), v(&["98", "99"]), v(&["97", "96"]))
        ]
    );
}

#[test]
fn rfc8068_reinvite_transfer() {
    let mut st = MetadataState::new();
    basic(&mut st);
    let o = step(&mut st, "rfc8068-3.2.3-transfer-metadata.xml", 2_000);
    let (c1, c2) = ("60JAJm9UTvik0Ltlih/Gzw==", "AcR5FUd3Edi8cACQJy/3JQ==");
    assert_eq!(
        lines(&o, AB),
        [
            "send- alice 97",
            "send- alice 96",
            "recv- alice 98",
            "recv- alice 99",
            "recv- bob 96",
            "recv- bob 97",
            "left alice",
            // Carol sends under new, undescribed stream ids.
            "idle 96",
            "idle 97",
            "sipids hVpd 3363",
            "join carol sip:carol@example.com",
            &format!("send+ carol {c1}"),
            &format!("send+ carol {c2}"),
            &format!("recv+ bob {c1}"),
            &format!("recv+ bob {c2}"),
            "recv+ carol 98",
            "recv+ carol 99",
        ]
    );
    // Carol's streams were never described: the SRS should ask for a snapshot.
    assert!(o.needs_snapshot);
    assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
    assert!(o.warnings[0].0.contains(&format!("stream {c1:?}")));
    let m = st.current();
    assert_eq!(
        m.sessions[0].sip_session_ids,
        ["3363127f0d084c10876dddd4f8e5eeb9;remote=2272bb7e70fe41dba0025ae9a26d54cf"]
    );
    assert_eq!(
        now(&st),
        [
            ("srfB".into(), vec![], vec![]),
            ("zSfP".into(), v(&["98", "99"]), v(&[c1, c2])),
            ("Atnm".into(), v(&[c1, c2]), v(&["98", "99"]))
        ]
    );
}

#[test]
fn rfc8068_refer_transfer_old_cs_stop_then_new_snapshot() {
    let mut st = MetadataState::new();
    basic(&mut st);
    let o = step(
        &mut st,
        "rfc8068-3.2.3-refer-transfer-old-cs-metadata.xml",
        2_000,
    );
    assert_eq!(lines(&o, AB), CALL_ENDS);
    assert!(!o.needs_snapshot);
    let o = step(
        &mut st,
        "rfc8068-3.2.3-refer-transfer-new-cs-metadata.xml",
        3_000,
    );
    assert_eq!(
        lines(&o, AB),
        [
            // The new complete snapshot has no group: the old one is gone.
            "group- 7+OT",
            "cs+ bfLZ",
            "sipids bfLZ 3363",
            "stream+ 96",
            "stream+ 97",
            "stream+ 98",
            "stream+ 99",
            "join bob sip:Bob@biloxy.com",
            "join carol sip:carol@example.com",
            "send+ bob 98",
            "send+ bob 99",
            "send+ carol 96",
            "send+ carol 97",
            "recv+ bob 96",
            "recv+ bob 97",
            "recv+ carol 98",
            "recv+ carol 99",
        ]
    );
    assert!(!o.needs_snapshot && o.warnings.is_empty(), "{o:?}");
    // E-102: the complete snapshot is the new base.
    assert_eq!(st.current().sessions.len(), 1);
    assert_eq!(st.current().participants.len(), 2);
}

#[test]
fn rfc8068_bye_and_persistent_disconnect() {
    for f in [
        "rfc8068-3.2.4-bye-metadata.xml",
        "rfc8068-3.4.1-persistent-cs-disconnect-metadata.xml",
    ] {
        let mut st = MetadataState::new();
        basic(&mut st);
        let o = step(&mut st, f, 2_000);
        assert_eq!(lines(&o, AB), CALL_ENDS, "{f}");
        assert!(!o.needs_snapshot && o.warnings.is_empty(), "{f}: {o:?}");
        let s = &st.current().sessions[0];
        assert_eq!(
            s.stop_time.as_ref().and_then(|t| t.unix_ms),
            Some(1_292_542_867_000)
        );
        // Nothing is sent any more; the merged document keeps the history.
        assert!(
            now(&st)
                .iter()
                .all(|(_, s, r)| s.is_empty() && r.is_empty())
        );
        assert_eq!(resolve(st.current()).participants[1].sends, ["98", "99"]);
    }
}

#[test]
fn rfc8068_stop_time_alone_disassociates_everyone() {
    // RFC 8068 §3.2.3: the old CS's stop-time ends every membership even when
    // the SRC sends no participantsessionassoc.
    let mut st = MetadataState::new();
    basic(&mut st);
    let stop = parse(
        b"<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>partial</datamode>\
          <session session_id='hVpd7YQgRW2nD22h7q60JQ=='><stop-time>2010-12-16T23:45:00Z</stop-time></session></recording>",
    )
    .unwrap()
    .metadata;
    let o = st.apply(&stop, 2_000).unwrap();
    assert_eq!(lines(&o, AB), CALL_ENDS);
    assert!(
        st.current().participant_session_assocs.iter().all(|a| a
            .disassociate_time
            .as_ref()
            .map(|t| t.raw.as_str())
            == Some("2010-12-16T23:45:00Z"))
    );
}

//! RFC 8068 §3.3 (mixing, conference join/drop), §3.5 (turret) and a
//! partial update before any snapshot, applied step by step.

use super::flows::{AB, lines, now, step};
use super::*;
use crate::MetadataState;

#[test]
fn rfc8068_mixing_hold_resume_join_drop() {
    let mut st = MetadataState::new();
    let o = step(&mut st, "rfc8068-3.3.1-mixing-metadata.xml", 1_000);
    assert_eq!(
        lines(&o, AB),
        [
            "cs+ hVpd",
            "sipids hVpd fa3b,ca71",
            "stream+ 96",
            "join alice sip:alice@atlanta.com",
            "join bob sip:bob@biloxy.com",
            "send+ alice 96",
            "send+ bob 96",
            "recv+ alice 96",
            "recv+ bob 96",
        ]
    );
    let o = step(&mut st, "rfc8068-3.3.2-mixing-hold-metadata.xml", 2_000);
    // Bob still sends the mixed stream: Alice's hold does not idle label 96.
    assert_eq!(lines(&o, AB), ["send- alice 96", "recv- bob 96"]);
    let o = step(&mut st, "rfc8068-3.3.2-mixing-resume-metadata.xml", 3_000);
    assert_eq!(lines(&o, AB), ["send+ alice 96", "recv+ bob 96"]);
    let o = step(&mut st, "rfc8068-3.3.3-join-metadata.xml", 4_000);
    assert_eq!(
        lines(&o, AB),
        [
            "sipids hVpd fa3b,ca71,497c",
            "join carol sip:carol@example.com",
            "send+ carol 96",
            "recv+ carol 96",
        ]
    );
    assert!(!o.needs_snapshot && o.warnings.is_empty(), "{o:?}");
    let o = step(&mut st, "rfc8068-3.3.3-drop-metadata.xml", 5_000);
    assert_eq!(
        lines(&o, AB),
        [
            "send- alice 96",
            "recv- alice 96",
            "left alice",
            "sipids hVpd ca71,497c",
        ]
    );
    // E-101 (b): the list was replaced, not appended to.
    assert_eq!(st.current().sessions[0].sip_session_ids.len(), 2);
    let ids: Vec<_> = now(&st)
        .into_iter()
        .filter(|(_, s, _)| !s.is_empty())
        .map(|(p, _, _)| p)
        .collect();
    assert_eq!(ids, ["zSfP", "Atnm"]);
}

#[test]
fn rfc8068_turret_two_sessions_one_stream() {
    let names = &[("srfB", "alice"), ("zSfP", "bob"), ("EiXG", "carol")];
    let mut st = MetadataState::new();
    let o = step(&mut st, "rfc8068-3.5-turret-metadata.xml", 1_000);
    assert_eq!(
        lines(&o, names),
        [
            "group+ 7+OT",
            "cs+ hVpd",
            "cs+ e637",
            "group-ref hVpd 7+OT",
            "sipids hVpd fa3b,ca71,497c",
            "group-ref e637 7+OT",
            "sipids e637 ae10,33c7,fd69",
            "stream+ 96",
            "join alice sip:alice@atlanta.com",
            "join bob sip:Bob@biloxy.com",
            "join carol sip:Carol@example.com",
            "send+ alice 96",
            "send+ bob 96",
            "send+ carol 96",
            "recv+ alice 96",
            "recv+ bob 96",
            "recv+ carol 96",
        ]
    );
    // CS2 ends: Carol leaves; Bob stays, he is still in CS1. The mixed stream
    // belongs to CS1 and goes on.
    let stop = parse(
        b"<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>partial</datamode>\
          <session session_id='e6370VVGEeWAG6886p18uA=='><stop-time>2010-12-16T23:50:07Z</stop-time></session></recording>",
    )
    .unwrap()
    .metadata;
    let o = st.apply(&stop, 2_000).unwrap();
    assert_eq!(
        lines(&o, names),
        ["send- carol 96", "recv- carol 96", "left carol", "cs- e637"]
    );
}

#[test]
fn partial_before_complete_then_snapshot() {
    let mut st = MetadataState::new();
    let o = step(&mut st, "rfc8068-3.2.2-hold-metadata.xml", 1_000);
    assert!(o.needs_snapshot && !st.has_snapshot());
    assert!(o.warnings[0].0.contains("before any complete snapshot"));
    // Both participants and the two streams they name are unknown.
    assert_eq!(o.warnings.len(), 1 + 2 + 2, "{:?}", o.warnings);
    assert!(o.warnings[1].0.contains("participant \"srfB"));
    assert_eq!(lines(&o, AB)[..2], ["join alice -", "join bob -"]);
    assert_eq!(st.current().datamode, DataMode::Partial);
    // A second partial still lacks a base.
    let o = step(&mut st, "rfc8068-3.2.2-resume-metadata.xml", 2_000);
    assert!(o.needs_snapshot);
    // The snapshot becomes the base; the next partial needs nothing.
    let o = step(&mut st, "rfc8068-3.2.1-basic-metadata.xml", 3_000);
    assert!(!o.needs_snapshot && st.has_snapshot());
    assert!(lines(&o, AB).contains(&"stream+ 96".to_string()));
    let o = step(&mut st, "rfc8068-3.2.2-hold-metadata.xml", 4_000);
    assert!(!o.needs_snapshot && o.warnings.is_empty());
    assert_eq!(st.current().datamode, DataMode::Complete);
}

/// Every parseable corpus document, applied one after another to one state
/// (as sent, then forced to partial), never fails or panics, and vendor
/// fields and both resolutions work on every merged state.
#[test]
fn every_corpus_document_applies_in_sequence() {
    let mut files: Vec<String> = ["rfc", "vendor"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(format!("{CORPUS}{d}"))
                .unwrap_or_else(|e| panic!("corpus dir {d}: {e}"))
                .map(move |e| format!("{d}/{}", e.unwrap().file_name().to_string_lossy()))
        })
        .collect();
    files.sort();
    let mut st = MetadataState::new();
    let mut applied = 0;
    for (i, f) in files.iter().enumerate() {
        let text = read(f);
        if !text.contains("recording") {
            continue;
        }
        let Ok(p) = std::panic::catch_unwind(|| extract(&text).to_string()) else {
            continue;
        };
        let Ok(parsed) = parse(p.as_bytes()) else {
            continue;
        };
        let mut m = parsed.metadata;
        let at = i64::try_from(i).unwrap() * 1000;
        st.apply(&m, at).unwrap_or_else(|e| panic!("{f}: {e}"));
        m.datamode = DataMode::Partial;
        st.apply(&m, at + 1).unwrap_or_else(|e| panic!("{f}: {e}"));
        let _ = crate::vendor_fields(st.current());
        let _ = st.resolve_now();
        let _ = resolve(st.current());
        applied += 1;
    }
    assert!(applied >= 25, "only {applied} corpus documents applied");
}

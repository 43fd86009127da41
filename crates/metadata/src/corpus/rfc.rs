//! RFC 7865 / RFC 8068 examples.

use super::*;
use crate::{MetadataError, Role, parse, parse_request_snapshot};

const ALICE: Option<&str> = Some("sip:alice@atlanta.com");
const CAROL: Option<&str> = Some("sip:carol@example.com");

#[test]
fn rfc7865_complete() {
    let (p, r) = check(
        "rfc/rfc7865-8.1-complete.xml",
        C,
        &[
            (Some("sip:bob@biloxi.com"), Some("Bob"), &["97", "96"]),
            (Some("sip:Paul@biloxi.com"), Some("Paul"), &["98", "99"]),
        ],
    );
    assert_eq!(r.participants[0].receives, ["98", "99"]);
    assert_eq!(
        p.metadata.sessions[0].sip_session_ids,
        ["ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2"]
    );
    assert_eq!(
        p.metadata.sessions[0].group_ref.as_deref(),
        Some("7+OTCyoxTmqmqyA/1weDAg==")
    );
    assert_eq!(
        p.metadata.participants[0].name_ids[0].name_lang.as_deref(),
        Some("it")
    );
    assert_eq!(
        roles(&r),
        [
            (Some(Role::Caller), Some("document-order")),
            (Some(Role::Callee), Some("document-order"))
        ]
    );
    // Extensions keep their exact source text.
    let text = read("rfc/rfc7865-8.1-complete.xml");
    let g = &p.metadata.groups[0];
    assert_eq!(g.extensions.len(), 2);
    assert_eq!(g.extensions[0].name, "call-center");
    assert_eq!(
        g.extensions[0].namespace.as_deref(),
        Some("urn:ietf:params:xml:ns:callcenter")
    );
    let start = text.find("<call-center").unwrap();
    let end = text.find("</call-center>").unwrap() + "</call-center>".len();
    assert_eq!(g.extensions[0].raw, text[start..end]);
    assert_eq!(
        p.metadata.participants[1].extensions[0]
            .values_ending_with("structure")
            .collect::<Vec<_>>(),
        ["FOO!"]
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // RFC-shaped documents round-trip exactly, extensions included.
    let again = parse(crate::to_xml(&p.metadata).as_bytes()).unwrap();
    assert_eq!(again.metadata, p.metadata);
}

#[test]
fn rfc7865_partial() {
    let (p, _) = check(
        "rfc/rfc7865-8.2-partial.xml",
        P,
        &[(Some("sip:bob@biloxi.com"), Some("Bob"), &[])],
    );
    let a = &p.metadata.participant_session_assocs[0];
    assert_eq!(
        a.disassociate_time.as_ref().and_then(|t| t.unix_ms),
        Some(1_292_542_867_000)
    );
}

#[test]
fn rfc8068_basic_hold_resume() {
    check(
        "rfc/rfc8068-3.2.1-basic-metadata.xml",
        C,
        &[
            (ALICE, Some("Alice"), &["97", "96"]),
            (Some("sip:bob@biloxy.com"), Some("Bob"), &["98", "99"]),
        ],
    );
    // Partial updates without <stream> elements: ids stand in for labels.
    let (_, r) = check(
        "rfc/rfc8068-3.2.2-hold-metadata.xml",
        P,
        &[
            (None, None, &[]),
            (
                None,
                None,
                &["8zc6e0lYTlWIINA6GR+3ag==", "EiXGlc+4TruqqoDaNE76ag=="],
            ),
        ],
    );
    assert_eq!(r.participants[0].receives.len(), 2);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.0.contains("no <stream> describes"))
    );
    check(
        "rfc/rfc8068-3.2.2-resume-metadata.xml",
        P,
        &[
            (
                None,
                None,
                &["i1Pz3to5hGk8fuXl+PbwCw==", "UAAMm5GRQKSCMVvLyl4rFw=="],
            ),
            (
                None,
                None,
                &["8zc6e0lYTlWIINA6GR+3ag==", "EiXGlc+4TruqqoDaNE76ag=="],
            ),
        ],
    );
}

#[test]
fn rfc8068_transfers_and_bye() {
    check(
        "rfc/rfc8068-3.2.3-refer-transfer-new-cs-metadata.xml",
        C,
        &[
            (Some("sip:Bob@biloxy.com"), None, &["98", "99"]),
            (CAROL, None, &["96", "97"]),
        ],
    );
    let (p, r) = check(
        "rfc/rfc8068-3.2.3-refer-transfer-old-cs-metadata.xml",
        P,
        &[],
    );
    assert!(p.metadata.sessions[0].stop_time.is_some() && r.participants.is_empty());
    check(
        "rfc/rfc8068-3.2.3-transfer-metadata.xml",
        P,
        &[
            (
                CAROL,
                Some("Carol"),
                &["60JAJm9UTvik0Ltlih/Gzw==", "AcR5FUd3Edi8cACQJy/3JQ=="],
            ),
            (
                None,
                None,
                &["8zc6e0lYTlWIINA6GR+3ag==", "EiXGlc+4TruqqoDaNE76ag=="],
            ),
        ],
    );
    let (p, _) = check("rfc/rfc8068-3.2.4-bye-metadata.xml", P, &[]);
    assert_eq!(p.metadata.participant_session_assocs.len(), 2);
    check(
        "rfc/rfc8068-3.4.1-persistent-cs-disconnect-metadata.xml",
        P,
        &[],
    );
}

#[test]
fn rfc8068_mixing_conference_turret() {
    let bob = Some("sip:bob@biloxy.com");
    let (p, r) = check(
        "rfc/rfc8068-3.3.1-mixing-metadata.xml",
        C,
        &[(ALICE, Some("Alice"), &["96"]), (bob, Some("Bob"), &["96"])],
    );
    assert_eq!(p.metadata.sessions[0].sip_session_ids.len(), 2);
    assert_eq!(r.participants[1].receives, ["96"]);
    let (_, r) = check(
        "rfc/rfc8068-3.3.2-mixing-hold-metadata.xml",
        P,
        &[(None, None, &[]), (None, None, &["96"])],
    );
    assert_eq!(r.participants[0].receives, ["96"]);
    check(
        "rfc/rfc8068-3.3.2-mixing-resume-metadata.xml",
        P,
        &[(None, None, &["96"]), (None, None, &["96"])],
    );
    check(
        "rfc/rfc8068-3.3.3-join-metadata.xml",
        P,
        &[(CAROL, Some("Carol"), &["i1Pz3to5hGk8fuXl+PbwCw=="])],
    );
    let (p, _) = check("rfc/rfc8068-3.3.3-drop-metadata.xml", P, &[]);
    assert_eq!(p.metadata.sessions[0].sip_session_ids.len(), 2);
    let (p, _) = check(
        "rfc/rfc8068-3.5-turret-metadata.xml",
        C,
        &[
            (ALICE, Some("Alice"), &["96"]),
            (Some("sip:Bob@biloxy.com"), Some("Bob"), &["96"]),
            (Some("sip:Carol@example.com"), Some("Carol"), &["96"]),
        ],
    );
    assert_eq!(p.metadata.sessions.len(), 2);
}

/// The RFC 8068 message figures carry the same documents as the derived .xml files.
#[test]
fn rfc8068_message_figures_match_their_xml() {
    let names = [
        "3.2.1-basic-invite",
        "3.2.2-hold-reinvite",
        "3.2.2-resume-reinvite",
        "3.2.3-transfer-reinvite",
        "3.2.3-refer-transfer-old-cs",
        "3.2.3-refer-transfer-new-cs",
        "3.2.4-bye",
        "3.3.1-mixing-invite",
        "3.3.2-mixing-hold-reinvite",
        "3.3.2-mixing-resume-reinvite",
        "3.3.3-join-reinvite",
        "3.3.3-drop-reinvite",
        "3.4.1-persistent-cs-disconnect-reinvite",
        "3.5-turret-invite",
    ];
    for n in names {
        let base = n
            .strip_suffix("-reinvite")
            .or_else(|| n.strip_suffix("-invite"))
            .unwrap_or(n);
        let (pt, rt) = load(&format!("rfc/rfc8068-{n}.txt"));
        let (px, rx) = load(&format!("rfc/rfc8068-{base}-metadata.xml"));
        assert_eq!(pt.metadata.datamode, px.metadata.datamode, "{n}");
        assert_eq!(rt.participants, rx.participants, "{n}");
        assert_eq!(pt.metadata.sessions, px.metadata.sessions, "{n}");
    }
}

#[test]
fn rfc_snapshot_requests() {
    for f in [
        "rfc/rfc7865-7-requestsnapshot.xml",
        "rfc/rfc7866-9.2-fig13-requestsnapshot.xml",
        "rfc/rfc7866-9.2-fig13-update-snapshot-request.txt",
    ] {
        let text = read(f);
        let doc = extract(&text);
        assert_eq!(
            parse_request_snapshot(doc.as_bytes()).unwrap().as_deref(),
            Some("SRS internal error"),
            "{f}"
        );
        assert_eq!(
            parse(doc.as_bytes()).unwrap_err(),
            MetadataError::SnapshotRequest,
            "{f}"
        );
    }
    // Figure 12 only has a "[metadata content]" placeholder.
    assert!(!read("rfc/rfc7866-9.1-fig12-invite.txt").contains("<?xml"));
}

//! One test per metadata document of the shared corpus (RFC examples and vendor
//! captures): participants, AORs, names, the labels they send, datamode.

use crate::{
    DataMode, Dialect, MetadataError, Parsed, Resolution, Role, parse, parse_request_snapshot,
    resolve, to_xml,
};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/siprec/corpus/"
);

/// Reads a corpus file; a missing file fails the test loudly.
fn read(rel: &str) -> String {
    let path = format!("{CORPUS}{rel}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("corpus file {path} unreadable: {e}"))
}

/// Cuts the metadata document out of a SIP message / multipart body: from `<?xml`
/// (or the root start tag) to the end of the root's closing tag.
fn extract(text: &str) -> &str {
    let root_start = |from: usize| {
        text.get(from..)?
            .match_indices('<')
            .map(|(i, _)| i + from)
            .find(|&i| {
                let rest = text.get(i + 1..).unwrap_or_default();
                let qname: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || "_:-.".contains(*c))
                    .collect();
                qname
                    .rsplit(':')
                    .next()
                    .is_some_and(|l| l.starts_with("recording") || l == "requestsnapshot")
            })
    };
    let decl = text.find("<?xml");
    let root = root_start(decl.unwrap_or(0)).expect("no metadata root in file");
    let rest = text.get(root + 1..).unwrap_or_default();
    let qname: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || "_:-.".contains(*c))
        .collect();
    let close = format!("</{qname}");
    let end_tag = text.rfind(&close).expect("no closing root tag");
    let end = end_tag
        + text
            .get(end_tag..)
            .and_then(|t| t.find('>'))
            .expect("unterminated closing tag")
        + 1;
    text.get(decl.unwrap_or(root)..end).expect("bad slice")
}

fn load(rel: &str) -> (Parsed, Resolution) {
    let text = read(rel);
    let parsed = parse(extract(&text).as_bytes()).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let res = resolve(&parsed.metadata);
    (parsed, res)
}

/// Expected participant: (aor, name, labels sent).
type Exp<'a> = (Option<&'a str>, Option<&'a str>, &'a [&'a str]);

fn check(rel: &str, mode: DataMode, want: &[Exp<'_>]) -> (Parsed, Resolution) {
    let (p, r) = load(rel);
    assert_eq!(p.metadata.datamode, mode, "{rel}: datamode");
    let got: Vec<(Option<&str>, Option<&str>, Vec<&str>)> = r
        .participants
        .iter()
        .map(|x| {
            (
                x.aor.as_deref(),
                x.name.as_deref(),
                x.sends.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let want: Vec<(Option<&str>, Option<&str>, Vec<&str>)> =
        want.iter().map(|(a, n, s)| (*a, *n, s.to_vec())).collect();
    assert_eq!(got, want, "{rel}: participants");
    // Every corpus document survives a to_xml -> parse round trip with the same routing.
    let again = resolve(
        &parse(to_xml(&p.metadata).as_bytes())
            .expect("to_xml output parses")
            .metadata,
    );
    let strip = |r: &Resolution| {
        r.participants
            .iter()
            .map(|x| (x.aor.clone(), x.sends.clone(), x.receives.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&again), strip(&r), "{rel}: round trip");
    (p, r)
}

fn roles(r: &Resolution) -> Vec<(Option<Role>, Option<&str>)> {
    r.participants
        .iter()
        .map(|p| (p.role, p.role_source.as_deref()))
        .collect()
}

const C: DataMode = DataMode::Complete;
const P: DataMode = DataMode::Partial;
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

#[test]
fn vendor_avaya_sbce() {
    let (_, r) = check(
        "vendor/vendor-avaya-sbce-multipart-body.txt",
        C,
        &[
            (Some("sip:9878942259@212.188.68.145"), None, &["10"]),
            (Some("sip:ASBCE@asbce.com"), None, &["20"]),
        ],
    );
    assert_eq!(roles(&r)[0], (Some(Role::Caller), Some("document-order")));
}

#[test]
fn vendor_broadworks_draft() {
    let (p, r) = check(
        "vendor/vendor-broadworks-invite.sipp.txt",
        C,
        &[
            (Some("sip:8638254725"), None, &["1"]),
            // Its send names a stream the document does not describe.
            (
                Some("sip:+19015783200@broadcore.com;user=phone"),
                None,
                &["urn:uuid:9b6ad4c2-9901-4387-8659-a366bfb7dc19"],
            ),
        ],
    );
    assert_eq!(p.metadata.dialect, Dialect::SiprecDraft);
    assert_eq!(
        p.metadata.recording_id.as_deref(),
        Some("urn:uuid:8edb9763-203b-40f0-bb46-a5014d3bc899")
    );
    assert_eq!(
        p.metadata.sessions[0].group_ref.as_deref(),
        Some("urn:uuid:6219893c-d072-43d3-ba6c-8828cf7be472")
    );
    assert_eq!(p.metadata.streams[0].mode.as_deref(), Some("mixed"));
    let src = Some("extension:broadWorksRecordingMetadata");
    assert_eq!(
        roles(&r),
        [(Some(Role::Callee), src), (Some(Role::Caller), src)]
    );
}

#[test]
fn vendor_broadworks_mangled_is_an_error() {
    let text = read("vendor/vendor-broadworks-mangled-multipart-body.txt");
    let e = parse(extract(&text).as_bytes()).unwrap_err();
    assert_eq!(
        e,
        MetadataError::NoElements {
            root: "recording_metadata".into()
        }
    );
    assert!(
        e.to_string()
            .starts_with("metadata document has no participants/streams")
    );
}

#[test]
fn vendor_cisco_cube() {
    let (p, r) = check(
        "vendor/vendor-cisco-cube-multipart-body.txt",
        C,
        &[
            (Some("sip:7301@35.162.237.204"), None, &["1"]),
            (Some("sip:7300@35.162.237.204"), Some("7300"), &["2"]),
        ],
    );
    assert_eq!(r.participants[0].receives, ["2"]);
    assert_eq!(
        p.metadata.sessions[0]
            .start_time
            .as_ref()
            .and_then(|t| t.unix_ms),
        Some(1_498_220_166_040)
    );
    assert!(
        p.warnings.is_empty() && r.warnings.is_empty(),
        "{:?} {:?}",
        p.warnings,
        r.warnings
    );
}

#[test]
fn vendor_cisco_cube_hold_with_elisions() {
    // The guide elides participants with "…": only the associations name them.
    let (p, r) = check(
        "vendor/vendor-cisco-cube-hold-sendonly-multipart-body.txt",
        C,
        &[(None, None, &[]), (None, None, &["2", "4"])],
    );
    assert_eq!(r.participants[0].receives, ["2", "4"]);
    assert!(p.warnings.iter().any(|w| w.0.contains("character data")));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.0 == "stream 1 is sent by no participant")
    );
    assert!(r.warnings.iter().any(|w| w.0.contains("sends 2 streams")));
}

#[test]
fn vendor_cisco_cube_doc_transcriptions_not_well_formed() {
    for f in [
        "vendor/vendor-cisco-cube-invite-debug.txt",
        "vendor/vendor-cisco-cube-bye-with-metadata.txt",
    ] {
        let text = read(f);
        let e = parse(extract(&text).as_bytes()).unwrap_err();
        assert!(matches!(e, MetadataError::Xml { .. }), "{f}: {e:?}");
        assert!(!e.to_string().contains('\n'));
    }
}

#[test]
fn vendor_metaswitch() {
    let (p, r) = check(
        "vendor/vendor-metaswitch-invite.sipp.txt",
        C,
        &[
            (Some("7602922411"), Some("7602922411"), &["1"]),
            (Some("7602922410"), Some("7602922410"), &["1"]),
        ],
    );
    assert_eq!(p.metadata.dialect, Dialect::RecordingNoVersion);
    assert_eq!(
        p.metadata.recording_id.as_deref(),
        Some("+zzFKOKREeanqeyezQV3BA==")
    );
    assert_eq!(p.metadata.extensions[0].name, "extensiondata");
    let src = Some("extension:metaswitchRecordingMetadata");
    assert_eq!(
        roles(&r),
        [(Some(Role::Caller), src), (Some(Role::Callee), src)]
    );
}

#[test]
fn vendor_netsapiens() {
    let (p, r) = check(
        "vendor/vendor-netsapiens-xfer-1-initial.xml",
        C,
        &[
            (
                Some("sip:1001@dwang.netsapiens.com"),
                Some("Din Djarin"),
                &["1"],
            ),
            (
                Some("sip:1002@dwang.netsapiens.com"),
                Some("Boba Fett"),
                &["2"],
            ),
        ],
    );
    assert_eq!(p.metadata.extensions[0].name, "netsapiensExtension");
    let src = Some("extension:netsapiensExtension");
    assert_eq!(
        roles(&r),
        [(Some(Role::Caller), src), (Some(Role::Callee), src)]
    );
    let (p, r) = check(
        "vendor/vendor-netsapiens-xfer-2-consultation.xml",
        C,
        &[
            (
                Some("sip:1002@dwang.netsapiens.com"),
                Some("Boba Fett"),
                &["1"],
            ),
            (
                Some("sip:1006@dwang.netsapiens.com"),
                Some("Obi Wan Kenobi"),
                &["2"],
            ),
        ],
    );
    // E-09: the group id doubles as a participant id; not a conflict.
    assert_eq!(p.metadata.groups[0].id, p.metadata.participants[0].id);
    assert!(p.warnings.is_empty());
    assert_eq!(roles(&r)[0].0, Some(Role::Caller));
}

#[test]
fn vendor_opensips_without_associations() {
    let (_, r) = check(
        "vendor/vendor-opensips-connectel-multipart-body.txt",
        C,
        &[
            (
                Some("sip:0771121212@52.57.92.239"),
                Some("test_user;lang=en-US;id=22"),
                &["1"],
            ),
            (Some("sip:0760516936@sip-cust1.connectel.io"), None, &["2"]),
        ],
    );
    assert!(r.send_map_inferred);
    assert!(r.warnings.iter().any(|w| w.0.contains("document order")));
}

#[test]
fn vendor_oracle_acme_old_shape() {
    let (p, r) = check(
        "vendor/vendor-oracle-acme-multipart-body.txt",
        C,
        &[
            (Some("sip:9000@192.168.50.102"), Some("9000"), &["16777227"]),
            (Some("sip:1002@192.168.50.10"), Some("1002"), &["16777228"]),
        ],
    );
    assert!(!r.send_map_inferred);
    assert_eq!(
        roles(&r),
        [
            (Some(Role::Caller), Some("extension:apkt")),
            (Some(Role::Callee), Some("extension:apkt"))
        ]
    );
    let m = &p.metadata;
    assert_eq!(m.participants[0].session_ids, ["AavRXwIIQj1Q39eJulTipQ=="]);
    assert_eq!(
        m.streams[0].session_id.as_deref(),
        Some("AavRXwIIQj1Q39eJulTipQ==")
    );
    assert_eq!(
        m.streams[1].associate_time.as_ref().map(|t| t.raw.as_str()),
        Some("2019-03-09T16:50:31")
    );
    assert_eq!(
        m.sessions[0]
            .associate_time
            .as_ref()
            .and_then(|t| t.unix_ms),
        Some(1_552_150_220_000)
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn vendor_ribbon_sonus() {
    let (p, r) = check(
        "vendor/vendor-ribbon-sonus-multipart-body.txt",
        C,
        &[
            (
                Some("2249888500@172.16.198.55"),
                Some("Extension 8500"),
                &["2"],
            ),
            (Some("2249888012@172.16.195.72"), None, &["1"]),
        ],
    );
    assert_eq!(p.metadata.dialect, Dialect::RecordingNoVersion);
    let cd = &p.metadata.groups[0].extensions[0];
    assert_eq!(
        cd.values_ending_with("fromhdr").next(),
        Some("\"Extension 8500\" <sip:2249888500@172.16.198.55>;tag=SerryvK5ej0jc")
    );
    let src = Some("extension:callData");
    assert_eq!(
        roles(&r),
        [(Some(Role::Caller), src), (Some(Role::Callee), src)]
    );
}

#[test]
fn vendor_sems_procomm() {
    check(
        "vendor/vendor-sems-procomm-multipart-body.txt",
        C,
        &[
            (
                Some("sip:016190200@87.252.209.116"),
                Some("016190200"),
                &["a_leg"],
            ),
            (
                Some("Extension-016190619@speechpath.ie"),
                Some("Speechpath-Main-Line 016190619"),
                &["b_leg"],
            ),
        ],
    );
}

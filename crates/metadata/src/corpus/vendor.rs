//! Vendor captures and fixtures (INDEX.md §3.2).

use super::*;
use crate::{Dialect, MetadataError, Role, parse};

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

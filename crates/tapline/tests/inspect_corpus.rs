//! `tapline inspect` over every file of the shared corpus (rfc/ and vendor/): per file, the
//! participants (aor, name, labels sent and received), the streams, the datamode, and the
//! warnings that must (or must not) be given; unreadable vectors must exit 2 with one line.
//! Expectations were derived by reading each vector (see shared/siprec/INDEX.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/siprec/corpus");

/// Expected participant: aor, display name, labels (or stream ids when the document does
/// not describe the stream) it sends and receives.
struct P {
    aor: Option<&'static str>,
    name: Option<&'static str>,
    sends: &'static [&'static str],
    recv: &'static [&'static str],
}

const fn p(
    aor: Option<&'static str>,
    name: Option<&'static str>,
    sends: &'static [&'static str],
    recv: &'static [&'static str],
) -> P {
    P {
        aor,
        name,
        sends,
        recv,
    }
}

/// Expected stream: its label, and (media, direction, port) when an m-line describes it.
struct S {
    label: Option<&'static str>,
    sdp: Option<(&'static str, &'static str, u64)>,
}

/// A stream with an m-line.
const fn m(label: &'static str, media: &'static str, dir: &'static str, port: u64) -> S {
    S {
        label: Some(label),
        sdp: Some((media, dir, port)),
    }
}

/// An m-line without `a=label`.
const fn mu(media: &'static str, dir: &'static str, port: u64) -> S {
    S {
        label: None,
        sdp: Some((media, dir, port)),
    }
}

/// A metadata stream with no SDP in the input.
const fn x(label: &'static str) -> S {
    S {
        label: Some(label),
        sdp: None,
    }
}

enum Want {
    /// Exit 0: datamode, participants, streams, warnings containing / not containing.
    Reads(
        Option<&'static str>,
        &'static [P],
        &'static [S],
        &'static [&'static str],
        &'static [&'static str],
    ),
    /// Exit 0 with a snapshot request (RFC 7865 section 7) and its reason.
    Snapshot(&'static str),
    /// Exit 2; the one-line reason contains this text.
    Refuse(&'static str),
}

use Want::{Reads, Refuse, Snapshot};

const C: Option<&str> = Some("complete");
const PARTIAL: Option<&str> = Some("partial");
const NONE: &[&str] = &[];

// RFC 8068 stream ids (labels 96..99 in the 3.2.1 snapshot) and the transfer's new ones.
const UAAM: &str = "UAAMm5GRQKSCMVvLyl4rFw==";
const I1PZ: &str = "i1Pz3to5hGk8fuXl+PbwCw==";
const ZC6: &str = "8zc6e0lYTlWIINA6GR+3ag==";
const EIX: &str = "EiXGlc+4TruqqoDaNE76ag==";
const J60: &str = "60JAJm9UTvik0Ltlih/Gzw==";
const ACR: &str = "AcR5FUd3Edi8cACQJy/3JQ==";

const ALICE: Option<&str> = Some("sip:alice@atlanta.com");
const BOB: Option<&str> = Some("sip:bob@biloxy.com");
const CAROL: Option<&str> = Some("sip:carol@example.com");

const META4: &[S] = &[x("96"), x("97"), x("98"), x("99")];
const AV_BASIC: &[S] = &[
    m("96", "audio", "sendonly", 49170),
    m("97", "video", "sendonly", 49174),
    m("98", "audio", "sendonly", 51372),
    m("99", "video", "sendonly", 49176),
];
const AV_TRANSFER: &[S] = &[
    m("96", "audio", "sendonly", 49180),
    m("97", "video", "sendonly", 49182),
    m("98", "audio", "sendonly", 51374),
    m("99", "video", "sendonly", 49178),
];
const FIG5: &[S] = &[
    m("1", "audio", "sendonly", 12240),
    m("2", "video", "sendonly", 22456),
    m("3", "audio", "sendonly", 12242),
    m("4", "video", "sendonly", 22458),
];
const FIG6: &[S] = &[
    m("1", "audio", "recvonly", 10000),
    m("2", "video", "recvonly", 10002),
    m("3", "audio", "recvonly", 10004),
    m("4", "video", "recvonly", 10006),
];
const MIXED: &[S] = &[m("96", "audio", "sendonly", 49170)];

const BASIC: &[P] = &[
    p(ALICE, Some("Alice"), &["96", "97"], &["98", "99"]),
    p(BOB, Some("Bob"), &["98", "99"], &["96", "97"]),
];
const REFER_NEW: &[P] = &[
    p(
        Some("sip:Bob@biloxy.com"),
        None,
        &["98", "99"],
        &["96", "97"],
    ),
    p(CAROL, None, &["96", "97"], &["98", "99"]),
];
const HOLD: &[P] = &[
    p(None, None, &[], &[ZC6, EIX]),
    p(None, None, &[ZC6, EIX], &[]),
];
const RESUME: &[P] = &[
    p(None, None, &[I1PZ, UAAM], &[ZC6, EIX]),
    p(None, None, &[ZC6, EIX], &[I1PZ, UAAM]),
];
const TRANSFER: &[P] = &[
    p(CAROL, Some("Carol"), &[J60, ACR], &[ZC6, EIX]),
    p(None, None, &[ZC6, EIX], &[J60, ACR]),
];
const MIXING: &[P] = &[
    p(ALICE, Some("Alice"), &["96"], &["96"]),
    p(BOB, Some("Bob"), &["96"], &["96"]),
];
const MIX_HOLD: &[P] = &[p(None, None, &[], &["96"]), p(None, None, &["96"], &[])];
const MIX_RESUME: &[P] = &[
    p(None, None, &["96"], &["96"]),
    p(None, None, &["96"], &["96"]),
];
const JOIN: &[P] = &[p(CAROL, Some("Carol"), &[I1PZ], &[I1PZ])];
const TURRET: &[P] = &[
    p(ALICE, Some("Alice"), &["96"], &["96"]),
    p(Some("sip:Bob@biloxy.com"), Some("Bob"), &["96"], &["96"]),
    p(
        Some("sip:Carol@example.com"),
        Some("Carol"),
        &["96"],
        &["96"],
    ),
];

const PARTIAL_MLINE: &str = "has no stream in the metadata (partial update";
const SIPP: &str = "SIPp template: keywords replaced";
const AV_OK: &[&str] = &["sends 2 streams", "has no stream in the metadata"];

/// Every corpus file (path under corpus/) and what inspect must make of it.
#[rustfmt::skip]
static CASES: &[(&str, Want)] = &[
    // ---- RFC-derived ----
    ("rfc/rfc4574-6-label-sdp.sdp", Reads(None, &[], &[m("1", "audio", "sendrecv", 6886), m("2", "audio", "sendrecv", 22334)], NONE, NONE)),
    ("rfc/rfc7865-7-requestsnapshot.xml", Snapshot("SRS internal error")),
    ("rfc/rfc7865-8.1-complete.xml", Reads(C, &[
        p(Some("sip:bob@biloxi.com"), Some("Bob"), &["96", "97"], &["98", "99"]),
        p(Some("sip:Paul@biloxi.com"), Some("Paul"), &["98", "99"], &["96", "97"]),
    ], META4, NONE, NONE)),
    ("rfc/rfc7865-8.2-partial.xml", Reads(PARTIAL, &[p(Some("sip:bob@biloxi.com"), Some("Bob"), &[], &[])], &[], NONE, NONE)),
    ("rfc/rfc7865-9-schema.xsd", Refuse("<schema>")),
    ("rfc/rfc7866-7.1.1-fig5-sdp-offer.sdp", Reads(None, &[], FIG5, NONE, NONE)),
    ("rfc/rfc7866-7.1.1-fig5-sdp-offer.txt", Reads(None, &[], FIG5, NONE, NONE)),
    ("rfc/rfc7866-7.2-fig6-sdp-answer.sdp", Reads(None, &[], FIG6, NONE, NONE)),
    ("rfc/rfc7866-7.2-fig6-sdp-answer.txt", Reads(None, &[], FIG6, NONE, NONE)),
    // The figure's metadata part is the placeholder "[metadata content]".
    ("rfc/rfc7866-9.1-fig12-invite.txt", Refuse("metadata part is not XML (it starts with \"[metadata content]\")")),
    ("rfc/rfc7866-9.2-fig13-requestsnapshot.xml", Snapshot("SRS internal error")),
    ("rfc/rfc7866-9.2-fig13-update-snapshot-request.txt", Snapshot("SRS internal error")),
    ("rfc/rfc8068-3.2.1-basic-invite.txt", Reads(C, BASIC, AV_BASIC, NONE, AV_OK)),
    ("rfc/rfc8068-3.2.1-basic-metadata.xml", Reads(C, BASIC, META4, NONE, NONE)),
    ("rfc/rfc8068-3.2.2-hold-metadata.xml", Reads(PARTIAL, HOLD, &[], &["partial update: 4 stream reference"], &["that no <stream> describes"])),
    ("rfc/rfc8068-3.2.2-hold-reinvite.txt", Reads(PARTIAL, HOLD, AV_BASIC, &["m-line 0 (label 96) has no stream in the metadata (partial update"], NONE)),
    ("rfc/rfc8068-3.2.2-resume-metadata.xml", Reads(PARTIAL, RESUME, &[], &["partial update: 8 stream reference"], NONE)),
    ("rfc/rfc8068-3.2.2-resume-reinvite.txt", Reads(PARTIAL, RESUME, AV_BASIC, &[PARTIAL_MLINE], NONE)),
    ("rfc/rfc8068-3.2.3-refer-transfer-new-cs-metadata.xml", Reads(C, REFER_NEW, META4, NONE, NONE)),
    ("rfc/rfc8068-3.2.3-refer-transfer-new-cs.txt", Reads(C, REFER_NEW, AV_TRANSFER, NONE, AV_OK)),
    ("rfc/rfc8068-3.2.3-refer-transfer-old-cs-metadata.xml", Reads(PARTIAL, &[], &[], NONE, NONE)),
    ("rfc/rfc8068-3.2.3-refer-transfer-old-cs.txt", Reads(PARTIAL, &[], AV_TRANSFER, &[PARTIAL_MLINE], NONE)),
    ("rfc/rfc8068-3.2.3-transfer-metadata.xml", Reads(PARTIAL, TRANSFER, &[], NONE, NONE)),
    ("rfc/rfc8068-3.2.3-transfer-reinvite.txt", Reads(PARTIAL, TRANSFER, AV_TRANSFER, &[PARTIAL_MLINE], NONE)),
    ("rfc/rfc8068-3.2.4-bye-metadata.xml", Reads(PARTIAL, &[], &[], NONE, NONE)),
    ("rfc/rfc8068-3.2.4-bye.txt", Reads(PARTIAL, &[], &[], NONE, NONE)),
    ("rfc/rfc8068-3.3.1-mixing-invite.txt", Reads(C, MIXING, MIXED, NONE, &["has no stream in the metadata"])),
    ("rfc/rfc8068-3.3.1-mixing-metadata.xml", Reads(C, MIXING, &[x("96")], NONE, NONE)),
    ("rfc/rfc8068-3.3.2-mixing-hold-metadata.xml", Reads(PARTIAL, MIX_HOLD, &[x("96")], NONE, NONE)),
    ("rfc/rfc8068-3.3.2-mixing-hold-reinvite.txt", Reads(PARTIAL, MIX_HOLD, MIXED, NONE, &["has no stream in the metadata"])),
    ("rfc/rfc8068-3.3.2-mixing-resume-metadata.xml", Reads(PARTIAL, MIX_RESUME, &[x("96")], NONE, NONE)),
    ("rfc/rfc8068-3.3.2-mixing-resume-reinvite.txt", Reads(PARTIAL, MIX_RESUME, MIXED, NONE, NONE)),
    ("rfc/rfc8068-3.3.3-drop-metadata.xml", Reads(PARTIAL, &[], &[], NONE, NONE)),
    ("rfc/rfc8068-3.3.3-drop-reinvite.txt", Reads(PARTIAL, &[], MIXED, &[PARTIAL_MLINE], NONE)),
    ("rfc/rfc8068-3.3.3-join-metadata.xml", Reads(PARTIAL, JOIN, &[], &["partial update: 1 stream reference"], NONE)),
    ("rfc/rfc8068-3.3.3-join-reinvite.txt", Reads(PARTIAL, JOIN, MIXED, &[PARTIAL_MLINE], NONE)),
    ("rfc/rfc8068-3.4.1-persistent-cs-disconnect-metadata.xml", Reads(PARTIAL, &[], &[], NONE, NONE)),
    ("rfc/rfc8068-3.4.1-persistent-cs-disconnect-reinvite.txt", Reads(PARTIAL, &[], &[], NONE, NONE)),
    // SDP lines then the XML, no MIME framing at all in the RFC snippet.
    ("rfc/rfc8068-3.5-turret-invite.txt", Reads(C, TURRET, MIXED, &["without multipart framing"], NONE)),
    ("rfc/rfc8068-3.5-turret-metadata.xml", Reads(C, TURRET, &[x("96")], NONE, NONE)),
    // ---- vendor / real world ----
    ("vendor/vendor-avaya-sbce-multipart-body.txt", Reads(C, &[
        p(Some("sip:9878942259@212.188.68.145"), None, &["10"], &[]),
        p(Some("sip:ASBCE@asbce.com"), None, &["20"], &[]),
    ], &[m("10", "audio", "sendonly", 38606), m("20", "audio", "sendonly", 35744)], NONE, NONE)),
    // Participant 2 sends a stream that no <stream> describes; label 1 is `mode mixed`.
    ("vendor/vendor-broadworks-invite.sipp.txt", Reads(C, &[
        p(Some("sip:8638254725"), None, &["1"], &[]),
        p(Some("sip:+19015783200@broadcore.com;user=phone"), None, &["urn:uuid:9b6ad4c2-9901-4387-8659-a366bfb7dc19"], &[]),
    ], &[m("1", "audio", "sendrecv", 6000)], &[SIPP, "urn:uuid:9b6ad4c2-9901-4387-8659-a366bfb7dc19"], NONE)),
    ("vendor/vendor-broadworks-mangled-multipart-body.txt", Refuse("inner tags lost")),
    ("vendor/vendor-broadworks-pause-reinvite.sipp.txt", Reads(None, &[], &[m("1", "audio", "sendrecv", 6000)], &[SIPP], NONE)),
    ("vendor/vendor-broadworks-resume-reinvite.sipp.txt", Reads(None, &[], &[m("1", "audio", "sendrecv", 6000)], &[SIPP], NONE)),
    ("vendor/vendor-cisco-cube-200ok-recvonly.txt", Reads(None, &[], &[mu("audio", "recvonly", 6000), mu("audio", "recvonly", 8002)], &["no blank line between the SIP headers and the body"], NONE)),
    // `< disassociate-time >` (guide artefact): not well-formed.
    ("vendor/vendor-cisco-cube-bye-with-metadata.txt", Refuse("not well-formed")),
    ("vendor/vendor-cisco-cube-hold-sendonly-multipart-body.txt", Reads(C, &[
        p(None, None, &[], &["2", "4"]),
        p(None, None, &["2", "4"], &[]),
    ], &[
        m("1", "audio", "inactive", 16464),
        m("3", "video", "inactive", 16468),
        m("2", "audio", "sendonly", 16466),
        m("4", "video", "sendonly", 16470),
    ], &["character data", "stream 1 is sent by no participant"], AV_OK)),
    // `</sipSessi` + newline + `onID>` (guide artefact): not well-formed.
    ("vendor/vendor-cisco-cube-invite-debug.txt", Refuse("not well-formed")),
    ("vendor/vendor-cisco-cube-multipart-body.txt", Reads(C, &[
        p(Some("sip:7301@35.162.237.204"), None, &["1"], &["2"]),
        p(Some("sip:7300@35.162.237.204"), Some("7300"), &["2"], &["1"]),
    ], &[m("1", "audio", "sendonly", 10292), m("2", "audio", "sendonly", 10294)], &["application/gtd"], NONE)),
    ("vendor/vendor-cisco-cube-nbr-invite.sipp.txt", Reads(None, &[], &[mu("audio", "sendonly", 6000)], &[SIPP], NONE)),
    ("vendor/vendor-cisco-nbr-sdp-only.sdp", Reads(None, &[], &[m("1", "audio", "sendonly", 10292)], NONE, NONE)),
    ("vendor/vendor-metaswitch-bye.sipp.txt", Reads(None, &[], &[], &[SIPP, "no SDP and no recording metadata"], NONE)),
    ("vendor/vendor-metaswitch-invite.sipp.txt", Reads(C, &[
        p(Some("7602922411"), Some("7602922411"), &["1"], &["1"]),
        p(Some("7602922410"), Some("7602922410"), &["1"], &["1"]),
    ], &[m("1", "audio", "sendrecv", 6000)], &[SIPP], NONE)),
    ("vendor/vendor-netsapiens-xfer-1-initial.xml", Reads(C, &[
        p(Some("sip:1001@dwang.netsapiens.com"), Some("Din Djarin"), &["1"], &["2"]),
        p(Some("sip:1002@dwang.netsapiens.com"), Some("Boba Fett"), &["2"], &["1"]),
    ], &[x("1"), x("2")], NONE, NONE)),
    ("vendor/vendor-netsapiens-xfer-2-consultation.xml", Reads(C, &[
        p(Some("sip:1002@dwang.netsapiens.com"), Some("Boba Fett"), &["1"], &["2"]),
        p(Some("sip:1006@dwang.netsapiens.com"), Some("Obi Wan Kenobi"), &["2"], &["1"]),
    ], &[x("1"), x("2")], NONE, NONE)),
    // No association elements at all (E-83): senders inferred by document order.
    ("vendor/vendor-opensips-connectel-multipart-body.txt", Reads(C, &[
        p(Some("sip:0771121212@52.57.92.239"), Some("test_user;lang=en-US;id=22"), &["1"], &[]),
        p(Some("sip:0760516936@sip-cust1.connectel.io"), None, &["2"], &[]),
    ], &[m("1", "audio", "sendonly", 35011), m("2", "audio", "sendonly", 35012)], &["inferred"], NONE)),
    ("vendor/vendor-oracle-acme-multipart-body.txt", Reads(C, &[
        p(Some("sip:9000@192.168.50.102"), Some("9000"), &["16777227"], &[]),
        p(Some("sip:1002@192.168.50.10"), Some("1002"), &["16777228"], &[]),
    ], &[m("16777227", "audio", "sendonly", 20106), m("16777228", "audio", "sendonly", 20110)], NONE, NONE)),
    // Second participant's name is one space: no name.
    ("vendor/vendor-ribbon-sonus-multipart-body.txt", Reads(C, &[
        p(Some("2249888500@172.16.198.55"), Some("Extension 8500"), &["2"], &["1"]),
        p(Some("2249888012@172.16.195.72"), None, &["1"], &["2"]),
    ], &[m("1", "audio", "sendonly", 48932), m("2", "audio", "sendonly", 48926)], NONE, NONE)),
    ("vendor/vendor-sems-procomm-multipart-body.txt", Reads(C, &[
        p(Some("sip:016190200@87.252.209.116"), Some("016190200"), &["a_leg"], &["b_leg"]),
        p(Some("Extension-016190619@speechpath.ie"), Some("Speechpath-Main-Line 016190619"), &["b_leg"], &["a_leg"]),
    ], &[m("a_leg", "audio", "sendonly", 12654), m("b_leg", "audio", "sendonly", 12686)], NONE, NONE)),
];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run `tapline inspect ARG`, optionally feeding stdin; never waits more than 20 s.
fn inspect(arg: &Path, stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(common::BIN)
        .arg("inspect")
        .arg(arg)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tapline inspect");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tapline inspect {} did not finish in 20 s", arg.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

fn corpus_path(rel: &str) -> PathBuf {
    let path = Path::new(CORPUS).join(rel);
    assert!(path.is_file(), "corpus file missing: {}", path.display());
    path
}

fn strs(v: &Value) -> Option<BTreeSet<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn set(items: &[&str]) -> Option<BTreeSet<String>> {
    Some(items.iter().map(|s| (*s).to_owned()).collect())
}

/// Differences between the output and the expectation, one line each.
fn check(rel: &str, want: &Want, run: &Run) -> Vec<String> {
    let mut bad = Vec::new();
    if let Refuse(reason) = want {
        let line = run.stderr.trim_end();
        if run.code != Some(2) || !run.stdout.is_empty() {
            bad.push(format!(
                "want exit 2 and no stdout, got {:?}: {}",
                run.code, run.stdout
            ));
        }
        if line.lines().count() != 1 || !line.starts_with("tapline inspect: ") {
            bad.push(format!(
                "reason is not one 'tapline inspect:' line: {line:?}"
            ));
        }
        if !line.contains(reason) {
            bad.push(format!("reason {line:?} lacks {reason:?}"));
        }
        return bad.into_iter().map(|b| format!("{rel}: {b}")).collect();
    }
    if run.code != Some(0) {
        return vec![format!(
            "{rel}: want exit 0, got {:?}: {}",
            run.code,
            run.stderr.trim()
        )];
    }
    let v: Value = match serde_json::from_str(&run.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("{rel}: stdout is not JSON ({e})")],
    };
    for key in [
        "participants",
        "streams",
        "sessions",
        "group",
        "datamode",
        "warnings",
    ] {
        if v.get(key).is_none() {
            bad.push(format!("no {key:?} key"));
        }
    }
    let parts = v["participants"].as_array().cloned().unwrap_or_default();
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let warnings: Vec<String> = strs(&v["warnings"])
        .unwrap_or_default()
        .into_iter()
        .collect();
    match want {
        Snapshot(reason) => {
            if v["snapshot_request"]["reason"] != *reason || !parts.is_empty() {
                bad.push(format!(
                    "want snapshot request {reason:?}, got {}",
                    v["snapshot_request"]
                ));
            }
        }
        Reads(datamode, want_parts, want_streams, warn, no_warn) => {
            if v["datamode"].as_str() != *datamode {
                bad.push(format!("datamode {} != {datamode:?}", v["datamode"]));
            }
            if parts.len() != want_parts.len() {
                bad.push(format!(
                    "{} participants, want {}",
                    parts.len(),
                    want_parts.len()
                ));
            }
            for (i, (got, w)) in parts.iter().zip(want_parts.iter()).enumerate() {
                if got["aor"].as_str() != w.aor || got["name"].as_str() != w.name {
                    bad.push(format!(
                        "participant {i}: aor/name {}/{} != {:?}/{:?}",
                        got["aor"], got["name"], w.aor, w.name
                    ));
                }
                if strs(&got["sends"]) != set(w.sends) || strs(&got["receives"]) != set(w.recv) {
                    bad.push(format!(
                        "participant {i}: sends {} receives {} != {:?} {:?}",
                        got["sends"], got["receives"], w.sends, w.recv
                    ));
                }
            }
            if streams.len() != want_streams.len() {
                bad.push(format!(
                    "{} streams, want {}",
                    streams.len(),
                    want_streams.len()
                ));
            }
            for (i, (got, w)) in streams.iter().zip(want_streams.iter()).enumerate() {
                let sdp = got.get("mline").map(|_| {
                    (
                        got["media"].as_str().unwrap_or("?"),
                        got["direction"].as_str().unwrap_or("?"),
                        got["port"].as_u64().unwrap_or(0),
                    )
                });
                if got["label"].as_str() != w.label || sdp != w.sdp {
                    bad.push(format!(
                        "stream {i}: {got} != label {:?} sdp {:?}",
                        w.label, w.sdp
                    ));
                }
            }
            for needle in *warn {
                if !warnings.iter().any(|w| w.contains(needle)) {
                    bad.push(format!("no warning containing {needle:?} in {warnings:?}"));
                }
            }
            for needle in *no_warn {
                if let Some(w) = warnings.iter().find(|w| w.contains(needle)) {
                    bad.push(format!("unexpected warning {w:?}"));
                }
            }
        }
        Refuse(_) => unreachable!(),
    }
    bad.into_iter().map(|b| format!("{rel}: {b}")).collect()
}

#[test]
fn every_corpus_file_matches_its_expectation() {
    let mut failures = Vec::new();
    for (rel, want) in CASES {
        let run = inspect(&corpus_path(rel), None);
        failures.extend(check(rel, want, &run));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_corpus_file_is_in_the_table() {
    let mut seen = 0;
    for dir in ["rfc", "vendor"] {
        let path = Path::new(CORPUS).join(dir);
        let entries = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("corpus directory {} missing: {e}", path.display()));
        for entry in entries {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let rel = format!("{dir}/{name}");
            assert!(
                CASES.iter().any(|(f, _)| *f == rel),
                "corpus file {rel} has no expectation in inspect_corpus.rs"
            );
            seen += 1;
        }
    }
    assert_eq!(
        seen,
        CASES.len(),
        "table lists files that are not in the corpus"
    );
}

#[test]
fn stdin_gives_the_same_output_as_the_file() {
    let path = corpus_path("vendor/vendor-cisco-cube-multipart-body.txt");
    let bytes = std::fs::read(&path).unwrap();
    let from_file = inspect(&path, None);
    let from_stdin = inspect(Path::new("-"), Some(&bytes));
    assert_eq!(from_stdin.code, Some(0), "{}", from_stdin.stderr);
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let v: Value = serde_json::from_str(&from_stdin.stdout).unwrap();
    assert_eq!(v["participants"][0]["sends"], serde_json::json!(["1"]));
}

fn assert_refused(run: &Run, needle: &str) {
    assert_eq!(
        run.code,
        Some(2),
        "stdout {:?} stderr {:?}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.is_empty());
    let line = run.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{line:?}");
    assert!(line.contains(needle), "{line:?} lacks {needle:?}");
}

#[test]
fn unreadable_inputs_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-file.txt");
    assert_refused(&inspect(&missing, None), "cannot read");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    assert_refused(&inspect(&empty, None), "empty");
    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, b" \r\n\n\t").unwrap();
    assert_refused(&inspect(&blank, None), "empty");
    assert_refused(&inspect(Path::new("-"), Some(b"")), "empty");
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, b"hello\nworld\n").unwrap();
    assert_refused(&inspect(&junk, None), "not a SIP message");
}

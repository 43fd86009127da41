//! The vendor SIPp INVITE templates (INDEX.md §2) run through sipp itself: each template's
//! text is wrapped into a minimal UAC scenario generated at test time (INVITE, 100 optional,
//! 200, ACK, a tone via `tapline rtp-send`, the vendor's in-dialog re-INVITEs, BYE, 200), so
//! that sipp substitutes its own keywords and frames the messages. sipp must exit 0 and the
//! server must hold one complete recording naming the template's participants.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod vendor;

use common::{BIN, Server, path_of, show, wait_final, wav};
use vendor::sipp::{Scenario, run};
use vendor::text;

/// One template and what its recording must show: (aor, labels it sends) per participant.
struct Case {
    invite: &'static str,
    reinvites: &'static [&'static str],
    bye: Option<&'static str>,
    codec: &'static str,
    parts: &'static [(&'static str, &'static [&'static str])],
    label: &'static str,
}

const CASES: &[Case] = &[
    Case {
        invite: "vendor-broadworks-invite.sipp.txt",
        reinvites: &[
            "vendor-broadworks-pause-reinvite.sipp.txt",
            "vendor-broadworks-resume-reinvite.sipp.txt",
        ],
        bye: None,
        // The offer holds PT 8 only.
        codec: "pcma",
        parts: &[
            ("sip:8638254725", &["1"]),
            (
                "sip:+19015783200@broadcore.com;user=phone",
                &["urn:uuid:9b6ad4c2-9901-4387-8659-a366bfb7dc19"],
            ),
        ],
        label: "1",
    },
    Case {
        invite: "vendor-cisco-cube-nbr-invite.sipp.txt",
        reinvites: &[],
        bye: None,
        codec: "pcmu",
        parts: &[
            ("sip:2164485925@ccf.org", &["m0"]),
            ("sip:20053@10.144.106.41", &[]),
        ],
        label: "m0",
    },
    Case {
        invite: "vendor-metaswitch-invite.sipp.txt",
        reinvites: &[],
        bye: Some("vendor-metaswitch-bye.sipp.txt"),
        // `RTP/AVP 18 0 8`: G.729 is not built in, PCMU is the first the server takes.
        codec: "pcmu",
        parts: &[("7602922411", &["1"]), ("7602922410", &["1"])],
        label: "1",
    },
];

fn run_case(invite: &str, transport: &str) {
    let case = CASES.iter().find(|c| c.invite == invite).unwrap();
    let invite_t = text(case.invite);
    let reinvites: Vec<String> = case.reinvites.iter().map(|f| text(f)).collect();
    let re_refs: Vec<&str> = reinvites.iter().map(String::as_str).collect();
    let bye = case.bye.map(text);
    let scenario = Scenario {
        invite: &invite_t,
        reinvites: &re_refs,
        bye: bye.as_deref(),
        codec: case.codec,
        freq: 440,
    };
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    run(&scenario, server.sip, transport, BIN, dir.path());
    if std::env::var_os("TAPLINE_VENDOR_DUMP").is_some() {
        eprintln!("{}", vendor::sipp::logs(dir.path()));
    }

    let list = wait_final(server.data_dir(), 1);
    let recs = list.as_array().unwrap();
    assert_eq!(recs.len(), 1, "{list:#}");
    let rec = &recs[0];
    assert_eq!(rec["state"], "complete", "{rec:#}");
    let d = show(server.data_dir(), rec["id"].as_str().unwrap());
    let parts = d["participants"].as_array().unwrap();
    assert_eq!(parts.len(), case.parts.len(), "{d:#}");
    for (aor, sends) in case.parts {
        let p = parts
            .iter()
            .find(|p| p["aor"] == *aor)
            .unwrap_or_else(|| panic!("no participant {aor}: {d:#}"));
        assert_eq!(p["sends"], serde_json::json!(sends), "{aor}: {d:#}");
    }
    let streams = d["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "{d:#}");
    assert_eq!(streams[0]["label"], case.label, "{d:#}");
    if case
        .reinvites
        .iter()
        .any(|f| text(f).contains("c=IN IP4 0.0.0.0"))
    {
        for kind in ["pause", "resume"] {
            let n = common::count_events(&d, kind, Some(case.label));
            assert_eq!(n, 1, "{kind} events: {d:#}");
        }
    }
    // One second of tone per burst (two bursts around the BroadWorks pause).
    let bursts = 1 + case
        .reinvites
        .iter()
        .filter(|f| !text(f).contains("c=IN IP4 0.0.0.0"))
        .count() as u64;
    let got = streams[0]["packets_received"].as_u64().unwrap();
    assert!(got >= 45 * bursts, "{got} packets: {d:#}");
    let mono = wav(path_of(&d["files"]["streams"][case.label]));
    let first = mono
        .samples
        .iter()
        .position(|s| s.unsigned_abs() > 256)
        .expect("no audio");
    let f = tapline_media::dominant_frequency(&mono.samples[first + 800..first + 4800], 8000);
    assert!((f - 440.0).abs() < 10.0, "{f} Hz: {d:#}");
}

#[test]
fn sipp_broadworks_pause_resume_udp() {
    run_case("vendor-broadworks-invite.sipp.txt", "u1");
}

#[test]
fn sipp_broadworks_pause_resume_tcp() {
    run_case("vendor-broadworks-invite.sipp.txt", "t1");
}

#[test]
fn sipp_cisco_nbr_udp() {
    run_case("vendor-cisco-cube-nbr-invite.sipp.txt", "u1");
}

#[test]
fn sipp_cisco_nbr_tcp() {
    run_case("vendor-cisco-cube-nbr-invite.sipp.txt", "t1");
}

#[test]
fn sipp_metaswitch_udp() {
    run_case("vendor-metaswitch-invite.sipp.txt", "u1");
}

#[test]
fn sipp_metaswitch_tcp() {
    run_case("vendor-metaswitch-invite.sipp.txt", "t1");
}

#[test]
fn every_invite_template_runs_through_sipp() {
    // Every `*.sipp.txt` INVITE that is not an in-dialog re-INVITE has a case.
    for e in std::fs::read_dir(vendor::vendor_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !name.ends_with(".sipp.txt") {
            continue;
        }
        let t = text(&name);
        let in_dialog = t.contains("[peer_tag_param]");
        if t.starts_with("INVITE ") && !in_dialog {
            assert!(
                CASES.iter().any(|c| c.invite == name),
                "{name} has no sipp case"
            );
        } else if in_dialog {
            assert!(
                CASES
                    .iter()
                    .any(|c| c.reinvites.contains(&name.as_str()) || c.bye == Some(&name)),
                "{name} is replayed by no sipp case"
            );
        }
    }
}

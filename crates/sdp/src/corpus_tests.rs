//! Every SDP of the shared SIPREC corpus: parse, round trip, and recorder answers.

use std::net::SocketAddr;

use crate::{
    CodecPref, Direction, RejectReason, SessionDescription, StreamDecision, build_answer,
    plan_answer,
};

macro_rules! corpus {
    ($p:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/siprec/corpus/",
            $p
        )
    };
}

const SUPPORTED: [CodecPref; 2] = [
    CodecPref {
        encoding: "PCMU",
        clock_rate: 8000,
    },
    CodecPref {
        encoding: "PCMA",
        clock_rate: 8000,
    },
];

fn read(path: &str) -> String {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("corpus file {path} missing: {e}"));
    // SIPp keywords (INDEX.md section 2) replaced the way SIPp would.
    text.replace("[local_ip]", "192.0.2.50")
        .replace("[auto_media_port]", "16000")
        .replace("[media_port]", "16000")
}

/// SDP cut from a message or multipart body: from the first `v=0` (or, for RFC 8068
/// snippets that elide it, the `application/SDP` header) to the next boundary line.
fn cut_sdp(text: &str) -> String {
    let start = text.find("v=0").or_else(|| {
        let lower = text.to_ascii_lowercase();
        lower
            .find("content-type: application/sdp")
            .and_then(|i| text.get(i..)?.find('\n').map(|n| i + n + 1))
    });
    let start = start.unwrap_or_else(|| panic!("no SDP in {text:?}"));
    let rest = text.get(start..).unwrap();
    let mut out = String::new();
    for line in rest.lines() {
        if line.trim_start().starts_with("--") {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Parse, check m-line and label counts against the raw text, and check the written form
/// is a fixed point (parse(write(x)) writes the same bytes and keeps every stream).
fn parse_checked(name: &str, text: &str) -> SessionDescription {
    let sd = SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let m_lines = text
        .lines()
        .filter(|l| l.trim_start().starts_with("m="))
        .count();
    assert_eq!(sd.media.len(), m_lines, "{name}");
    let labels: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("a=label:"))
        .collect();
    let parsed: Vec<&str> = sd.media.iter().filter_map(|m| m.label()).collect();
    assert_eq!(parsed, labels, "{name}");
    let written = sd.to_string();
    assert!(
        written.ends_with("\r\n") && !written.replace("\r\n", "").contains('\n'),
        "{name}"
    );
    let again = SessionDescription::parse(&written).unwrap();
    assert_eq!(again.to_string(), written, "{name}");
    assert_eq!(again.media, sd.media, "{name}");
    assert_eq!(
        (&again.origin, &again.connection, &again.attributes),
        (&sd.origin, &sd.connection, &sd.attributes),
        "{name}"
    );
    sd
}

fn all_corpus_sdps() -> Vec<(&'static str, String)> {
    let whole = [
        corpus!("rfc/rfc4574-6-label-sdp.sdp"),
        corpus!("rfc/rfc7866-7.1.1-fig5-sdp-offer.sdp"),
        corpus!("rfc/rfc7866-7.1.1-fig5-sdp-offer.txt"),
        corpus!("rfc/rfc7866-7.2-fig6-sdp-answer.sdp"),
        corpus!("rfc/rfc7866-7.2-fig6-sdp-answer.txt"),
        corpus!("vendor/vendor-cisco-nbr-sdp-only.sdp"),
    ];
    let embedded = [
        corpus!("vendor/vendor-avaya-sbce-multipart-body.txt"),
        corpus!("vendor/vendor-broadworks-mangled-multipart-body.txt"),
        corpus!("vendor/vendor-cisco-cube-hold-sendonly-multipart-body.txt"),
        corpus!("vendor/vendor-cisco-cube-multipart-body.txt"),
        corpus!("vendor/vendor-opensips-connectel-multipart-body.txt"),
        corpus!("vendor/vendor-oracle-acme-multipart-body.txt"),
        corpus!("vendor/vendor-ribbon-sonus-multipart-body.txt"),
        corpus!("vendor/vendor-sems-procomm-multipart-body.txt"),
        corpus!("vendor/vendor-broadworks-invite.sipp.txt"),
        corpus!("vendor/vendor-broadworks-pause-reinvite.sipp.txt"),
        corpus!("vendor/vendor-broadworks-resume-reinvite.sipp.txt"),
        corpus!("vendor/vendor-cisco-cube-nbr-invite.sipp.txt"),
        corpus!("vendor/vendor-metaswitch-invite.sipp.txt"),
        corpus!("vendor/vendor-cisco-cube-200ok-recvonly.txt"),
        corpus!("vendor/vendor-cisco-cube-invite-debug.txt"),
        corpus!("rfc/rfc7866-9.1-fig12-invite.txt"),
        corpus!("rfc/rfc8068-3.2.1-basic-invite.txt"),
        corpus!("rfc/rfc8068-3.2.2-hold-reinvite.txt"),
        corpus!("rfc/rfc8068-3.2.2-resume-reinvite.txt"),
        corpus!("rfc/rfc8068-3.2.3-transfer-reinvite.txt"),
        corpus!("rfc/rfc8068-3.2.3-refer-transfer-old-cs.txt"),
        corpus!("rfc/rfc8068-3.2.3-refer-transfer-new-cs.txt"),
        corpus!("rfc/rfc8068-3.3.1-mixing-invite.txt"),
        corpus!("rfc/rfc8068-3.3.2-mixing-hold-reinvite.txt"),
        corpus!("rfc/rfc8068-3.3.2-mixing-resume-reinvite.txt"),
        corpus!("rfc/rfc8068-3.3.3-join-reinvite.txt"),
        corpus!("rfc/rfc8068-3.3.3-drop-reinvite.txt"),
        corpus!("rfc/rfc8068-3.5-turret-invite.txt"),
    ];
    let mut out: Vec<(&str, String)> = whole.iter().map(|p| (*p, read(p))).collect();
    out.extend(embedded.iter().map(|p| (*p, cut_sdp(&read(p)))));
    out
}

fn sdp_of(path: &str) -> SessionDescription {
    let text = read(path);
    let text = if path.ends_with(".sdp") {
        text
    } else {
        cut_sdp(&text)
    };
    parse_checked(path, &text)
}

fn accept(d: &StreamDecision) -> (u8, Option<u8>, Option<SocketAddr>, Direction) {
    match d {
        StreamDecision::Accept {
            payload_type,
            telephone_event,
            remote,
            offered_direction,
            ..
        } => (*payload_type, *telephone_event, *remote, *offered_direction),
        StreamDecision::Reject { .. } => panic!("expected accept, got {d:?}"),
    }
}

#[test]
fn every_corpus_sdp_parses_and_round_trips() {
    let all = all_corpus_sdps();
    assert_eq!(all.len(), 34);
    for (name, text) in &all {
        let sd = parse_checked(name, text);
        assert!(!sd.media.is_empty(), "{name}");
        // Answering never fails and keeps the m-line count and order (RFC 3264 section 6).
        let d = plan_answer(&sd, &SUPPORTED);
        let ports: Vec<u16> = (0..sd.media.len()).map(|i| 30000 + 2 * i as u16).collect();
        let answer = build_answer(&sd, &d, &ports, "192.0.2.99".parse().unwrap(), 1, 1);
        let kinds =
            |s: &SessionDescription| s.media.iter().map(|m| m.media.clone()).collect::<Vec<_>>();
        assert_eq!(kinds(&answer), kinds(&sd), "{name}");
        assert!(
            answer
                .media
                .iter()
                .all(|m| m.direction(&answer) != Direction::SendRecv || m.port == 0),
            "{name}"
        );
    }
}

#[test]
fn rfc7866_fig5_offer_answer() {
    let offer = sdp_of(corpus!("rfc/rfc7866-7.1.1-fig5-sdp-offer.sdp"));
    let folded = sdp_of(corpus!("rfc/rfc7866-7.1.1-fig5-sdp-offer.txt"));
    assert_eq!(folded.media.len(), 4);
    let d = plan_answer(&offer, &SUPPORTED);
    assert_eq!(
        accept(&d[0]),
        (
            0,
            None,
            Some("198.51.100.1:12240".parse().unwrap()),
            Direction::SendOnly
        )
    );
    assert_eq!(accept(&d[2]).0, 0);
    assert_eq!(
        d[1],
        StreamDecision::Reject {
            index: 1,
            label: Some("2".into()),
            reason: RejectReason::NotAudio
        }
    );
    let answer = build_answer(
        &offer,
        &d,
        &[10000, 10002, 10004, 10006],
        "198.51.100.20".parse().unwrap(),
        0,
        0,
    );
    let shape: Vec<(String, u16, Option<&str>)> = answer
        .media
        .iter()
        .map(|m| (m.media.clone(), m.port, m.label()))
        .collect();
    assert_eq!(
        shape,
        vec![
            ("audio".into(), 10000, Some("1")),
            ("video".into(), 0, Some("2")),
            ("audio".into(), 10004, Some("3")),
            ("video".into(), 0, Some("4")),
        ]
    );
    // The audio part matches RFC 7866 Figure 6 (which also lists an rtpmap-less PT 0).
    let fig6 = sdp_of(corpus!("rfc/rfc7866-7.2-fig6-sdp-answer.sdp"));
    for i in [0, 2] {
        assert_eq!(answer.media[i].formats, fig6.media[i].formats);
        assert_eq!(
            answer.media[i].direction(&answer),
            fig6.media[i].direction(&fig6)
        );
        assert_eq!(answer.media[i].port, fig6.media[i].port);
    }
    assert_eq!(answer.media[1].formats, ["98"]);
    assert!(answer.media[1].attribute("rtpmap").is_none());
}

#[test]
fn metaswitch_offer_picks_pcmu() {
    let offer = sdp_of(corpus!("vendor/vendor-metaswitch-invite.sipp.txt"));
    assert_eq!(offer.media[0].formats, ["18", "0", "8"]);
    let d = plan_answer(&offer, &SUPPORTED);
    assert_eq!(
        accept(&d[0]),
        (
            0,
            None,
            Some("192.0.2.50:16000".parse().unwrap()),
            Direction::SendRecv
        )
    );
    let answer = build_answer(&offer, &d, &[20000], "192.0.2.1".parse().unwrap(), 3, 3);
    assert_eq!(answer.media[0].direction(&answer), Direction::RecvOnly);
    let only_g729 = [CodecPref {
        encoding: "G729",
        clock_rate: 8000,
    }];
    assert_eq!(accept(&plan_answer(&offer, &only_g729)[0]).0, 18);
}

#[test]
fn broadworks_pause_and_resume_addresses() {
    let invite = sdp_of(corpus!("vendor/vendor-broadworks-invite.sipp.txt"));
    assert_eq!(accept(&plan_answer(&invite, &SUPPORTED)[0]).0, 8);
    let pause = sdp_of(corpus!("vendor/vendor-broadworks-pause-reinvite.sipp.txt"));
    assert_eq!(accept(&plan_answer(&pause, &SUPPORTED)[0]).2, None);
    let resume = sdp_of(corpus!("vendor/vendor-broadworks-resume-reinvite.sipp.txt"));
    assert_eq!(
        accept(&plan_answer(&resume, &SUPPORTED)[0]).2,
        Some("192.0.2.50:16000".parse().unwrap())
    );
    assert_eq!(resume.origin.unwrap().session_version, "3449405263");
}

#[test]
fn cisco_streams_keep_telephone_event_and_media_level_c() {
    let offer = sdp_of(corpus!("vendor/vendor-cisco-cube-multipart-body.txt"));
    let d = plan_answer(&offer, &SUPPORTED);
    assert_eq!(
        accept(&d[1]),
        (
            0,
            Some(101),
            Some("172.31.93.236:10294".parse().unwrap()),
            Direction::SendOnly
        )
    );
    let hold = sdp_of(corpus!(
        "vendor/vendor-cisco-cube-hold-sendonly-multipart-body.txt"
    ));
    let d = plan_answer(&hold, &SUPPORTED);
    assert_eq!(accept(&d[0]).3, Direction::Inactive);
    let answer = build_answer(&hold, &d, &[1, 2, 3, 4], "192.0.2.1".parse().unwrap(), 1, 1);
    let dirs: Vec<Direction> = answer
        .media
        .iter()
        .take(2)
        .map(|m| m.direction(&answer))
        .collect();
    assert_eq!(dirs, [Direction::Inactive, Direction::RecvOnly]);
    assert_eq!(
        answer.media.iter().map(|m| m.port).collect::<Vec<_>>(),
        [1, 2, 0, 0]
    );
}

#[test]
fn vendor_quirks() {
    // Sonus: media-level c= only.
    let sonus = sdp_of(corpus!("vendor/vendor-ribbon-sonus-multipart-body.txt"));
    assert!(sonus.connection.is_none());
    assert_eq!(
        accept(&plan_answer(&sonus, &SUPPORTED)[0]).2,
        Some("172.16.169.132:48932".parse().unwrap())
    );
    // OpenSIPS: no c= and no t= anywhere; still answerable, remote unknown.
    let oss = sdp_of(corpus!(
        "vendor/vendor-opensips-connectel-multipart-body.txt"
    ));
    assert_eq!(
        accept(&plan_answer(&oss, &SUPPORTED)[1]),
        (8, Some(101), None, Direction::SendOnly)
    );
    assert!(oss.to_string().contains("\r\nt=0 0\r\n"));
    // SEMS: a=direction:both is an unknown attribute; a=sendonly rules.
    let sems = sdp_of(corpus!("vendor/vendor-sems-procomm-multipart-body.txt"));
    assert_eq!(sems.media[0].direction(&sems), Direction::SendOnly);
    assert_eq!(sems.media[1].attribute("direction"), Some("both"));
    // Mangled BroadWorks: placeholder address X.X.X.X is not an IP.
    let bw = sdp_of(corpus!(
        "vendor/vendor-broadworks-mangled-multipart-body.txt"
    ));
    assert_eq!(
        accept(&plan_answer(&bw, &SUPPORTED)[0]),
        (8, Some(101), None, Direction::SendOnly)
    );
    assert_eq!(bw.media[0].rtpmap(9).unwrap().clock_rate, 8000);
    // RFC 4574: empty s= kept, i= kept.
    let l = sdp_of(corpus!("rfc/rfc4574-6-label-sdp.sdp"));
    assert_eq!(l.session_name.as_deref(), Some(""));
    assert!(l.to_string().contains("s=\r\ni=A Seminar"));
}

#[test]
fn truncated_sdp_never_panics() {
    let text = cut_sdp(&read(corpus!(
        "vendor/vendor-cisco-cube-multipart-body.txt"
    )));
    for (cut, _) in text.char_indices() {
        if let Ok(sd) = SessionDescription::parse(text.get(..cut).unwrap()) {
            let d = plan_answer(&sd, &SUPPORTED);
            let _ = build_answer(&sd, &d, &[5000], "192.0.2.1".parse().unwrap(), 1, 1).to_string();
        }
    }
}

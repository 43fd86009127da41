//! RFC 8068 call flows replayed against the real server as real SIP requests in one dialog (the
//! RFC's XML bodies byte for byte, SDP with PCMU audio and refused video m-lines carrying the
//! flow's labels), with real RTP to the answered ports between the steps; after each step the
//! catalogue timeline is checked: participants, who sends which label, events, metadata docs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const ALICE: &str = "srfBElmCRp2QB23b7Mpk0w==";
const BOB: &str = "zSfPoSvdSDCmU3A3TRDxAw==";
const CAROL: &str = "Atnm1ZRnOC6Pm5MApkrDzQ==";
const CS: &str = "hVpd7YQgRW2nD22h7q60JQ==";
const A_ALICE: &str = "sip:alice@atlanta.com";
const A_BOB: &str = "sip:bob@biloxy.com";
const A_CAROL: &str = "sip:carol@example.com";
const SECOND: Duration = Duration::from_secs(1);

fn ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// The RFC 8068 3.2.x offer: audio 96, video 97, audio 98, video 99, all sendonly.
fn four_lines(version: u32, ports: [u16; 4]) -> String {
    sdp_offer(
        ip(),
        version,
        &[
            MLine::audio(ports[0], "96"),
            MLine::video(ports[1], "97"),
            MLine::audio(ports[2], "98"),
            MLine::video(ports[3], "99"),
        ],
    )
}

const PORTS: [u16; 4] = [49170, 49174, 51372, 49176];
/// The transfer flows' SDP (new SRC ports, same labels).
const XFER_PORTS: [u16; 4] = [49180, 49182, 51374, 49178];

/// A call in progress: the dialog, its recording id and the two audio senders (96, 98).
struct Flow {
    server: Server,
    d: SrcDialog,
    id: String,
    /// Stream 0 sends to 96, stream 1 (if any) to the second audio label.
    pump: Option<RtpPump>,
    version: u32,
}

impl Flow {
    /// INVITE with `sdp` and the `xml` corpus file; RTP senders for labels 96 and the other.
    fn start(sdp: &str, xml: &str, second_label: Option<&str>) -> Flow {
        let server = Server::start();
        let d = SrcDialog::start_siprec(server.sip, sdp, &corpus(xml));
        let ok = d.ok.clone();
        let mut streams = vec![ToneRtp::new(d.media_addr(&ok, "96"), 440.0)];
        if let Some(l) = second_label {
            streams.push(ToneRtp::new(d.media_addr(&ok, l), 880.0));
        }
        let id = recording_of(server.data_dir(), &d.call.call_id)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Flow {
            server,
            d,
            id,
            // Media flows from the ACK on, also while the test does SIP.
            pump: Some(RtpPump::start(streams)),
            version: 1,
        }
    }

    /// The RFC 8068 3.2.1 call (B2BUA, two audio and two video streams).
    fn basic() -> Flow {
        Flow::start(
            &four_lines(1, PORTS),
            "rfc/rfc8068-3.2.1-basic-metadata.xml",
            Some("98"),
        )
    }

    /// The RFC 8068 3.3.1 call (conference focus, one mixed stream labelled 96).
    fn mixed(xml: &str) -> Flow {
        let sdp = sdp_offer(ip(), 1, &[MLine::audio(49170, "96")]);
        Flow::start(&sdp, xml, None)
    }

    /// The catalogue once it holds `docs` metadata documents and has settled: a document and
    /// its events are separate catalogue writes, so wait until two reads 200 ms apart agree.
    fn after_docs(&self, docs: usize) -> Value {
        let data = self.server.data_dir();
        let what = format!("{docs} metadata documents");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let a = show_until(data, &self.id, &what, |d| {
                d["metadata"].as_array().map_or(0, |a| a.len()) == docs
            });
            std::thread::sleep(Duration::from_millis(200));
            let b = show(data, &self.id);
            if a["events"] == b["events"] && a["participants"] == b["participants"] {
                return b;
            }
            assert!(Instant::now() < deadline, "catalogue never settled: {b:#}");
        }
    }

    /// re-INVITE with `sdp` (its o= version is ours to pass) and a corpus XML body.
    fn reinvite(&mut self, sdp: &str, xml: &str) -> Response {
        self.d.reinvite(sdp, &corpus(xml))
    }

    fn next_version(&mut self) -> u32 {
        self.version += 1;
        self.version
    }

    fn pump(&self) -> &RtpPump {
        self.pump.as_ref().expect("media running")
    }

    /// Where stream `i` is sent (the answered address).
    fn dest(&self, i: usize) -> std::net::SocketAddr {
        self.pump().with(|s| s[i].dest)
    }

    /// Let the media flow for `dur`.
    fn talk(&self, dur: Duration) {
        std::thread::sleep(dur);
    }

    /// Stop the media, then BYE with an optional body; returns the packets sent per stream.
    fn hang_up(&mut self, body: Option<(&str, &[u8])>) -> Vec<u32> {
        let streams = self.pump.take().expect("media running").stop();
        // Let the last packets land before the BYE closes the streams.
        std::thread::sleep(Duration::from_millis(100));
        self.d.bye(body);
        streams.iter().map(|s| s.sent).collect()
    }

    fn final_detail(&self) -> Value {
        let l = wait_final(self.server.data_dir(), 1);
        assert_eq!(
            l.as_array().unwrap().len(),
            1,
            "one recording session: {l:#}"
        );
        show(self.server.data_dir(), &self.id)
    }
}

fn event_at(detail: &Value, kind: &str, label: &str) -> String {
    detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind && e["label"] == label)
        .unwrap_or_else(|| panic!("no {kind} event on {label}: {:#}", detail["events"]))["at"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn has_event(detail: &Value, kind: &str, participant: &str) -> bool {
    events(detail)
        .iter()
        .any(|(k, _, p)| k == kind && p.as_deref() == Some(participant))
}

/// Mono file of `label` from the final detail.
fn mono(detail: &Value, label: &str) -> Vec<i16> {
    let w = wav(path_of(&detail["files"]["streams"][label]));
    assert_eq!(w.channels, 1);
    assert_eq!(w.sample_rate, 8000);
    w.samples
}

/// Every audio stream received exactly what was sent (loopback loses nothing).
fn assert_counters(detail: &Value, labels: &[&str], sent: &[u32]) {
    for (label, n) in labels.iter().zip(sent) {
        let s = detail["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["label"] == *label)
            .unwrap_or_else(|| panic!("no stream {label}"));
        assert_eq!(s["packets_received"], *n, "{s}");
        assert_eq!(s["packets_lost"], 0, "{s}");
    }
}

/// The complete recording and its files (each listed stream file holds audio).
fn assert_complete_with_files(detail: &Value, labels: &[&str]) {
    assert_eq!(detail["state"], "complete", "{detail:#}");
    let files = detail["files"]["streams"].as_object().unwrap();
    let mut got: Vec<&str> = files.keys().map(String::as_str).collect();
    got.sort();
    assert_eq!(got, labels, "stream files");
    for label in labels {
        assert!(path_of(&files[*label]).exists(), "file of {label}");
    }
    if labels.len() == 2 {
        assert!(path_of(&detail["files"]["stereo"]).exists(), "stereo file");
    }
}

#[test]
fn rfc8068_3_2_1_basic_call() {
    let mut f = Flow::basic();
    let media = answer_media(&f.d.ok.body);
    let ports: Vec<u16> = media.iter().map(|(a, _)| a.port()).collect();
    assert_eq!(ports.len(), 4, "one answer m-line per offered one");
    assert!(ports[0] != 0 && ports[2] != 0, "audio accepted: {ports:?}");
    assert_eq!((ports[1], ports[3]), (0, 0), "video refused: {ports:?}");

    let d = f.after_docs(1);
    assert_eq!(d["state"], "active");
    assert_eq!(sends_of(&d, A_ALICE), ["96", "97"]);
    assert_eq!(sends_of(&d, A_BOB), ["98", "99"]);
    assert!(
        has_event(&d, "participant_joined", ALICE),
        "{:#}",
        d["events"]
    );
    assert!(has_event(&d, "participant_joined", BOB));
    assert_eq!(count_events(&d, "cs_started", None), 1);
    assert_eq!(count_events(&d, "pause", None), 0);
    assert_eq!(d["group_id"], "7+OTCyoxTmqmqyA/1weDAg==");
    assert_eq!(d["sessions"][0]["session_id"], CS);

    f.talk(2 * SECOND);
    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96", "98"]);
    assert_eq!(d["metadata"].as_array().unwrap().len(), 1);
    assert_counters(&d, &["96", "98"], &sent);
    for s in d["streams"].as_array().unwrap() {
        if s["media"] == "video" {
            assert_eq!(s["state"], "rejected", "{s}");
        }
    }
    let (s96, s98) = (mono(&d, "96"), mono(&d, "98"));
    assert!((freq_between(&s96, 0.5, 1.5) - 440.0).abs() < 10.0);
    assert!((freq_between(&s98, 0.5, 1.5) - 880.0).abs() < 10.0);
}

/// Longest silent run (frames of 20 ms) strictly inside the signal.
fn inner_silence(samples: &[i16]) -> (usize, usize) {
    let frames = samples.len().div_ceil(160);
    silent_runs(samples)
        .into_iter()
        .filter(|(start, len)| *start > 0 && start + len < frames)
        .max_by_key(|(_, len)| *len)
        .unwrap_or((0, 0))
}

#[test]
fn rfc8068_3_2_2_hold_and_resume() {
    let mut f = Flow::basic();
    f.talk(SECOND);

    // Hold: Alice only receives; the SDP is unchanged (still sendonly), metadata says it all.
    let v = f.next_version();
    // Alice's leg is held: the SRC stops forwarding her audio on 96.
    let held_at = f.pump().with(|s| {
        s[0].active = false;
        s[0].last.expect("96 was sent")
    });
    f.reinvite(&four_lines(v, PORTS), "rfc/rfc8068-3.2.2-hold-metadata.xml");
    let d = f.after_docs(2);
    assert_eq!(sends_of(&d, A_ALICE), Vec::<String>::new());
    assert_eq!(sends_of(&d, A_BOB), ["98", "99"]);
    for label in ["96", "97"] {
        assert_eq!(
            count_events(&d, "pause", Some(label)),
            1,
            "{:#}",
            d["events"]
        );
        assert_eq!(count_events(&d, "send_stopped", Some(label)), 1);
    }
    assert_eq!(count_events(&d, "pause", Some("98")), 0);
    assert_eq!(count_events(&d, "resume", None), 0);
    assert_eq!(d["state"], "active");

    // Only Bob talks while Alice is held.
    f.talk(SECOND);

    let v = f.next_version();
    f.reinvite(
        &four_lines(v, PORTS),
        "rfc/rfc8068-3.2.2-resume-metadata.xml",
    );
    let d = f.after_docs(3);
    assert_eq!(sends_of(&d, A_ALICE), ["96", "97"]);
    for label in ["96", "97"] {
        assert_eq!(
            count_events(&d, "resume", Some(label)),
            1,
            "{:#}",
            d["events"]
        );
        assert!(event_at(&d, "pause", label) <= event_at(&d, "resume", label));
    }

    f.pump().set_active(0, true);
    f.talk(SECOND);
    let resumed_at = f.pump().with(|s| s[0].resumed.expect("96 resumed"));
    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96", "98"]);
    assert_counters(&d, &["96", "98"], &sent);
    assert_eq!(d["metadata"].as_array().unwrap().len(), 3);

    // Stream 96: tone, the hold as silence, tone again; 98 never stops.
    let s96 = mono(&d, "96");
    let (start, len) = inner_silence(&s96);
    // The silence between the last packet before the hold and the first after it.
    let want = resumed_at.duration_since(held_at).as_millis() as i64 - 20;
    let got = len as i64 * 20;
    assert!(
        (got - want).abs() <= 60,
        "hold silence {got} ms, expected {want} ms"
    );
    let at = start as f64 * 0.02;
    assert!((freq_between(&s96, at - 0.5, at) - 440.0).abs() < 10.0);
    let back = at + got as f64 / 1000.0;
    assert!((freq_between(&s96, back, back + 0.5) - 440.0).abs() < 10.0);
    let s98 = mono(&d, "98");
    assert!(
        inner_silence(&s98).1 <= 2,
        "98 has a gap: {:?}",
        inner_silence(&s98)
    );
}

#[test]
fn rfc8068_3_2_3_transfer_by_reinvite() {
    let mut f = Flow::basic();
    f.talk(SECOND);

    // Alice is replaced by Carol in the same CS; the SRC's ports change, the labels stay.
    let v = f.next_version();
    let r = f.reinvite(
        &four_lines(v, XFER_PORTS),
        "rfc/rfc8068-3.2.3-transfer-metadata.xml",
    );
    assert_eq!(
        f.d.media_addr(&r, "96"),
        f.dest(0),
        "kept stream keeps its port"
    );
    assert_eq!(f.d.media_addr(&r, "98"), f.dest(1));
    let d = f.after_docs(2);
    assert!(
        has_event(&d, "participant_joined", CAROL),
        "{:#}",
        d["events"]
    );
    assert!(
        has_event(&d, "participant_left", ALICE),
        "{:#}",
        d["events"]
    );
    assert!(!has_event(&d, "participant_left", BOB));
    assert_eq!(participant(&d, A_CAROL)["name"], "Carol");
    assert_eq!(sends_of(&d, A_BOB), ["98", "99"]);
    let sip_ids = d["sessions"][0]["sip_session_ids"].to_string();
    assert!(
        sip_ids.contains("3363127f0d084c10876dddd4f8e5eeb9"),
        "{sip_ids}"
    );

    // Carol's voice now comes on 96.
    f.pump().with(|s| s[0].freq = 660.0);
    f.talk(SECOND);
    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96", "98"]);
    assert_counters(&d, &["96", "98"], &sent);
    let s96 = mono(&d, "96");
    assert!((freq_between(&s96, 0.3, 0.9) - 440.0).abs() < 10.0);
    let end = s96.len() as f64 / 8000.0;
    assert!((freq_between(&s96, end - 0.8, end - 0.2) - 660.0).abs() < 10.0);
}

/// A multipart body whose metadata part has no Content-Disposition (as in the RFC's REFER and
/// BYE examples).
fn no_disposition(sdp: Option<&str>, xml: &[u8]) -> (String, Vec<u8>) {
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = Vec::new();
    if let Some(s) = sdp {
        parts.push(("application/sdp", None, s.as_bytes()));
    }
    parts.push(("application/rs-metadata", None, xml));
    multipart(&parts)
}

#[test]
fn rfc8068_3_2_3_transfer_by_refer() {
    let mut f = Flow::basic();
    f.talk(SECOND);

    // Step 1: the old CS stops (stop-time, both disassociated).
    let v = f.next_version();
    f.reinvite(
        &four_lines(v, XFER_PORTS),
        "rfc/rfc8068-3.2.3-refer-transfer-old-cs-metadata.xml",
    );
    let d = f.after_docs(2);
    assert_eq!(count_events(&d, "cs_stopped", None), 1, "{:#}", d["events"]);
    assert!(
        has_event(&d, "participant_left", ALICE),
        "{:#}",
        d["events"]
    );
    assert!(has_event(&d, "participant_left", BOB));
    assert_eq!(d["state"], "active", "the RS outlives its CS");

    // Step 2: a complete snapshot of the new CS (Bob and Carol) in the same RS.
    let v = f.next_version();
    let sdp = four_lines(v, XFER_PORTS);
    let xml = corpus("rfc/rfc8068-3.2.3-refer-transfer-new-cs-metadata.xml");
    let (ct, body) = no_disposition(Some(&sdp), &xml);
    let r =
        f.d.request("INVITE", &[("Require", "siprec")], Some((&ct, &body)));
    assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
    let d = f.after_docs(3);
    assert_eq!(count_events(&d, "cs_started", None), 2, "{:#}", d["events"]);
    assert!(has_event(&d, "participant_joined", CAROL));
    let sessions = d["sessions"].to_string();
    assert!(sessions.contains("bfLZ+NTFEeCNxQTuRyQBmw=="), "{sessions}");
    let carol = participant(&d, A_CAROL);
    assert_eq!(carol["id"], CAROL);
    let mut carol_sends: Vec<&str> = carol["sends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    carol_sends.sort();
    assert_eq!(carol_sends, ["96", "97"], "new CS: Carol sends 96/97");
    assert_eq!(
        d["metadata"][2]["raw"].as_str().unwrap().as_bytes(),
        &xml[..]
    );

    f.pump().with(|s| s[0].freq = 660.0);
    f.talk(SECOND);
    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96", "98"]);
    assert_counters(&d, &["96", "98"], &sent);
    assert_eq!(d["metadata"].as_array().unwrap().len(), 3);
}

#[test]
fn rfc8068_3_2_4_bye_with_metadata() {
    let mut f = Flow::basic();
    f.talk(SECOND);
    // The RFC's framing: a one-part multipart, no Content-Disposition, no closing delimiter.
    let xml = corpus("rfc/rfc8068-3.2.4-bye-metadata.xml");
    let mut body = b"--foobar\r\nContent-Type: application/rs-metadata\r\n\r\n".to_vec();
    body.extend_from_slice(&xml);
    f.hang_up(Some(("multipart/mixed;boundary=foobar", &body)));
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96", "98"]);
    let docs = d["metadata"].as_array().unwrap();
    assert_eq!(docs.len(), 2, "{:#}", d["metadata"]);
    assert_eq!(docs[1]["sip_method"], "BYE");
    assert!(
        docs[1]["raw"]
            .as_str()
            .unwrap()
            .contains("<stop-time>2010-12-16T23:41:07Z</stop-time>"),
        "{:#}",
        docs[1]
    );
    assert_eq!(count_events(&d, "cs_stopped", None), 1, "{:#}", d["events"]);
    assert!(has_event(&d, "participant_left", ALICE));
    assert!(has_event(&d, "participant_left", BOB));
}

#[test]
fn rfc8068_3_3_1_and_3_3_2_mixing_hold_and_resume() {
    let mut f = Flow::mixed("rfc/rfc8068-3.3.1-mixing-metadata.xml");
    let d = f.after_docs(1);
    assert_eq!(sends_of(&d, A_ALICE), ["96"]);
    assert_eq!(sends_of(&d, A_BOB), ["96"]);
    assert_eq!(
        d["sessions"][0]["sip_session_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    f.talk(SECOND);

    let sdp = |v| sdp_offer(ip(), v, &[MLine::audio(49170, "96")]);
    let v = f.next_version();
    f.reinvite(&sdp(v), "rfc/rfc8068-3.3.2-mixing-hold-metadata.xml");
    let d = f.after_docs(2);
    assert_eq!(sends_of(&d, A_ALICE), Vec::<String>::new());
    assert_eq!(sends_of(&d, A_BOB), ["96"]);
    assert!(has_event(&d, "send_stopped", ALICE), "{:#}", d["events"]);
    // Bob still talks into the mix: no pause (RFC 8068 3.3.2).
    assert_eq!(count_events(&d, "pause", None), 0, "{:#}", d["events"]);
    f.talk(SECOND);

    let v = f.next_version();
    f.reinvite(&sdp(v), "rfc/rfc8068-3.3.2-mixing-resume-metadata.xml");
    let d = f.after_docs(3);
    assert_eq!(sends_of(&d, A_ALICE), ["96"]);
    assert_eq!(
        count_events(&d, "send_started", Some("96")),
        3,
        "{:#}",
        d["events"]
    );
    assert_eq!(count_events(&d, "resume", None), 0);
    f.talk(SECOND);

    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96"]);
    assert_counters(&d, &["96"], &sent);
    let s96 = mono(&d, "96");
    assert!(inner_silence(&s96).1 <= 2, "the mix never stopped");
    assert!((freq_between(&s96, 1.0, 2.0) - 440.0).abs() < 10.0);
}

#[test]
fn rfc8068_3_3_3_conference_join_and_drop() {
    let mut f = Flow::mixed("rfc/rfc8068-3.3.1-mixing-metadata.xml");
    f.talk(SECOND);
    let sdp = |v| sdp_offer(ip(), v, &[MLine::audio(49170, "96")]);

    let v = f.next_version();
    f.reinvite(&sdp(v), "rfc/rfc8068-3.3.3-join-metadata.xml");
    let d = f.after_docs(2);
    assert!(
        has_event(&d, "participant_joined", CAROL),
        "{:#}",
        d["events"]
    );
    assert_eq!(sends_of(&d, A_CAROL), ["96"]);
    assert_eq!(
        d["sessions"][0]["sip_session_ids"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    f.talk(SECOND);

    let v = f.next_version();
    f.reinvite(&sdp(v), "rfc/rfc8068-3.3.3-drop-metadata.xml");
    let d = f.after_docs(3);
    assert!(
        has_event(&d, "participant_left", ALICE),
        "{:#}",
        d["events"]
    );
    assert!(!has_event(&d, "participant_left", BOB));
    assert!(!has_event(&d, "participant_left", CAROL));
    let ids = d["sessions"][0]["sip_session_ids"].to_string();
    assert!(!ids.contains("fa3b60f27e91441e84c55a9a0095f075"), "{ids}");
    assert!(ids.contains("497c0f13929643b4a16858e2a3885edc"), "{ids}");
    assert_eq!(count_events(&d, "pause", None), 0, "{:#}", d["events"]);
    f.talk(SECOND);

    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96"]);
    assert_counters(&d, &["96"], &sent);
}

#[test]
fn rfc8068_3_4_1_persistent_recording_cs_disconnect() {
    let mut f = Flow::basic();
    f.talk(SECOND);

    // The CS ends by a metadata-only re-INVITE; the RS stays up (RFC 8068 3.4.1).
    let xml = corpus("rfc/rfc8068-3.4.1-persistent-cs-disconnect-metadata.xml");
    let r = f.d.request(
        "INVITE",
        &[
            ("Require", "siprec"),
            ("Content-Disposition", "recording-session"),
        ],
        Some(("application/rs-metadata+xml", &xml)),
    );
    assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
    // An offerless re-INVITE gets our current SDP, the same ports.
    assert_eq!(f.d.media_addr(&r, "96"), f.dest(0));
    assert_eq!(f.d.media_addr(&r, "98"), f.dest(1));
    let d = f.after_docs(2);
    assert_eq!(count_events(&d, "cs_stopped", None), 1, "{:#}", d["events"]);
    assert!(has_event(&d, "participant_left", ALICE));
    assert!(has_event(&d, "participant_left", BOB));
    assert_eq!(d["state"], "active");

    // Media keeps flowing into the persistent RS.
    let t = Instant::now();
    f.talk(SECOND);
    assert_eq!(
        show(f.server.data_dir(), &f.id)["state"],
        "active",
        "still recording {:?} after the CS ended",
        t.elapsed()
    );
    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96", "98"]);
    assert_counters(&d, &["96", "98"], &sent);
    assert!(d["duration_ms"].as_u64().unwrap() >= 1900);
}

#[test]
fn rfc8068_3_5_turret() {
    let mut f = Flow::mixed("rfc/rfc8068-3.5-turret-metadata.xml");
    let d = f.after_docs(1);
    for aor in [A_ALICE, "sip:Bob@biloxy.com", "sip:Carol@example.com"] {
        assert_eq!(sends_of(&d, aor), ["96"], "{aor}");
    }
    assert_eq!(count_events(&d, "cs_started", None), 2, "{:#}", d["events"]);
    assert_eq!(count_events(&d, "participant_joined", None), 3);
    assert_eq!(d["group_id"], "7+OTCyoxTmqmqyA/1weDAg==");
    assert_eq!(d["sessions"].as_array().unwrap().len(), 2);
    f.talk(2 * SECOND);
    let sent = f.hang_up(None);
    let d = f.final_detail();
    assert_complete_with_files(&d, &["96"]);
    assert_counters(&d, &["96"], &sent);
    let s96 = mono(&d, "96");
    assert!((freq_between(&s96, 0.5, 1.5) - 440.0).abs() < 10.0);
}

/// A transfer done NetSapiens-style: BYE, then a new INVITE (new Call-ID) with the same group.
#[test]
fn transfer_as_bye_and_new_invite_links_the_recordings() {
    let server = Server::start();
    let first = corpus("vendor/vendor-netsapiens-xfer-1-initial.xml");
    let second = String::from_utf8(first.clone())
        .unwrap()
        .replace("20260729201721000631", "20260729201800000702")
        .replace("<groupSeq>0</groupSeq>", "<groupSeq>1</groupSeq>");
    let sdp = offer_sdp(ip(), [40_000, 40_002]);
    let mut calls = Vec::new();
    for xml in [first, second.into_bytes()] {
        let mut d = SrcDialog::start_siprec(server.sip, &sdp, &xml);
        let ok = d.ok.clone();
        let mut a = ToneRtp::new(d.media_addr(&ok, "1"), 440.0);
        let mut b = ToneRtp::new(d.media_addr(&ok, "2"), 880.0);
        play(&mut [&mut a, &mut b], SECOND);
        d.bye(None);
        calls.push(d.call.call_id.clone());
    }
    wait_final(server.data_dir(), 2);
    let ids: Vec<String> = calls
        .iter()
        .map(|c| {
            recording_of(server.data_dir(), c)["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for (me, other) in [(0, 1), (1, 0)] {
        let d = show(server.data_dir(), &ids[me]);
        assert_eq!(d["state"], "complete");
        assert_eq!(d["group_id"], "58cc3154ca0bdd2b0efbf9a04139526e");
        let linked = d["linked"].as_array().unwrap();
        assert_eq!(linked.len(), 1, "{:#}", d["linked"]);
        assert_eq!(linked[0]["id"], ids[other].as_str(), "{:#}", d["linked"]);
        assert_eq!(linked[0]["relation"], "group");
    }
}

/// Caller and callee are properties of the call: a hold (Alice stops sending) must not swap
/// them in the catalogue.
#[test]
fn rfc8068_3_2_2_hold_keeps_roles() {
    let mut f = Flow::basic();
    let role = |d: &Value, aor: &str| participant(d, aor)["role"].clone();
    let d = f.after_docs(1);
    assert_eq!(
        (role(&d, A_ALICE), role(&d, A_BOB)),
        ("caller".into(), "callee".into())
    );
    let v = f.next_version();
    f.pump().set_active(0, false);
    f.reinvite(&four_lines(v, PORTS), "rfc/rfc8068-3.2.2-hold-metadata.xml");
    let d = f.after_docs(2);
    assert_eq!(
        (role(&d, A_ALICE), role(&d, A_BOB)),
        ("caller".into(), "callee".into()),
        "{:#}",
        d["participants"]
    );
    f.hang_up(None);
}

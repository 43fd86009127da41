//! Mid-call changes of a recording session against the real server: holds by SDP direction and
//! by `c=0.0.0.0` (RFC 3264 8.4, RFC 7866 7.1.1.1), streams added and removed, a codec change,
//! metadata-only UPDATE, an offerless INVITE answered in the ACK, RFC 4028 session timers, snapshot
//! requests (RFC 7866 9.2) and in-dialog request checks (RFC 3261 12.2.2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SECOND: Duration = Duration::from_secs(1);
const ALICE: &str = "sip:alice@example.com";
const BOB: &str = "sip:bob@example.com";

fn ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// A two-stream call (labels 1 and 2, 440 Hz and 880 Hz) with media flowing.
struct Call {
    server: Server,
    d: SrcDialog,
    id: String,
    pump: Option<RtpPump>,
    version: u32,
}

impl Call {
    fn start() -> Call {
        Call::start_on(Server::start())
    }

    fn start_on(server: Server) -> Call {
        let sdp = sdp_offer(ip(), 1, &Call::lines());
        let xml = metadata_xml(ALICE, BOB, 0);
        let d = SrcDialog::start_siprec(server.sip, &sdp, xml.as_bytes());
        let ok = d.ok.clone();
        let pump = RtpPump::start(vec![
            ToneRtp::new(d.media_addr(&ok, "1"), 440.0),
            ToneRtp::new(d.media_addr(&ok, "2"), 880.0),
        ]);
        let id = recording_of(server.data_dir(), &d.call.call_id)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Call {
            server,
            d,
            id,
            pump: Some(pump),
            version: 1,
        }
    }

    fn lines() -> Vec<MLine> {
        vec![MLine::audio(40_000, "1"), MLine::audio(40_002, "2")]
    }

    fn pump(&self) -> &RtpPump {
        self.pump.as_ref().expect("media running")
    }

    /// re-INVITE (or UPDATE) with a new offer of these m-lines, no metadata; asserts 200.
    fn reoffer(&mut self, method: &str, lines: &[MLine]) -> Response {
        self.version += 1;
        let sdp = sdp_offer(ip(), self.version, lines);
        let r = self
            .d
            .request(method, &[], Some(("application/sdp", sdp.as_bytes())));
        assert_eq!(r.status, 200, "{method} answered {} {}", r.status, r.reason);
        r
    }

    fn show_until(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        show_until(self.server.data_dir(), &self.id, what, pred)
    }

    /// Stop the media, BYE, wait for the final catalogue entry; returns it and packets sent.
    fn finish(mut self) -> (Value, Vec<u32>, Server) {
        let streams = self.pump.take().expect("media running").stop();
        std::thread::sleep(Duration::from_millis(100));
        self.d.bye(None);
        wait_final(self.server.data_dir(), 1);
        let d = show(self.server.data_dir(), &self.id);
        assert_eq!(d["state"], "complete", "{d:#}");
        (d, streams.iter().map(|s| s.sent).collect(), self.server)
    }
}

fn stream<'a>(d: &'a Value, label: &str) -> &'a Value {
    d["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == label)
        .unwrap_or_else(|| panic!("no stream {label}: {:#}", d["streams"]))
}

fn mono(d: &Value, label: &str) -> Vec<i16> {
    let w = wav(path_of(&d["files"]["streams"][label]));
    assert_eq!((w.channels, w.sample_rate), (1, 8000));
    w.samples
}

/// Longest silent run (20 ms frames) strictly inside the signal.
fn inner_silence(samples: &[i16]) -> (usize, usize) {
    let frames = samples.len().div_ceil(160);
    silent_runs(samples)
        .into_iter()
        .filter(|(start, len)| *start > 0 && start + len < frames)
        .max_by_key(|(_, len)| *len)
        .unwrap_or((0, 0))
}

/// How a hold is signalled in the re-offer.
#[derive(Clone, Copy, Debug)]
enum Hold {
    Inactive,
    ZeroAddress,
}

fn hold_and_resume(how: Hold) {
    let mut c = Call::start();
    std::thread::sleep(SECOND);
    let held = match how {
        Hold::Inactive => MLine::audio(40_000, "1").dir("inactive"),
        Hold::ZeroAddress => MLine::audio(40_000, "1").conn("0.0.0.0"),
    };
    let held_at = c.pump().with(|s| {
        s[0].active = false;
        s[0].last.expect("sent")
    });
    let r = c.reoffer("INVITE", &[held, MLine::audio(40_002, "2")]);
    let media = answer_media(&r.body);
    assert_ne!(media[0].0.port(), 0, "a held stream stays negotiated");
    if let Hold::Inactive = how {
        assert!(media[0].1.iter().any(|a| a == "inactive"), "{media:?}");
    }
    let d = c.show_until("the pause", |d| count_events(d, "pause", Some("1")) == 1);
    let pause = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "pause")
        .unwrap();
    assert_eq!(pause["details"]["cause"], "sdp", "{pause}");
    assert_eq!(count_events(&d, "pause", Some("2")), 0);
    assert_eq!(d["state"], "active");

    std::thread::sleep(Duration::from_millis(1200));
    c.reoffer("INVITE", &Call::lines());
    c.pump().set_active(0, true);
    let d = c.show_until("the resume", |d| count_events(d, "resume", Some("1")) == 1);
    let at = |k: &str| {
        d["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == k)
            .unwrap()["at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(at("pause") <= at("resume"));
    std::thread::sleep(SECOND);
    let resumed_at = c.pump().with(|s| s[0].resumed.expect("resumed"));
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
    assert_eq!(stream(&d, "2")["packets_received"], sent[1]);

    let s1 = mono(&d, "1");
    let (start, len) = inner_silence(&s1);
    let want = resumed_at.duration_since(held_at).as_millis() as i64 - 20;
    let got = len as i64 * 20;
    assert!(
        (got - want).abs() <= 60,
        "{how:?}: silence of {got} ms in stream 1, the hold lasted {want} ms"
    );
    let t = start as f64 * 0.02;
    assert!((freq_between(&s1, t - 0.6, t - 0.1) - 440.0).abs() < 10.0);
    let back = t + got as f64 / 1000.0;
    assert!((freq_between(&s1, back + 0.1, back + 0.6) - 440.0).abs() < 10.0);
    // Stream 2 never paused.
    assert!(inner_silence(&mono(&d, "2")).1 <= 2);
}

#[test]
fn hold_by_inactive_then_resume() {
    hold_and_resume(Hold::Inactive);
}

#[test]
fn hold_by_zero_connection_address_then_resume() {
    hold_and_resume(Hold::ZeroAddress);
}

#[test]
fn stream_added_by_reinvite_gets_its_own_file() {
    let mut c = Call::start();
    std::thread::sleep(SECOND);
    let mut lines = Call::lines();
    lines.push(MLine::audio(40_004, "3"));
    let r = c.reoffer("INVITE", &lines);
    let media = answer_media(&r.body);
    assert_eq!(media.len(), 3, "{media:?}");
    let ok = c.d.ok.clone();
    // The kept streams keep their ports.
    assert_eq!(c.d.media_addr(&r, "1"), c.d.media_addr(&ok, "1"));
    assert_eq!(c.d.media_addr(&r, "2"), c.d.media_addr(&ok, "2"));
    let third = c.d.media_addr(&r, "3");
    c.pump().with(|s| s.push(ToneRtp::new(third, 660.0)));
    let d = c.show_until("stream_added", |d| {
        count_events(d, "stream_added", Some("3")) == 1
    });
    assert_eq!(stream(&d, "3")["codec"], "PCMU");
    std::thread::sleep(SECOND);
    let (d, sent, _server) = c.finish();
    for (label, n) in ["1", "2", "3"].iter().zip(&sent) {
        assert_eq!(stream(&d, label)["packets_received"], *n, "stream {label}");
    }
    let s3 = mono(&d, "3");
    let end = s3.len() as f64 / 8000.0;
    assert!(end > 0.8, "third file lasts {end} s");
    let f = freq_between(&s3, end - 0.8, end - 0.1);
    assert!((f - 660.0).abs() < 10.0, "third stream is {f} Hz");
    // The first streams are untouched.
    let s1 = mono(&d, "1");
    assert!((freq_between(&s1, 0.2, 0.9) - 440.0).abs() < 10.0);
}

#[test]
fn stream_removed_by_port_zero_keeps_its_counters() {
    let mut c = Call::start();
    std::thread::sleep(SECOND);
    let sent2 = c.pump().with(|s| {
        s[1].active = false;
        s[1].sent
    });
    std::thread::sleep(Duration::from_millis(100));
    let r = c.reoffer("INVITE", &[MLine::audio(40_000, "1"), MLine::audio(0, "2")]);
    let media = answer_media(&r.body);
    assert_eq!(media.len(), 2);
    assert_eq!(media[1].0.port(), 0, "removed stream answered with port 0");
    let d = c.show_until("stream_removed", |d| {
        count_events(d, "stream_removed", Some("2")) == 1
    });
    assert_eq!(d["state"], "active");
    std::thread::sleep(SECOND);
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
    assert!(sent2 > 40, "stream 2 sent {sent2}");
    assert_eq!(
        stream(&d, "2")["packets_received"],
        sent2,
        "the removed stream keeps its counters: {:#}",
        stream(&d, "2")
    );
    assert_eq!(stream(&d, "2")["packets_lost"], 0);
    // Its file keeps what was received before the removal.
    let s2 = mono(&d, "2");
    assert!((freq_between(&s2, 0.2, 0.9) - 880.0).abs() < 10.0);
}

/// Fraction of the energy of `x` that is not a sine of `freq` (least-squares fit).
fn residual(x: &[i16], freq: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / 8000.0;
    let (mut ss, mut sc, mut cc, mut xs, mut xc, mut xx) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let (s, c) = ((w * i as f64).sin(), (w * i as f64).cos());
        let v = f64::from(v);
        ss += s * s;
        sc += s * c;
        cc += c * c;
        xs += v * s;
        xc += v * c;
        xx += v * v;
    }
    let det = ss * cc - sc * sc;
    let a = (xs * cc - xc * sc) / det;
    let b = (xc * ss - xs * sc) / det;
    let mut err = 0.0;
    for (i, &v) in x.iter().enumerate() {
        let fit = a * (w * i as f64).sin() + b * (w * i as f64).cos();
        err += (f64::from(v) - fit).powi(2);
    }
    err / xx.max(1.0)
}

#[test]
fn codec_change_to_pcma_mid_call_keeps_the_tone() {
    let mut c = Call::start();
    std::thread::sleep(SECOND);
    let r = c.reoffer(
        "INVITE",
        &[MLine::audio(40_000, "1").pt(8), MLine::audio(40_002, "2")],
    );
    let media = answer_media(&r.body);
    assert!(
        media[0].1.iter().any(|a| a.starts_with("rtpmap:8 PCMA")),
        "answer keeps PCMA: {media:?}"
    );
    c.pump().with(|s| s[0].codec = tapline_media::Codec::Pcma);
    let d = c.show_until("codec_changed", |d| {
        count_events(d, "codec_changed", Some("1")) == 1
    });
    assert_eq!(stream(&d, "1")["codec"], "PCMA");
    std::thread::sleep(Duration::from_millis(1500));
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
    let s1 = mono(&d, "1");
    let end = s1.len() as f64 / 8000.0;
    // Before and after the change: a clean 440 Hz sine (A-law read as mu-law would not be).
    for (from, to) in [(0.2, 0.8), (end - 1.0, end - 0.2)] {
        let a = (from * 8000.0) as usize;
        let b = (to * 8000.0) as usize;
        let seg = &s1[a..b];
        assert!((tapline_media::dominant_frequency(seg, 8000) - 440.0).abs() < 10.0);
        let r = residual(seg, 440.0);
        assert!(
            r < 0.02,
            "{from:.1}..{to:.1} s: {r:.4} of the energy is not the tone"
        );
    }
}

#[test]
fn metadata_only_update_answers_without_sdp_and_updates_participants() {
    let mut c = Call::start();
    std::thread::sleep(Duration::from_millis(500));
    let xml = metadata_xml(ALICE, "sip:carol@example.com", 0);
    let r = c.d.request(
        "UPDATE",
        &[
            ("Require", "siprec"),
            ("Content-Disposition", "recording-session"),
        ],
        Some(("application/rs-metadata+xml", xml.as_bytes())),
    );
    assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
    assert!(r.body.is_empty(), "UPDATE without offer got a body: {r:?}");
    assert!(r.header("Content-Type").is_none());
    let d = c.show_until("carol", |d| {
        d["metadata"].as_array().map_or(0, |a| a.len()) == 2
            && d["participants"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["aor"] == "sip:carol@example.com"))
    });
    assert_eq!(d["metadata"][1]["sip_method"], "UPDATE");
    assert!(
        d["participants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["aor"] != BOB),
        "the complete snapshot replaced Bob: {:#}",
        d["participants"]
    );
    std::thread::sleep(Duration::from_millis(500));
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
}

#[test]
fn offerless_invite_answered_in_the_ack_records_audio() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let xml = metadata_xml(ALICE, BOB, 0);
    link.send(&call.invite(
        &branch(),
        &[("Content-Disposition", "recording-session")],
        "application/rs-metadata+xml",
        xml.as_bytes(),
    ));
    let ok = final_response(&mut link, &call.call_id, "INVITE", Duration::from_secs(10));
    assert_eq!(ok.status, 200, "{} {}", ok.status, ok.reason);
    // Our offer: two receive-only audio streams.
    let offer = answer_media(&ok.body);
    assert_eq!(offer.len(), 2, "{}", String::from_utf8_lossy(&ok.body));
    for (addr, attrs) in &offer {
        assert_ne!(addr.port(), 0);
        assert!(attrs.iter().any(|a| a == "recvonly"), "{attrs:?}");
    }
    let tag = ok.to_tag().unwrap().to_owned();
    let answer = sdp_offer(ip(), 1, &Call::lines());
    link.send(&call.request(
        "ACK",
        1,
        &branch(),
        Some(&tag),
        &[],
        Some(("application/sdp", answer.as_bytes())),
    ));
    let pump = RtpPump::start(vec![
        ToneRtp::new(offer[0].0, 440.0),
        ToneRtp::new(offer[1].0, 880.0),
    ]);
    std::thread::sleep(Duration::from_millis(1500));
    let sent: Vec<u32> = pump.stop().iter().map(|s| s.sent).collect();
    std::thread::sleep(Duration::from_millis(100));
    link.send(&call.request("BYE", 2, &branch(), Some(&tag), &[], None));
    let r = final_response(&mut link, &call.call_id, "BYE", Duration::from_secs(10));
    assert_eq!(r.status, 200);
    wait_final(server.data_dir(), 1);
    let id = recording_of(server.data_dir(), &call.call_id)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = show(server.data_dir(), &id);
    assert_eq!(d["state"], "complete", "{d:#}");
    let labels: Vec<String> = d["files"]["streams"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(labels.len(), 2, "{:#}", d["files"]);
    for (i, (label, want)) in labels.iter().zip([440.0, 880.0]).enumerate() {
        assert_eq!(stream(&d, label)["packets_received"], sent[i], "{label}");
        let s = mono(&d, label);
        let f = freq_between(&s, 0.3, 1.2);
        assert!((f - want).abs() < 10.0, "stream {label} is {f} Hz");
    }
}

#[test]
fn offer_while_our_offer_is_unanswered_gets_491() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let xml = metadata_xml(ALICE, BOB, 0);
    link.send(&call.invite(
        &branch(),
        &[("Content-Disposition", "recording-session")],
        "application/rs-metadata+xml",
        xml.as_bytes(),
    ));
    let ok = final_response(&mut link, &call.call_id, "INVITE", Duration::from_secs(10));
    assert_eq!(ok.status, 200);
    let tag = ok.to_tag().unwrap().to_owned();
    // No ACK yet: an UPDATE with an offer crosses ours (RFC 3311 5.2).
    let sdp = sdp_offer(ip(), 1, &Call::lines());
    link.send(&call.request(
        "UPDATE",
        2,
        &branch(),
        Some(&tag),
        &[],
        Some(("application/sdp", sdp.as_bytes())),
    ));
    let r = final_response(&mut link, &call.call_id, "UPDATE", Duration::from_secs(10));
    assert_eq!(r.status, 491, "{} {}", r.status, r.reason);
    link.send(&call.request(
        "ACK",
        1,
        &branch(),
        Some(&tag),
        &[],
        Some(("application/sdp", sdp.as_bytes())),
    ));
    link.send(&call.request("BYE", 3, &branch(), Some(&tag), &[], None));
    let r = final_response(&mut link, &call.call_id, "BYE", Duration::from_secs(10));
    assert_eq!(r.status, 200);
    let l = wait_final(server.data_dir(), 1);
    // No RTP was sent: the recording ends `empty` (a normal end, not `failed`).
    assert_eq!(l[0]["state"], "empty", "{l:#}");
}

const TIMER_CONFIG: &str = "min_se_secs = 2\n";

fn timer_call(server: Server) -> Call {
    let sdp = sdp_offer(ip(), 1, &Call::lines());
    let xml = metadata_xml(ALICE, BOB, 0);
    let (ct, body) = siprec_body(&sdp, &xml);
    let d = SrcDialog::start(
        server.sip,
        &[("Session-Expires", "3"), ("Supported", "timer")],
        &ct,
        &body,
    );
    let se =
        d.ok.header("Session-Expires")
            .expect("Session-Expires in the 200");
    assert!(se.starts_with('3'), "Session-Expires: {se}");
    assert!(se.contains("refresher=uac"), "Session-Expires: {se}");
    assert!(
        d.ok.headers
            .get_all("Require")
            .iter()
            .any(|v| v.contains("timer")),
        "Require: timer in the 200 to a UAC that supports it"
    );
    let ok = d.ok.clone();
    let pump = RtpPump::start(vec![
        ToneRtp::new(d.media_addr(&ok, "1"), 440.0),
        ToneRtp::new(d.media_addr(&ok, "2"), 880.0),
    ]);
    let id = recording_of(server.data_dir(), &d.call.call_id)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Call {
        server,
        d,
        id,
        pump: Some(pump),
        version: 1,
    }
}

#[test]
fn session_timer_without_refresh_ends_the_recording_with_bye() {
    let mut c = timer_call(Server::start_with(&[], Some(TIMER_CONFIG)));
    let t0 = Instant::now();
    let bye = server_request(&mut c.d.link, "BYE", Duration::from_secs(8));
    let after = t0.elapsed();
    assert!(
        after >= Duration::from_millis(2500) && after <= Duration::from_millis(5500),
        "BYE {after:?} after the 200 for Session-Expires 3"
    );
    assert_eq!(bye.call_id(), Some(c.d.call.call_id.as_str()));
    assert_eq!(bye.to_tag(), Some(c.d.call.from_tag.clone()));
    let ok = ok_to(&bye);
    c.d.link.send(&ok);
    c.pump.take().unwrap().stop();
    wait_final(c.server.data_dir(), 1);
    let d = show(c.server.data_dir(), &c.id);
    assert_ne!(d["state"], "active");
    let reason = d["end_reason"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("session timer"), "end_reason {reason:?}");
    let secs = d["duration_ms"].as_u64().unwrap();
    assert!((2500..6000).contains(&secs), "duration {secs} ms");
    // The session is gone: a late refresh finds no dialog.
    let r = c.d.request("UPDATE", &[("Session-Expires", "3")], None);
    assert_eq!(r.status, 481, "{} {}", r.status, r.reason);
}

#[test]
fn session_timer_refreshed_by_update_stays_up() {
    let mut c = timer_call(Server::start_with(&[], Some(TIMER_CONFIG)));
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(SECOND);
        let r = c.d.request(
            "UPDATE",
            &[
                ("Session-Expires", "3;refresher=uac"),
                ("Supported", "timer"),
            ],
            None,
        );
        assert_eq!(
            r.status,
            200,
            "refresh at {:?}: {} {}",
            t0.elapsed(),
            r.status,
            r.reason
        );
        let se = r
            .header("Session-Expires")
            .expect("Session-Expires in the 200");
        assert!(se.starts_with('3'), "{se}");
    }
    let d = show(c.server.data_dir(), &c.id);
    assert_eq!(
        d["state"],
        "active",
        "still recording after {:?}",
        t0.elapsed()
    );
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
    assert!(d["duration_ms"].as_u64().unwrap() >= 6000);
}

#[test]
fn session_expires_below_min_se_gets_422() {
    let server = Server::start_with(&[], Some(TIMER_CONFIG));
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let b = branch();
    link.send(&call.siprec_invite(&b, &[("Session-Expires", "1"), ("Supported", "timer")]));
    let r = final_response(&mut link, &call.call_id, "INVITE", Duration::from_secs(10));
    assert_eq!(r.status, 422, "{} {}", r.status, r.reason);
    assert_eq!(r.header("Min-SE").map(str::trim), Some("2"));
    link.send(&call.ack(&b, &r.to_tag().unwrap_or_default()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(list(server.data_dir()).as_array().unwrap().len(), 0);

    // Inside a session too: a refresh asking for less than Min-SE is refused, the session stays.
    let mut c = Call::start_on(server);
    let r = c.d.request("UPDATE", &[("Session-Expires", "1")], None);
    assert_eq!(r.status, 422, "{} {}", r.status, r.reason);
    assert_eq!(r.header("Min-SE").map(str::trim), Some("2"));
    let r = c.d.request("UPDATE", &[("Session-Expires", "2")], None);
    assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
    let r = c.d.request("UPDATE", &[], None);
    assert_eq!(r.status, 200, "refresh without timer turns it off");
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
}

/// A partial update naming a participant never described (RFC 7865 5: needs a snapshot).
const UNKNOWN_PARTICIPANT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>partial</datamode>
  <participantstreamassoc participant_id="Q2Fyb2xJc1Vua25vd24xMg==">
    <send>UAAMm5GRQKSCMVvLyl4rFw==</send>
  </participantstreamassoc>
</recording>
"#;

/// Send the partial update and collect both our 200 and the server's snapshot request.
fn provoke_snapshot_request(c: &mut Call) -> Request {
    c.d.cseq += 1;
    let bytes = c.d.call.request(
        "UPDATE",
        c.d.cseq,
        &branch(),
        Some(&c.d.to_tag),
        &[
            ("Require", "siprec"),
            ("Content-Disposition", "recording-session"),
        ],
        Some((
            "application/rs-metadata+xml",
            UNKNOWN_PARTICIPANT.as_bytes(),
        )),
    );
    c.d.link.send(&bytes);
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut answered, mut request) = (false, None);
    while !(answered && request.is_some()) {
        let Some((_, _, msg)) = c.d.link.recv(deadline) else {
            panic!(
                "answered={answered}, snapshot request={}",
                request.is_some()
            );
        };
        match msg {
            Message::Response(r) if r.status >= 200 => {
                assert_eq!(r.status, 200, "{} {}", r.status, r.reason);
                answered = true;
            }
            Message::Request(r) if r.method.as_str() == "UPDATE" => request = Some(r),
            _ => {}
        }
    }
    let req = request.unwrap();
    assert_eq!(req.call_id(), Some(c.d.call.call_id.as_str()));
    assert_eq!(req.from_tag(), Some(c.d.to_tag.clone()));
    assert_eq!(req.to_tag(), Some(c.d.call.from_tag.clone()));
    let ct = req
        .header("Content-Type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        ct.starts_with("application/rs-metadata"),
        "Content-Type {ct}"
    );
    assert!(
        req.header("Content-Disposition")
            .unwrap_or_default()
            .starts_with("recording-session"),
        "{req:?}"
    );
    let body = String::from_utf8_lossy(&req.body);
    assert!(body.contains("<requestsnapshot"), "{body}");
    assert!(!body.contains("v=0"), "no SDP in a snapshot request");
    req
}

fn snapshot_request_answered(status: u16) {
    let server = Server::start_with(&[], Some("request_snapshots = true\n"));
    let mut c = Call::start_on(server);
    std::thread::sleep(Duration::from_millis(500));
    let req = provoke_snapshot_request(&mut c);
    let resp = Response::for_request(
        &req,
        status,
        if status == 200 {
            "OK"
        } else {
            "Unsupported Media Type"
        },
    );
    c.d.link.send(&resp.to_bytes());
    let d = c.show_until("snapshot_requested", |d| {
        count_events(d, "snapshot_requested", None) == 1
    });
    assert_eq!(d["metadata"].as_array().unwrap().len(), 2);
    std::thread::sleep(SECOND);
    // No retransmission of the answered request, and the recording goes on.
    let d = show(c.server.data_dir(), &c.id);
    assert_eq!(
        d["state"], "active",
        "after a {status} to the snapshot request"
    );
    if status == 200 {
        // The SRC sends its snapshot.
        let xml = metadata_xml(ALICE, BOB, 0);
        let r = c.d.request(
            "UPDATE",
            &[("Content-Disposition", "recording-session")],
            Some(("application/rs-metadata+xml", xml.as_bytes())),
        );
        assert_eq!(r.status, 200);
    }
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
    assert_eq!(stream(&d, "2")["packets_received"], sent[1]);
    assert_eq!(count_events(&d, "snapshot_requested", None), 1);
}

#[test]
fn snapshot_request_answered_200() {
    snapshot_request_answered(200);
}

#[test]
fn snapshot_request_refused_415_recording_goes_on() {
    snapshot_request_answered(415);
}

#[test]
fn cseq_lower_than_the_last_gets_500() {
    let mut c = Call::start();
    let send = |c: &mut Call, cseq: u32| {
        let bytes =
            c.d.call
                .request("UPDATE", cseq, &branch(), Some(&c.d.to_tag), &[], None);
        c.d.link.send(&bytes);
        final_response(
            &mut c.d.link,
            &c.d.call.call_id,
            "UPDATE",
            Duration::from_secs(10),
        )
    };
    assert_eq!(send(&mut c, 5).status, 200);
    let r = send(&mut c, 3);
    assert_eq!(r.status, 500, "{} {}", r.status, r.reason);
    c.d.cseq = 5;
    std::thread::sleep(Duration::from_millis(300));
    let (d, sent, _server) = c.finish();
    assert_eq!(stream(&d, "1")["packets_received"], sent[0]);
}

#[test]
fn reinvite_on_an_unknown_dialog_gets_481() {
    let server = Server::start();
    let mut link = UdpLink::new(server.sip);
    let call = link.call();
    let sdp = sdp_offer(ip(), 2, &Call::lines());
    let b = branch();
    link.send(&call.request(
        "INVITE",
        2,
        &b,
        Some("no-such-dialog"),
        &[],
        Some(("application/sdp", sdp.as_bytes())),
    ));
    let r = final_response(&mut link, &call.call_id, "INVITE", Duration::from_secs(10));
    assert_eq!(r.status, 481, "{} {}", r.status, r.reason);
    link.send(&call.request("ACK", 2, &b, Some("no-such-dialog"), &[], None));
    assert_eq!(list(server.data_dir()).as_array().unwrap().len(), 0);
}

/// An operator asks for a snapshot (`tapline snapshot ID`): with automatic requests off (the
/// default), the SRC still gets an UPDATE carrying a requestsnapshot document.
#[test]
fn operator_snapshot_request_reaches_the_src() {
    let mut c = Call::start();
    let out = std::process::Command::new(BIN)
        .args(["snapshot", &c.id, "--data-dir"])
        .arg(c.server.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let req = server_request(&mut c.d.link, "UPDATE", Duration::from_secs(10));
    let body = String::from_utf8_lossy(&req.body).into_owned();
    assert!(body.contains("requestsnapshot"), "{body}");
    assert!(body.contains("requested by the operator"), "{body}");
    assert_eq!(req.header("Content-Disposition"), Some("recording-session"));
    c.d.link
        .send(&Response::for_request(&req, 200, "OK").to_bytes());
    // An unknown recording is refused with a clear answer.
    let out = std::process::Command::new(BIN)
        .args(["snapshot", "no-such-recording", "--data-dir"])
        .arg(c.server.data_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("no active recording"));
    let (d, _, _server) = c.finish();
    assert_eq!(count_events(&d, "snapshot_requested", None), 1);
}

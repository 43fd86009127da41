//! Item 2: nobody else's audio gets into a recording. Once a stream's source is known only its
//! packets are recorded; others are dropped, counted (`foreign`) and warned about. An SBC whose
//! packets come from another address than its `c=` line is still recorded (latched, with a
//! warning) unless `rtp_source = "offer"`.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::common::{
    MLine, Server, SrcDialog, channel, freq_between, metadata_xml, path_of, sdp_offer, show,
    wait_final, wav,
};
use crate::hostile::util::stats;

/// Sends 20 ms PCMU tone packets from a chosen local address with chosen identifiers.
struct Sender {
    sock: UdpSocket,
    dest: SocketAddr,
    freq: f64,
    ssrc: u32,
    seq: u16,
    n: u64,
}

impl Sender {
    fn new(from: &str, dest: SocketAddr, freq: f64, ssrc: u32) -> Sender {
        Sender {
            sock: UdpSocket::bind(format!("{from}:0")).expect("bind sender"),
            dest,
            freq,
            ssrc,
            seq: 100,
            n: 0,
        }
    }

    /// Packet number `n` of this sender's tone, with `seq`/`ts`/`ssrc` as given.
    fn packet(&self, seq: u16, n: u64, ssrc: u32) -> Vec<u8> {
        let mut pcm = [0i16; 160];
        tapline_media::tone(self.freq, 8000, 8000, n * 160, &mut pcm);
        let mut payload = [0u8; 160];
        tapline_media::Codec::Pcmu.encode(&pcm, &mut payload);
        let mut buf = [0u8; 200];
        let len =
            tapline_media::write_rtp(&mut buf, n == 0, 0, seq, (n * 160) as u32, ssrc, &payload)
                .expect("RTP packet");
        buf[..len].to_vec()
    }

    fn send_next(&mut self) -> (u16, u64) {
        let (seq, n) = (self.seq, self.n);
        let p = self.packet(seq, n, self.ssrc);
        self.sock.send_to(&p, self.dest).expect("send RTP");
        self.seq = self.seq.wrapping_add(1);
        self.n += 1;
        (seq, n)
    }
}

/// Paced 20 ms ticks for `dur`, calling `tick` at each.
fn paced(dur: Duration, mut tick: impl FnMut()) {
    let start = Instant::now();
    for k in 0..(dur.as_millis() / 20) as u32 {
        let at = start + Duration::from_millis(20) * k;
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        tick();
    }
}

fn detail_text(d: &serde_json::Value) -> String {
    d.to_string()
}

fn stream_file(d: &serde_json::Value, label: &str) -> Vec<i16> {
    let st = d["streams"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["label"] == label))
        .unwrap_or_else(|| panic!("no stream {label}: {d:#}"));
    let w = wav(path_of(&st["file"]));
    channel(&w.samples, usize::from(w.channels), 0)
}

fn manifest_stream<'a>(d: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    d["manifest"]["streams"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["label"] == label))
        .unwrap_or_else(|| panic!("no manifest stream {label}: {d:#}"))
}

#[test]
fn injected_streams_and_forged_duplicates_never_reach_the_file() {
    let server = Server::start();
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let sdp = sdp_offer(
        lo,
        1,
        &[MLine::audio(40_000, "1"), MLine::audio(40_002, "2")],
    );
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    let mut d = SrcDialog::start_siprec(server.sip, &sdp, xml.as_bytes());
    let (a1, a2) = (d.media_addr(&d.ok, "1"), d.media_addr(&d.ok, "2"));
    // The real SRC sends from the offer's address; the attacker from another one.
    let mut caller = Sender::new("127.0.0.1", a1, 440.0, 0x1111_1111);
    let mut callee = Sender::new("127.0.0.1", a2, 880.0, 0x2222_2222);
    let attacker = Sender::new("127.0.0.2", a1, 1500.0, 0x1111_1111);
    let mut other_ssrc = Sender::new("127.0.0.2", a1, 1500.0, 0x3333_3333);
    // The attacker starts first (it would have been latched) ...
    paced(Duration::from_millis(300), || {
        other_ssrc.send_next();
    });
    // ... and then forges every real packet (same SSRC, sequence and timestamp) just ahead of it.
    paced(Duration::from_secs(3), || {
        let forged = attacker.packet(caller.seq, caller.n, caller.ssrc);
        attacker.sock.send_to(&forged, a1).expect("forge");
        other_ssrc.send_next();
        caller.send_next();
        callee.send_next();
    });
    d.bye(None);
    wait_final(server.data_dir(), 1);
    let rec = &crate::common::list(server.data_dir())[0];
    let detail = show(server.data_dir(), rec["id"].as_str().unwrap());
    assert_eq!(rec["state"], "complete", "{rec:#}");
    let samples = stream_file(&detail, "1");
    let secs = samples.len() as f64 / 8000.0;
    assert!(secs > 2.5, "caller file too short: {secs} s");
    let f = freq_between(&samples, 0.2, secs - 0.2);
    assert!(
        (f - 440.0).abs() < 15.0,
        "caller file holds {f} Hz, not the caller's 440 Hz"
    );
    let m = manifest_stream(&detail, "1");
    // 15 held then given up when the caller started, 150 from the other SSRC and 150 forged
    // copies afterwards (a few may be lost on loopback, not 15).
    assert!(m["foreign"].as_u64().unwrap_or(0) >= 315 - 5, "{m:#}");
    assert_eq!(m["source"], caller.sock.local_addr().unwrap().to_string());
    assert_eq!(manifest_stream(&detail, "2")["foreign"], 0);
    let text = detail_text(&detail["warnings"]);
    assert!(
        text.contains("stream 1:") && text.contains("127.0.0.2"),
        "no foreign-source warning: {text}"
    );
    assert!(
        stats(server.data_dir())["packets_foreign"]
            .as_u64()
            .unwrap_or(0)
            >= 165
    );
}

/// An SRC whose `c=` names an address nothing comes from (NAT): the one source that does send
/// is latched after a short wait and its first seconds are not lost.
#[test]
fn a_source_behind_nat_is_latched_with_its_first_seconds() {
    let server = Server::start();
    let nat: IpAddr = "10.255.255.1".parse().unwrap();
    let sdp = sdp_offer(
        nat,
        1,
        &[MLine::audio(40_000, "1"), MLine::audio(40_002, "2")],
    );
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    let mut d = SrcDialog::start_siprec(server.sip, &sdp, xml.as_bytes());
    let (a1, a2) = (d.media_addr(&d.ok, "1"), d.media_addr(&d.ok, "2"));
    let mut caller = Sender::new("127.0.0.1", a1, 440.0, 7);
    let mut callee = Sender::new("127.0.0.1", a2, 880.0, 8);
    paced(Duration::from_secs(4), || {
        caller.send_next();
        callee.send_next();
    });
    d.bye(None);
    wait_final(server.data_dir(), 1);
    let rec = &crate::common::list(server.data_dir())[0];
    assert_eq!(rec["state"], "complete", "{rec:#}");
    let detail = show(server.data_dir(), rec["id"].as_str().unwrap());
    let samples = stream_file(&detail, "1");
    let secs = samples.len() as f64 / 8000.0;
    assert!(
        secs > 3.6,
        "the held first seconds were lost: {secs} s recorded of 4"
    );
    let f = freq_between(&samples, 0.1, 1.5);
    assert!((f - 440.0).abs() < 15.0, "first seconds hold {f} Hz");
    let text = detail_text(&detail["warnings"]);
    assert!(
        text.contains("nothing came from the offer's address 10.255.255.1"),
        "no latch warning: {text}"
    );
    assert_eq!(manifest_stream(&detail, "1")["foreign"], 0);
}

/// `rtp_source = "offer"`: the same call records nothing (and says so).
#[test]
fn strict_offer_mode_records_only_the_offered_address() {
    let server = Server::start_with(&[], Some("rtp_source = \"offer\"\n"));
    let nat: IpAddr = "10.255.255.1".parse().unwrap();
    let sdp = sdp_offer(nat, 1, &[MLine::audio(40_000, "1")]);
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    let mut d = SrcDialog::start_siprec(server.sip, &sdp, xml.as_bytes());
    let a1 = d.media_addr(&d.ok, "1");
    let mut caller = Sender::new("127.0.0.1", a1, 440.0, 7);
    paced(Duration::from_secs(3), || {
        caller.send_next();
    });
    d.bye(None);
    wait_final(server.data_dir(), 1);
    let rec = &crate::common::list(server.data_dir())[0];
    assert_eq!(rec["state"], "empty", "{rec:#}");
    let detail = show(server.data_dir(), rec["id"].as_str().unwrap());
    let text = detail_text(&detail["warnings"]);
    assert!(text.contains("dropped"), "{text}");
}

/// RTP sockets are bound to the media address only: the same port on another local address is
/// closed.
#[test]
fn rtp_sockets_bind_the_media_address_only() {
    let server = Server::start_with(&["--media-address", "127.0.0.1"], None);
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    let sdp = sdp_offer(lo, 1, &[MLine::audio(40_000, "1")]);
    let xml = metadata_xml("sip:alice@example.com", "sip:bob@example.com", 0);
    let mut d = SrcDialog::start_siprec(server.sip, &sdp, xml.as_bytes());
    let a1 = d.media_addr(&d.ok, "1");
    assert_eq!(a1.ip(), lo);
    let elsewhere = SocketAddr::new("127.0.0.3".parse().unwrap(), a1.port());
    let mut stray = Sender::new("127.0.0.1", elsewhere, 440.0, 9);
    paced(Duration::from_millis(600), || {
        stray.send_next();
    });
    std::thread::sleep(Duration::from_millis(300));
    let s = stats(server.data_dir());
    assert_eq!(
        s["bytes_received"], 0,
        "a datagram to 127.0.0.3 reached the stream: {s:#}"
    );
    d.bye(None);
    wait_final(server.data_dir(), 1);
}

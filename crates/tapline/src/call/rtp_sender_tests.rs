//! The sender's report must match what a receiver actually sees on the wire.

use std::collections::HashSet;
use std::net::UdpSocket;
use std::time::Duration;

use tapline_media::{Encoder, parse_rtp, parse_telephone_events};

use super::*;
use crate::call::codec_setup::SendCodec;
use crate::cli::CodecArg;

/// Send one PCMU stream to a local socket; return the report and the datagrams received.
fn capture(
    duration: Duration,
    opts: SendOptions,
    dtmf: Option<&str>,
) -> (SentReport, Vec<Vec<u8>>) {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let codec = SendCodec::of(CodecArg::Pcmu).unwrap();
    let stream = OutStream {
        label: "1".into(),
        socket: UdpSocket::bind("127.0.0.1:0").unwrap(),
        remote: Some(rx.local_addr().unwrap()),
        source: Source::parse("tone:440", 8000).unwrap(),
        payload_type: codec.pt,
        encoder: Encoder::new(&codec.spec).unwrap(),
        ticks: codec.ticks_per_packet(),
        dtmf: dtmf.map(|d| DtmfPlan::parse(d).unwrap()),
    };
    let sender = std::thread::spawn(move || run(vec![stream], duration, &opts));
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = rx.recv(&mut buf) {
        got.push(buf[..n].to_vec());
    }
    let report = sender.join().unwrap().remove(0);
    (report, got)
}

#[test]
fn impairments_reported_are_the_ones_on_the_wire() {
    let opts = SendOptions {
        impair: Impairments::new(10.0, 10.0, 10.0, 30).unwrap(),
        ssrc_change_at: None,
        seed: 42,
    };
    let (r, got) = capture(Duration::from_secs(2), opts, None);
    assert_eq!(r.generated, 100);
    assert!(
        r.dropped > 0 && r.duplicated > 0 && r.reordered > 0,
        "{r:?}"
    );
    assert_eq!(got.len() as u64, r.sent);
    assert_eq!(r.sent, r.generated - r.dropped + r.duplicated);
    let mut seen = HashSet::new();
    let mut first_seq = None;
    let mut max_rel: Option<i32> = None;
    let (mut dups, mut reordered) = (0u64, 0u64);
    for d in &got {
        let p = parse_rtp(d).unwrap();
        let base = *first_seq.get_or_insert(p.sequence);
        let rel = i32::from(p.sequence.wrapping_sub(base) as i16);
        if !seen.insert(p.sequence) {
            dups += 1;
            continue;
        }
        if max_rel.is_some_and(|m| rel < m) {
            reordered += 1;
        }
        max_rel = Some(max_rel.map_or(rel, |m| m.max(rel)));
    }
    assert_eq!(seen.len() as u64, r.generated - r.dropped);
    assert_eq!(dups, r.duplicated);
    // A duplicate copy may arrive before its original: the receiver then sees the original's
    // ordering through the copy, so allow the difference those cases make.
    assert!(
        reordered.abs_diff(r.reordered) <= r.duplicated,
        "wire {reordered} vs report {}",
        r.reordered
    );
    // Reproducible: the same seed drops the same number of packets.
    let (r2, _) = capture(Duration::from_secs(2), opts, None);
    assert_eq!(
        (r2.dropped, r2.duplicated, r2.reordered),
        (r.dropped, r.duplicated, r.reordered)
    );
}

#[test]
fn dtmf_replaces_voice_and_ssrc_changes() {
    let opts = SendOptions {
        ssrc_change_at: Some(Duration::from_millis(1400)),
        seed: 1,
        ..SendOptions::default()
    };
    let (r, got) = capture(Duration::from_millis(1600), opts, Some("7"));
    // 80 packet times, 5 of them a digit: 75 voice + 4 updates + 3 end packets.
    assert_eq!(r.generated, 82, "{r:?}");
    assert_eq!(r.dtmf_packets, 7);
    assert_eq!((r.dropped, r.duplicated, r.reordered), (0, 0, 0));
    assert_eq!(got.len(), 82);
    assert_eq!(r.ssrcs.len(), 2);
    let packets: Vec<_> = got.iter().map(|d| parse_rtp(d).unwrap()).collect();
    let events: Vec<_> = packets.iter().filter(|p| p.payload_type == 101).collect();
    assert_eq!(events.len(), 7);
    assert!(events[0].marker && events[1..].iter().all(|p| !p.marker));
    assert!(events.iter().all(|p| p.timestamp == events[0].timestamp));
    let voice_before = packets
        .iter()
        .take_while(|p| p.payload_type == 0)
        .collect::<Vec<_>>();
    assert_eq!(voice_before.len(), 50, "digit starts 1 s in");
    // The event carries the timestamp of the packet time it starts at.
    let ts50 = voice_before[0].timestamp.wrapping_add(50 * 160);
    assert_eq!(events[0].timestamp, ts50);
    let ends: Vec<_> = events
        .iter()
        .map(|p| parse_telephone_events(p.payload).unwrap()[0])
        .collect();
    assert_eq!(ends.iter().filter(|e| e.end).count(), 3);
    assert!(ends.iter().all(|e| e.event == 7));
    // Sequence numbers run on without a gap through the events, up to the SSRC change.
    let first = &packets[0];
    for (i, p) in packets.iter().enumerate() {
        if p.ssrc == first.ssrc {
            assert_eq!(p.sequence, first.sequence.wrapping_add(i as u16));
        }
    }
    let second: Vec<_> = packets.iter().filter(|p| p.ssrc == r.ssrcs[1]).collect();
    assert_eq!(second.len(), 10, "1.4 s to 1.6 s on the new SSRC");
    assert!(second[0].marker);
    assert_eq!(second[0].ssrc, r.ssrcs[1]);
    assert_eq!(first.ssrc, r.ssrcs[0]);
}

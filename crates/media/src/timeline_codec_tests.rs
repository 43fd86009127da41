//! Timeline with codecs whose RTP clock differs from their output rate, comfort noise,
//! telephone-event, payload type switches and loss concealment.

use super::*;
use crate::analysis::{dominant_frequency, tone};
use crate::codec::{CodecSpec, Encoder};

fn spec(enc: &str, clock: u32, ch: u8) -> CodecSpec {
    CodecSpec::from_rtpmap(enc, clock, ch, None).unwrap()
}

/// Collects emitted runs, asserting contiguity.
fn collect(tl: &mut StreamTimeline, out: &mut Vec<i16>, now: Option<u64>) {
    let mut sink = |start: u64, run: &[i16]| {
        assert_eq!(start, out.len() as u64, "runs must be contiguous");
        out.extend_from_slice(run);
    };
    match now {
        Some(now) => tl.drain(now, &mut sink),
        None => tl.finish(&mut sink),
    }
}

fn packet(seq: u16, ts: u32, payload: &[u8]) -> RtpPacket<'_> {
    RtpPacket {
        marker: false,
        payload_type: 9,
        sequence: seq,
        timestamp: ts,
        ssrc: 7,
        payload,
    }
}

/// 20 ms frames of a 1 kHz tone, encoded with `spec`'s encoder.
fn encoded_tone(spec: &CodecSpec, frames: usize) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(spec).unwrap();
    let frame = (spec.sample_rate / 50) as usize;
    let mut pcm = vec![0i16; frame];
    let mut buf = [0u8; 2000];
    (0..frames)
        .map(|k| {
            tone(1000.0, spec.sample_rate, 8000, (k * frame) as u64, &mut pcm);
            let n = enc.encode(&pcm, &mut buf);
            buf[..n].to_vec()
        })
        .collect()
}

#[test]
fn g722_places_16k_samples_from_8k_timestamps_and_fills_a_loss() {
    let s = spec("G722", 8000, 1);
    let payloads = encoded_tone(&s, 20);
    let mut dec = Decoder::new(&s).unwrap();
    let mut tl = StreamTimeline::new(TimelineConfig::new(16_000));
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        if i == 10 {
            continue; // lost
        }
        // Timestamps advance 160 ticks per 20 ms; arrivals are 16 kHz sample positions.
        let outcome = tl.push_with(
            i as u64 * 320,
            &packet(i as u16, 1000 + i as u32 * 160, p),
            &mut dec,
        );
        assert_eq!(outcome, PushOutcome::Accepted, "packet {i}");
        collect(&mut tl, &mut out, Some(i as u64 * 320));
    }
    collect(&mut tl, &mut out, None);
    assert_eq!(out.len(), 20 * 320);
    // G.722 has no PLC: the lost packet is exactly 320 samples of zeros, neighbours are not.
    assert!(out[3200..3520].iter().all(|&x| x == 0));
    assert!(out[3100..3200].iter().any(|&x| x != 0));
    assert!(out[3520..3620].iter().any(|&x| x != 0));
    let f = dominant_frequency(&out[4000..], 16_000);
    assert!((f - 1000.0).abs() < 5.0, "{f}");
    let st = tl.stats();
    assert_eq!((st.received, st.lost, st.concealed_samples), (19, 1, 0));
    // Jitter stays in RTP timestamp units (8 kHz): perfectly paced packets give 0.
    assert_eq!(st.jitter, 0);
}

#[test]
fn opus_at_16k_maps_three_ticks_to_one_sample_and_conceals_a_loss() {
    let s = spec("opus", 48_000, 2);
    let payloads = encoded_tone(&s, 30);
    let mut dec = Decoder::new(&s).unwrap();
    let mut tl = StreamTimeline::new(TimelineConfig::new(16_000));
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        if i == 20 {
            continue;
        }
        let ts = 5u32.wrapping_sub(960 * 3).wrapping_add(i as u32 * 960);
        let outcome = tl.push_with(i as u64 * 320, &packet(i as u16, ts, p), &mut dec);
        assert_eq!(outcome, PushOutcome::Accepted, "packet {i}");
        collect(&mut tl, &mut out, Some(i as u64 * 320));
    }
    collect(&mut tl, &mut out, None);
    assert_eq!(out.len(), 30 * 320);
    let gap = &out[20 * 320..21 * 320];
    let energy = gap.iter().map(|&x| i64::from(x).abs()).sum::<i64>() / 320;
    assert!(energy > 1000, "concealed gap too quiet: {energy}");
    assert_eq!(tl.stats().concealed_samples, 320);
    assert_eq!(tl.stats().lost, 1);
}

#[test]
fn comfort_noise_is_received_silence_and_not_loss() {
    let pcmu = spec("PCMU", 8000, 1);
    let mut voice = Decoder::new(&pcmu).unwrap();
    let mut cn = Decoder::new(&spec("CN", 8000, 1)).unwrap();
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    let loud = [0x80u8; 160];
    let mut out = Vec::new();
    assert_eq!(
        tl.push_with(0, &packet(0, 0, &loud), &mut voice),
        PushOutcome::Accepted
    );
    // A CN packet, then 200 ms of DTX (no packets), then voice again with the next seq.
    assert_eq!(
        tl.push_with(160, &packet(1, 160, &[40]), &mut cn),
        PushOutcome::ComfortNoise
    );
    assert_eq!(
        tl.push_with(1760, &packet(2, 1760, &loud), &mut voice),
        PushOutcome::Accepted
    );
    collect(&mut tl, &mut out, None);
    assert_eq!(out.len(), 1920);
    assert!(out[..160].iter().all(|&x| x == 32124));
    assert!(out[160..1760].iter().all(|&x| x == 0));
    assert!(out[1760..].iter().all(|&x| x == 32124));
    let st = tl.stats();
    assert_eq!((st.received, st.lost, st.reanchors), (3, 0, 0));
}

#[test]
fn telephone_event_never_reaches_a_decoder_and_is_not_loss() {
    let mut voice = Decoder::from(Codec::Pcmu);
    let mut te = Decoder::new(&spec("telephone-event", 8000, 1)).unwrap();
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    let frame = [0x80u8; 160];
    tl.push_with(0, &packet(0, 0, &frame), &mut voice);
    let event = [1u8, 0x0A, 0, 160];
    assert_eq!(
        tl.push_with(160, &packet(1, 160, &event), &mut te),
        PushOutcome::NotAudio
    );
    tl.push_with(320, &packet(2, 320, &frame), &mut voice);
    let mut out = Vec::new();
    collect(&mut tl, &mut out, None);
    assert_eq!(out.len(), 480);
    assert!(out[160..320].iter().all(|&x| x == 0));
    assert_eq!((tl.stats().received, tl.stats().lost), (3, 0));
}

#[test]
fn payload_type_switch_mid_stream() {
    let mut pcmu = Decoder::from(Codec::Pcmu);
    let mut pcma = Decoder::new(&spec("PCMA", 8000, 1)).unwrap();
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    tl.push_with(0, &packet(0, 0, &[0x80; 160]), &mut pcmu);
    tl.push_with(160, &packet(1, 160, &[0xAA; 160]), &mut pcma);
    let mut out = Vec::new();
    collect(&mut tl, &mut out, None);
    assert!(out[..160].iter().all(|&x| x == 32124));
    assert!(out[160..].iter().all(|&x| x == 32256));
    // A 16 kHz decoder on an 8 kHz axis is refused.
    let mut g722 = Decoder::new(&spec("G722", 8000, 1)).unwrap();
    assert_eq!(
        tl.push_with(320, &packet(2, 320, &[0; 160]), &mut g722),
        PushOutcome::ClockMismatch
    );
}

#[test]
fn packet_straddling_the_ring_end_is_split_intact() {
    // A 1000-sample ring and 320-sample G.722 packets: the 4th packet wraps.
    let s = spec("G722", 8000, 1);
    let payloads = encoded_tone(&s, 8);
    let mut reference = Decoder::new(&s).unwrap();
    let mut want = Vec::new();
    let mut buf = [0i16; 320];
    for p in &payloads {
        reference.decode(p, &mut buf).unwrap();
        want.extend_from_slice(&buf);
    }
    let mut dec = Decoder::new(&s).unwrap();
    let mut tl = StreamTimeline::new(TimelineConfig {
        clock_rate: 16_000,
        reorder_window: 0,
        capacity: 1000,
        max_jump: 32_000,
        settle: 0,
    });
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let at = i as u64 * 320;
        assert_eq!(
            tl.push_with(at, &packet(i as u16, i as u32 * 160, p), &mut dec),
            PushOutcome::Accepted
        );
        collect(&mut tl, &mut out, Some(at));
    }
    collect(&mut tl, &mut out, None);
    assert_eq!(out, want);
}

#[test]
fn undecodable_payload_is_counted_and_stays_silent() {
    let mut l16 = Decoder::new(&spec("L16", 8000, 1)).unwrap();
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    assert_eq!(
        tl.push_with(0, &packet(0, 0, &[1, 2, 3]), &mut l16),
        PushOutcome::Undecodable
    );
    assert_eq!(
        tl.push_with(160, &packet(1, 160, &[0x10; 320]), &mut l16),
        PushOutcome::Accepted
    );
    let mut out = Vec::new();
    collect(&mut tl, &mut out, None);
    assert_eq!(out.len(), 320);
    assert!(out[..160].iter().all(|&x| x == 0));
    assert!(out[160..].iter().all(|&x| x == 0x1010));
    assert_eq!(tl.stats().dropped, 1);
}

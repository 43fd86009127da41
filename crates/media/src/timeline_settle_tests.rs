//! Settling: streams placed by their lowest transit, not by their first packet's jitter.

use super::*;
use crate::g711::ulaw_to_linear;

const FRAME: u64 = 160;
/// 60 ms at 8 kHz.
const JITTER: u64 = 480;

/// A distinct, non-zero mu-law code per packet index.
fn code(i: u64) -> u8 {
    (i % 100) as u8 + 1
}

/// One packet of a 20 ms PCMU stream: index, timestamp base and SSRC.
fn push(tl: &mut StreamTimeline, arrival: u64, i: u64, ts0: u32, ssrc: u32) -> PushOutcome {
    let payload = [code(i); FRAME as usize];
    let p = RtpPacket {
        marker: false,
        payload_type: 0,
        sequence: (1000 + i) as u16,
        timestamp: ts0.wrapping_add((i * FRAME) as u32),
        ssrc,
        payload: &payload,
    };
    tl.push(arrival, &p, Codec::Pcmu)
}

/// Deterministic uniform 0..=max (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn upto(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % (max + 1)
    }
}

/// A stream whose packet `i` is sent at `sent0 + i * 160` and arrives `delay(i)` later.
struct Run {
    tl: StreamTimeline,
    out: Vec<i16>,
    /// (arrival, packet index), in arrival order.
    arrivals: Vec<(u64, u64)>,
    ts0: u32,
    ssrc: u32,
}

impl Run {
    fn new(config: TimelineConfig, ts0: u32, ssrc: u32, sent0: u64, delays: &[u64]) -> Run {
        let mut arrivals: Vec<(u64, u64)> = delays
            .iter()
            .enumerate()
            .map(|(i, d)| (sent0 + i as u64 * FRAME + d, i as u64))
            .collect();
        arrivals.sort();
        Run {
            tl: StreamTimeline::new(config),
            out: Vec::new(),
            arrivals,
            ts0,
            ssrc,
        }
    }

    /// Pushes everything that arrived before `now`, then drains at `now`.
    fn step(&mut self, now: u64) {
        while let Some(&(at, i)) = self.arrivals.first() {
            if at > now {
                break;
            }
            self.arrivals.remove(0);
            let o = push(&mut self.tl, at, i, self.ts0, self.ssrc);
            assert!(
                matches!(o, PushOutcome::Accepted),
                "packet {i} at {at}: {o:?}"
            );
        }
        let out = &mut self.out;
        self.tl.drain(now, &mut |start, run| {
            assert_eq!(start, out.len() as u64, "runs must be contiguous");
            out.extend_from_slice(run);
        });
    }

    fn finish(&mut self) {
        let out = &mut self.out;
        self.tl.finish(&mut |start, run| {
            assert_eq!(start, out.len() as u64, "runs must be contiguous");
            out.extend_from_slice(run);
        });
    }

    /// Where packet 0's samples are in the output (every packet must be in place after it).
    fn placed_at(&self, packets: u64) -> u64 {
        let start = self.tl.settled_start().expect("settled");
        // Timestamp 0 of the epoch is the first packet to arrive, maybe not packet 0.
        let anchor = self.tl.first_anchor().expect("anchor") - start as i64;
        assert!(anchor >= 0 && anchor % FRAME as i64 == 0, "{anchor}");
        for i in 0..packets {
            let at = (start + i * FRAME) as usize;
            let want = vec![ulaw_to_linear(code(i)); FRAME as usize];
            assert_eq!(&self.out[at..at + FRAME as usize], &want[..], "packet {i}");
        }
        assert!(self.out[..start as usize].iter().all(|&x| x == 0));
        start
    }
}

/// Runs two streams sent from `sent0` together, draining every 20 ms like a receiver.
fn two_streams(config: TimelineConfig, sent0: u64, da: &[u64], db: &[u64]) -> (u64, u64) {
    let mut a = Run::new(config, 5000, 1, sent0, da);
    let mut b = Run::new(config, 3_000_000_000, 2, sent0, db);
    let end = sent0 + da.len() as u64 * FRAME + 2 * JITTER;
    let mut now = 0;
    while now <= end {
        a.step(now);
        b.step(now);
        now += FRAME;
    }
    a.finish();
    b.finish();
    (a.placed_at(da.len() as u64), b.placed_at(db.len() as u64))
}

#[test]
fn jittered_streams_land_within_20_ms_of_their_send_time() {
    for seed in 1..=20u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        // Every packet, the first included, is delayed by 0..60 ms.
        let da: Vec<u64> = (0..150).map(|_| rng.upto(JITTER)).collect();
        let db: Vec<u64> = (0..150).map(|_| rng.upto(JITTER)).collect();
        let sent0 = 800;
        let (a, b) = two_streams(TimelineConfig::new(8000), sent0, &da, &db);
        for (name, at, first) in [("a", a, da[0]), ("b", b, db[0])] {
            assert!(
                (sent0..=sent0 + 160).contains(&at),
                "seed {seed}: stream {name} at {at}, sent at {sent0}, first packet {first} late"
            );
        }
        assert!(a.abs_diff(b) <= 160, "seed {seed}: {a} vs {b}");
    }
}

#[test]
fn without_jitter_streams_land_exactly_at_their_transit() {
    // A fixed path delay of 37 samples; nothing else.
    let d = vec![37u64; 100];
    let (a, b) = two_streams(TimelineConfig::new(8000), 800, &d, &d);
    assert_eq!((a, b), (837, 837));
}

#[test]
fn a_late_first_packet_does_not_delay_the_stream() {
    // Packet 0 is 50 ms late and arrives after packets 1 and 2; the rest is on time.
    let mut d = vec![0u64; 100];
    d[0] = 400;
    let (a, b) = two_streams(TimelineConfig::new(8000), 800, &d, &vec![0; 100]);
    assert_eq!((a, b), (800, 800));
}

#[test]
fn nothing_is_emitted_while_settling_then_everything_up_to_the_window() {
    let config = TimelineConfig::new(8000);
    let mut tl = StreamTimeline::new(config);
    let mut out = Vec::new();
    let mut sink = |_: u64, run: &[i16]| out.extend_from_slice(run);
    // First packet 30 ms late, the others on time: 20 packets, 400 ms.
    push(&mut tl, 240, 0, 0, 1);
    for i in 1..20 {
        push(&mut tl, i * FRAME, i, 0, 1);
        tl.drain(i * FRAME, &mut sink);
    }
    assert!(tl.is_settling());
    assert_eq!(tl.start_position(), Some(0), "where it would settle now");
    assert_eq!(tl.settled_start(), None);
    assert_eq!(tl.emitted_position(), 0);
    // The deadline (1 s after the first packet, capped at 3/4 of the 1 s ring) passes.
    tl.drain(6000, &mut sink);
    assert!(!tl.is_settling());
    assert_eq!(tl.settled_start(), Some(0));
    assert_eq!(out.len(), 6000 - 800);
    assert_eq!(out[0], ulaw_to_linear(code(0)));
    assert_eq!(out[20 * 160 - 1], ulaw_to_linear(code(19)));
    assert!(out[20 * 160..].iter().all(|&x| x == 0));
}

#[test]
fn settling_never_moves_audio_before_what_was_emitted() {
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    let mut out = Vec::new();
    // The recorder emitted silence up to 1000 before the stream's first packet arrived.
    tl.drain(1800, &mut |_, run: &[i16]| out.extend_from_slice(run));
    assert_eq!(tl.emitted_position(), 1000);
    // Packet 0 at 1900, then a burst: packet 9's transit (1900 + 180 - 1440 = 640) would put
    // packet 0 before the emit point.
    for i in 0..10 {
        push(&mut tl, 1900 + i * 20, i, 0, 1);
    }
    tl.finish(&mut |start, run: &[i16]| {
        assert_eq!(start, out.len() as u64);
        out.extend_from_slice(run);
    });
    // The stream starts at the emit point instead, intact.
    assert_eq!(tl.settled_start(), Some(1000));
    assert_eq!(out[1000], ulaw_to_linear(code(0)));
    assert_eq!(out[1000 + 9 * 160], ulaw_to_linear(code(9)));
    assert_eq!(out.len(), 1000 + 10 * 160);
}

#[test]
fn a_new_ssrc_while_settling_fixes_the_old_placement_first() {
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    let mut out = Vec::new();
    push(&mut tl, 80, 0, 0, 1); // 10 ms late
    push(&mut tl, 160, 1, 0, 1);
    assert!(tl.is_settling());
    assert_eq!(push(&mut tl, 400, 0, 777, 2), PushOutcome::Reanchored);
    assert!(!tl.is_settling());
    assert_eq!((tl.settled_start(), tl.first_anchor()), (Some(0), Some(0)));
    tl.finish(&mut |_, run: &[i16]| out.extend_from_slice(run));
    assert_eq!(out[0], ulaw_to_linear(code(0)));
    assert_eq!(out[160], ulaw_to_linear(code(1)));
    assert!(out[320..400].iter().all(|&x| x == 0));
    assert_eq!(out[400], ulaw_to_linear(code(0)));
    assert_eq!(tl.stats().reanchors, 1);
}

#[test]
fn a_stream_that_stops_still_settles_at_its_deadline() {
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    push(&mut tl, 100, 0, 0, 1);
    push(&mut tl, 170, 1, 0, 1);
    tl.settle_if_due(5999);
    assert!(tl.is_settling());
    tl.settle_if_due(6000);
    assert_eq!(tl.settled_start(), Some(10));
}

#[test]
fn settle_zero_places_the_stream_at_its_first_arrival() {
    let mut tl = StreamTimeline::new(TimelineConfig {
        settle: 0,
        ..TimelineConfig::new(8000)
    });
    push(&mut tl, 300, 0, 0, 1);
    push(&mut tl, 160, 1, 0, 1);
    assert!(!tl.is_settling());
    assert_eq!(tl.settled_start(), Some(300));
}

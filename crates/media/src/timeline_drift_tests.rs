//! Sender clock drift: ten simulated minutes of 20 ms packets from a fast or slow clock.

use super::*;
use crate::g711::ulaw_to_linear;

const FRAME: u64 = 160;
const RATE: f64 = 8000.0;
/// Ten minutes of 20 ms packets.
const PACKETS: u64 = 30_000;

fn code(i: u64) -> u8 {
    (i % 100) as u8 + 1
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

/// What a run produced.
struct Outcome {
    stats: StreamStats,
    /// Pushes that were neither accepted nor the first packet's anchoring.
    bad: Vec<(u64, PushOutcome)>,
    out: Vec<i16>,
    /// Our-clock send time (samples) of the last packet.
    last_sent: u64,
}

/// Packet `i` is sent at `sent0 + i * 160 / (1 + ppm)` of our clock (the sender's 160 ticks
/// last that long), then delayed by 0..=`jitter` samples. Drained every 20 ms of our clock.
fn run(ppm: f64, jitter: u64, seed: u64) -> Outcome {
    let sent0 = 800u64;
    let sent = |i: u64| sent0 + ((i * FRAME) as f64 / (1.0 + ppm / 1e6)).round() as u64;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
    let mut arrivals: Vec<(u64, u64)> = (0..PACKETS)
        .map(|i| (sent(i) + rng.upto(jitter), i))
        .collect();
    arrivals.sort();
    let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
    let mut out: Vec<i16> = Vec::new();
    let mut bad = Vec::new();
    let mut next = arrivals.iter().peekable();
    let mut now = 0;
    let end = arrivals.last().map_or(0, |a| a.0) + FRAME;
    while now <= end {
        while let Some(&&(at, i)) = next.peek() {
            if at > now {
                break;
            }
            next.next();
            let payload = [code(i); FRAME as usize];
            let p = RtpPacket {
                marker: false,
                payload_type: 0,
                sequence: (1000 + i) as u16,
                timestamp: 4_000_000_000u32.wrapping_add((i * FRAME) as u32),
                ssrc: 7,
                payload: &payload,
            };
            let o = tl.push(at, &p, Codec::Pcmu);
            if o != PushOutcome::Accepted {
                bad.push((i, o));
            }
        }
        tl.drain(now, &mut |start, run| {
            assert_eq!(start, out.len() as u64, "runs must be contiguous");
            out.extend_from_slice(run);
        });
        now += FRAME;
    }
    tl.finish(&mut |start, run| {
        assert_eq!(start, out.len() as u64, "runs must be contiguous");
        out.extend_from_slice(run);
    });
    Outcome {
        stats: tl.stats(),
        bad,
        out,
        last_sent: sent(PACKETS - 1),
    }
}

/// Where the last packet's samples start: the output ends with them (`finish` emits up to the
/// furthest packet's end).
fn last_packet_at(o: &Outcome) -> u64 {
    let want = ulaw_to_linear(code(PACKETS - 1));
    let at = o.out.len() - FRAME as usize;
    assert!(
        o.out[at..].iter().all(|&x| x == want),
        "the output must end with the last packet"
    );
    at as u64
}

fn assert_clean(o: &Outcome, name: &str) {
    assert!(
        o.bad.is_empty(),
        "{name}: {:?}",
        &o.bad[..o.bad.len().min(10)]
    );
    assert_eq!((o.stats.reanchors, o.stats.late), (0, 0), "{name}");
}

#[test]
fn fast_and_slow_sender_clocks_stay_on_time_without_jitter() {
    for ppm in [200.0, -200.0] {
        let o = run(ppm, 0, 1);
        assert_clean(&o, &format!("{ppm} ppm"));
        // A step later repeats a sample, a step earlier overwrites one: never a silent hole.
        assert!(
            o.out[800..].iter().all(|&x| x != 0),
            "{ppm} ppm: a zero sample inside the stream"
        );
        let at = last_packet_at(&o);
        assert!(
            at.abs_diff(o.last_sent) <= 40,
            "{ppm} ppm: last packet at {at}, sent at {}",
            o.last_sent
        );
        // 200 ppm of ten minutes is 120 ms: 960 samples, placed earlier for a fast clock.
        let applied = o.stats.drift_samples_applied as f64;
        let want = -ppm / 1e6 * PACKETS as f64 * FRAME as f64;
        assert!(
            (applied - want).abs() <= 40.0,
            "{ppm} ppm: applied {applied}"
        );
        assert!(
            (o.stats.drift_ppm_estimate - ppm).abs() <= 20.0,
            "{ppm} ppm: estimated {}",
            o.stats.drift_ppm_estimate
        );
    }
}

#[test]
fn fast_and_slow_sender_clocks_stay_on_time_with_jitter() {
    // 0..60 ms on every packet, the first one included.
    let jitter = (0.060 * RATE) as u64;
    for (seed, ppm) in [(1, 200.0), (2, -200.0), (3, 200.0), (4, -200.0)] {
        let o = run(ppm, jitter, seed);
        assert_eq!(o.stats.reanchors, 0, "{ppm} ppm seed {seed}");
        let at = last_packet_at(&o);
        assert!(
            at.abs_diff(o.last_sent) <= 160,
            "{ppm} ppm seed {seed}: last packet at {at}, sent at {}",
            o.last_sent
        );
        assert!(
            (o.stats.drift_ppm_estimate - ppm).abs() <= 60.0,
            "{ppm} ppm seed {seed}: estimated {}",
            o.stats.drift_ppm_estimate
        );
    }
}

#[test]
fn drift_free_stream_is_placed_exactly_as_before() {
    let o = run(0.0, 0, 1);
    assert_clean(&o, "0 ppm");
    assert_eq!(o.stats.drift_samples_applied, 0);
    assert_eq!(o.stats.drift_ppm_estimate, 0.0);
    assert_eq!(last_packet_at(&o), o.last_sent);
    // Exactly every packet in place from its send time on, no sample repeated or dropped.
    for i in [0, 1, 12_345, PACKETS - 1] {
        let at = (800 + i * FRAME) as usize;
        assert!(
            o.out[at..at + FRAME as usize]
                .iter()
                .all(|&x| x == ulaw_to_linear(code(i))),
            "packet {i}"
        );
    }
    assert!(o.out[..800].iter().all(|&x| x == 0));
}

#[test]
fn hostile_timing_never_panics_in_the_drift_path() {
    let mut rng = Rng(42);
    // Near the axis' ends the caller cannot drain (that would emit ~2^63 samples of silence):
    // pushes only. From 0, drained like a receiver.
    for (base, drain) in [
        (0u64, true),
        (i64::MAX as u64 - 1, false),
        (u64::MAX - 1, false),
    ] {
        let mut tl = StreamTimeline::new(TimelineConfig::new(8000));
        let mut arrival = base;
        for i in 0..20_000u64 {
            // Mostly a steady stream (so windows close and steps happen), with wild
            // timestamps and arrival jumps of up to 10 s mixed in.
            let step = if rng.upto(50) == 0 {
                rng.upto(80_000)
            } else {
                FRAME
            };
            arrival = arrival.saturating_add(step);
            let ts = if rng.upto(40) == 0 {
                rng.upto(u64::from(u32::MAX)) as u32
            } else {
                (i * FRAME) as u32
            };
            let payload = [code(i); FRAME as usize];
            let p = RtpPacket {
                marker: false,
                payload_type: 0,
                sequence: i as u16,
                timestamp: ts,
                ssrc: 1,
                payload: &payload,
            };
            tl.push(arrival, &p, Codec::Pcmu);
            if drain {
                tl.drain(arrival, &mut |_, _| {});
            }
        }
        let st = tl.stats();
        assert!(st.received + st.dropped >= 19_000, "base {base}: {st:?}");
        assert!(st.drift_ppm_estimate.abs() <= 1000.0, "base {base}: {st:?}");
    }
}

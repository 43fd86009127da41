use super::*;
use crate::g711::ulaw_to_linear;
use crate::interleave::Interleaver;

const FRAME: u32 = 160;

/// Collects emitted runs, asserting they are contiguous from position 0.
#[derive(Default)]
struct Out {
    samples: Vec<i16>,
}

impl Out {
    fn sink(&mut self) -> impl FnMut(u64, &[i16]) + '_ {
        |start, run| {
            assert_eq!(start, self.samples.len() as u64, "runs must be contiguous");
            self.samples.extend_from_slice(run);
        }
    }
}

/// A distinct, non-zero mu-law code per packet index.
fn code(i: u32) -> u8 {
    (i % 100) as u8 + 1
}

struct Sender {
    ssrc: u32,
    seq0: u16,
    ts0: u32,
    payloads: Vec<[u8; FRAME as usize]>,
}

impl Sender {
    fn new(ssrc: u32, seq0: u16, ts0: u32, packets: u32) -> Self {
        let payloads = (0..packets).map(|i| [code(i); FRAME as usize]).collect();
        Sender {
            ssrc,
            seq0,
            ts0,
            payloads,
        }
    }
    fn packet(&self, i: u32) -> RtpPacket<'_> {
        RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: self.seq0.wrapping_add(i as u16),
            timestamp: self.ts0.wrapping_add(i * FRAME),
            ssrc: self.ssrc,
            payload: &self.payloads[i as usize],
        }
    }
}

fn expected_block(i: u32) -> Vec<i16> {
    vec![ulaw_to_linear(code(i)); FRAME as usize]
}

fn block(out: &Out, start: u64) -> &[i16] {
    &out.samples[start as usize..start as usize + FRAME as usize]
}

/// Placement fixed by the first packet (no settling): the behaviour after settling.
fn timeline() -> StreamTimeline {
    StreamTimeline::new(TimelineConfig {
        settle: 0,
        ..TimelineConfig::new(8000)
    })
}

/// Pushes packets in `order` at their nominal arrival (`offset + i * 160`), draining after each.
fn run(
    tl: &mut StreamTimeline,
    s: &Sender,
    order: &[u32],
    offset: u64,
    out: &mut Out,
) -> Vec<PushOutcome> {
    let mut outcomes = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        // Arrival follows the order of sending (k), not the packet's own index.
        let arrival = offset + u64::from(k as u32 * FRAME);
        outcomes.push(tl.push(arrival, &s.packet(i), Codec::Pcmu));
        tl.drain(arrival, &mut out.sink());
    }
    outcomes
}

#[test]
fn in_order_stream_emits_exact_samples() {
    let s = Sender::new(1, 100, 5000, 50);
    let mut tl = timeline();
    let mut out = Out::default();
    let order: Vec<u32> = (0..50).collect();
    let outcomes = run(&mut tl, &s, &order, 0, &mut out);
    assert!(outcomes.iter().all(|o| *o == PushOutcome::Accepted));
    // Only the reorder window is held back while streaming.
    assert_eq!(out.samples.len() as u64, 49 * 160 - 800);
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len(), 50 * 160);
    for i in 0..50 {
        assert_eq!(
            block(&out, u64::from(i * FRAME)),
            &expected_block(i)[..],
            "packet {i}"
        );
    }
    let st = tl.stats();
    assert_eq!(
        (st.received, st.lost, st.duplicates, st.late),
        (50, 0, 0, 0)
    );
    assert_eq!(
        (st.first_seq, st.last_seq, st.ssrc),
        (Some(100), Some(149), Some(1))
    );
    assert_eq!(st.jitter, 0);
}

#[test]
fn reordered_packets_land_in_place() {
    let s = Sender::new(1, 0, 0, 20);
    let mut tl = timeline();
    let mut out = Out::default();
    let order = [
        0, 2, 1, 3, 6, 4, 5, 7, 8, 9, 11, 10, 12, 13, 14, 15, 16, 17, 18, 19,
    ];
    let outcomes = run(&mut tl, &s, &order, 0, &mut out);
    assert!(
        outcomes.iter().all(|o| *o == PushOutcome::Accepted),
        "{outcomes:?}"
    );
    tl.finish(&mut out.sink());
    for i in 0..20 {
        assert_eq!(
            block(&out, u64::from(i * FRAME)),
            &expected_block(i)[..],
            "packet {i}"
        );
    }
    let st = tl.stats();
    assert_eq!((st.received, st.lost, st.late), (20, 0, 0));
    assert!(st.jitter > 0, "reordering shows up as jitter");
}

#[test]
fn duplicate_is_dropped_and_counted() {
    let s = Sender::new(1, 0, 0, 5);
    let mut tl = timeline();
    let mut out = Out::default();
    let outcomes = run(&mut tl, &s, &[0, 1, 1, 2, 3, 4], 0, &mut out);
    assert_eq!(outcomes[2], PushOutcome::Duplicate);
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len(), 5 * 160);
    let st = tl.stats();
    assert_eq!((st.received, st.duplicates, st.lost), (5, 1, 0));
}

#[test]
fn lost_packet_becomes_exactly_one_frame_of_zeros() {
    let s = Sender::new(1, 0, 0, 6);
    let mut tl = timeline();
    let mut out = Out::default();
    for i in [0u32, 1, 3, 4, 5] {
        let arrival = u64::from(i * FRAME);
        assert_eq!(
            tl.push(arrival, &s.packet(i), Codec::Pcmu),
            PushOutcome::Accepted
        );
        tl.drain(arrival, &mut out.sink());
    }
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len(), 6 * 160);
    assert_eq!(block(&out, 320), &[0i16; 160][..]);
    assert_eq!(block(&out, 480), &expected_block(3)[..]);
    assert_eq!(block(&out, 160), &expected_block(1)[..]);
    assert_eq!(tl.stats().lost, 1);
}

#[test]
fn sequence_and_timestamp_wrap_are_contiguous() {
    let s = Sender::new(7, 65530, u32::MAX - 3 * FRAME + 1, 12);
    let mut tl = timeline();
    let mut out = Out::default();
    let order: Vec<u32> = (0..12).collect();
    let outcomes = run(&mut tl, &s, &order, 0, &mut out);
    assert!(
        outcomes.iter().all(|o| *o == PushOutcome::Accepted),
        "{outcomes:?}"
    );
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len(), 12 * 160);
    for i in 0..12 {
        assert_eq!(
            block(&out, u64::from(i * FRAME)),
            &expected_block(i)[..],
            "packet {i}"
        );
    }
    let st = tl.stats();
    assert_eq!(
        (st.lost, st.reanchors, st.first_seq, st.last_seq),
        (0, 0, Some(65530), Some(5))
    );
}

#[test]
fn late_first_packet_gives_leading_silence() {
    let s = Sender::new(1, 0, 12345, 3);
    let mut tl = timeline();
    let mut out = Out::default();
    // The recorder drains before any packet: zeros from position 0.
    tl.drain(300, &mut out.sink());
    assert_eq!(out.samples, vec![0i16; 0]);
    tl.drain(1000, &mut out.sink());
    assert_eq!(out.samples.len(), 200);
    for i in 0..3 {
        tl.push(400 + u64::from(i * FRAME), &s.packet(i), Codec::Pcmu);
    }
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len(), 400 + 3 * 160);
    assert!(out.samples[..400].iter().all(|&x| x == 0));
    assert_eq!(block(&out, 400), &expected_block(0)[..]);
}

#[test]
fn late_packet_is_counted_and_dropped() {
    let s = Sender::new(1, 0, 0, 20);
    let mut tl = timeline();
    let mut out = Out::default();
    let order: Vec<u32> = (0..20).filter(|&i| i != 5).collect();
    run(&mut tl, &s, &order, 0, &mut out);
    // Packet 5 (position 800..960) shows up long after its position was emitted.
    assert!(tl.emitted_position() > 960);
    assert_eq!(
        tl.push(20 * 160, &s.packet(5), Codec::Pcmu),
        PushOutcome::Late
    );
    tl.finish(&mut out.sink());
    assert_eq!(block(&out, 800), &[0i16; 160][..]);
    let st = tl.stats();
    assert_eq!((st.late, st.received, st.lost), (1, 20, 0));
}

#[test]
fn timestamp_jump_reanchors_on_arrival() {
    let mut s = Sender::new(1, 0, 0, 20);
    let mut tl = timeline();
    let mut out = Out::default();
    run(&mut tl, &s, &(0..10).collect::<Vec<_>>(), 0, &mut out);
    // The sender's clock leaps 10 s ahead while packets keep arriving every 20 ms.
    s.ts0 = s.ts0.wrapping_add(80_000);
    let outcomes = run(
        &mut tl,
        &s,
        &(10..20).collect::<Vec<_>>(),
        10 * 160,
        &mut out,
    );
    assert_eq!(outcomes[0], PushOutcome::Reanchored);
    assert!(outcomes[1..].iter().all(|o| *o == PushOutcome::Accepted));
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len(), 20 * 160);
    for i in 0..20 {
        assert_eq!(
            block(&out, u64::from(i * FRAME)),
            &expected_block(i)[..],
            "packet {i}"
        );
    }
    assert_eq!(tl.stats().reanchors, 1);
}

#[test]
fn ssrc_change_reanchors() {
    let a = Sender::new(1, 0, 0, 10);
    let b = Sender::new(2, 40_000, 3_000_000_000, 10);
    let mut tl = timeline();
    let mut out = Out::default();
    run(&mut tl, &a, &(0..10).collect::<Vec<_>>(), 0, &mut out);
    // The new source starts 100 ms after the old one ended.
    let outcomes = run(&mut tl, &b, &(0..10).collect::<Vec<_>>(), 2400, &mut out);
    assert_eq!(outcomes[0], PushOutcome::Reanchored);
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len(), 2400 + 1600);
    assert!(out.samples[1600..2400].iter().all(|&x| x == 0));
    assert_eq!(block(&out, 2400), &expected_block(0)[..]);
    let st = tl.stats();
    assert_eq!(
        (st.ssrc, st.first_seq, st.received, st.lost),
        (Some(2), Some(40_000), 20, 0)
    );
}

#[test]
fn slow_sender_clock_reanchors_after_a_window_of_lateness() {
    // Sender timestamps advance 150 per 160 samples of arrival: falls behind steadily.
    let payload = [code(0); 160];
    let mut tl = timeline();
    let mut out = Out::default();
    let mut outcomes = Vec::new();
    for i in 0..200u32 {
        let p = RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: i as u16,
            timestamp: i * 150,
            ssrc: 9,
            payload: &payload,
        };
        let arrival = u64::from(i * 160);
        outcomes.push(tl.push(arrival, &p, Codec::Pcmu));
        tl.drain(arrival, &mut out.sink());
    }
    let late = outcomes.iter().filter(|o| **o == PushOutcome::Late).count();
    let reanchored = outcomes
        .iter()
        .filter(|o| **o == PushOutcome::Reanchored)
        .count();
    assert!(reanchored >= 1, "{outcomes:?}");
    assert!(
        late <= 10 * reanchored,
        "late {late} reanchored {reanchored}"
    );
}

#[test]
fn stalled_burst_is_late_but_alignment_is_kept() {
    let s = Sender::new(1, 0, 0, 30);
    let mut tl = timeline();
    let mut out = Out::default();
    run(&mut tl, &s, &(0..10).collect::<Vec<_>>(), 0, &mut out);
    // Packets 10..19 are stuck and arrive together 200 ms late, then normal flow resumes:
    // the part already emitted is late, but nothing re-anchors.
    let mut late = 0;
    for i in 10..20u32 {
        let arrival = u64::from(20 * FRAME);
        tl.drain(arrival, &mut out.sink());
        late += usize::from(tl.push(arrival, &s.packet(i), Codec::Pcmu) == PushOutcome::Late);
    }
    assert_eq!(late, 5);
    for i in 20..30u32 {
        let arrival = u64::from(i * FRAME);
        assert_eq!(
            tl.push(arrival, &s.packet(i), Codec::Pcmu),
            PushOutcome::Accepted
        );
        tl.drain(arrival, &mut out.sink());
    }
    tl.finish(&mut out.sink());
    assert_eq!(tl.stats().reanchors, 0);
    assert_eq!(block(&out, u64::from(20 * FRAME)), &expected_block(20)[..]);
}

#[test]
fn far_ahead_newest_packet_reanchors_instead_of_overflowing() {
    let mut s = Sender::new(1, 0, 0, 10);
    let mut tl = timeline();
    let mut out = Out::default();
    run(&mut tl, &s, &(0..5).collect::<Vec<_>>(), 0, &mut out);
    // 1.5 s ahead: within max_jump (2 s) but beyond the 1 s ring.
    s.ts0 = 12_000;
    assert_eq!(
        tl.push(5 * 160, &s.packet(5), Codec::Pcmu),
        PushOutcome::Reanchored
    );
    tl.finish(&mut out.sink());
    assert_eq!(block(&out, 800), &expected_block(5)[..]);
}

#[test]
fn clock_mismatch_rejected() {
    let s = Sender::new(1, 0, 0, 1);
    let mut tl = StreamTimeline::new(TimelineConfig::new(16_000));
    assert_eq!(
        tl.push(0, &s.packet(0), Codec::Pcmu),
        PushOutcome::ClockMismatch
    );
}

#[test]
fn two_timelines_with_different_offsets_interleave_aligned() {
    let a = Sender::new(1, 0, 0, 10);
    let b = Sender::new(2, 500, 77_777, 10);
    let (mut ta, mut tb) = (timeline(), timeline());
    let mut il = Interleaver::new(2);
    let mut frames = Vec::new();
    for k in 0..14u32 {
        let now = u64::from(k * FRAME);
        if k < 10 {
            ta.push(now, &a.packet(k), Codec::Pcmu);
        }
        if (3..13).contains(&k) {
            // B starts 3 frames (60 ms) later.
            tb.push(now + 7, &b.packet(k - 3), Codec::Pcmu);
        }
        ta.drain(now, &mut |pos, run| il.push(0, pos, run));
        tb.drain(now, &mut |pos, run| il.push(1, pos, run));
        il.pop_ready(&mut frames);
    }
    ta.finish(&mut |pos, run| il.push(0, pos, run));
    tb.finish(&mut |pos, run| il.push(1, pos, run));
    il.finish(&mut frames);
    let b_start = 3 * 160 + 7;
    assert_eq!(frames.len(), 2 * (b_start + 1600));
    for f in 0..frames.len() / 2 {
        let left = if f < 1600 {
            ulaw_to_linear(code(f as u32 / 160))
        } else {
            0
        };
        let right = if f >= b_start {
            ulaw_to_linear(code((f - b_start) as u32 / 160))
        } else {
            0
        };
        assert_eq!(
            (frames[2 * f], frames[2 * f + 1]),
            (left, right),
            "frame {f}"
        );
    }
}

#[test]
fn hostile_packet_sequences_never_panic_and_stay_contiguous() {
    let payload = [0x55u8; 400];
    let mut tl = StreamTimeline::new(TimelineConfig {
        clock_rate: 8000,
        reorder_window: 300,
        capacity: 500,
        max_jump: 900,
        settle: 700,
    });
    let mut out = Out::default();
    let mut x = 0x1234_5678u32;
    let mut now = 0u64;
    for _ in 0..50_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        now += u64::from(x % 200);
        let len = (x >> 8) as usize % payload.len();
        let p = RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: (x >> 3) as u16,
            timestamp: x.rotate_left(7),
            ssrc: x % 3,
            payload: &payload[..len],
        };
        tl.push(now, &p, if x & 1 == 0 { Codec::Pcmu } else { Codec::Pcma });
        tl.drain(now, &mut out.sink());
    }
    tl.finish(&mut out.sink());
    assert_eq!(out.samples.len() as u64, tl.emitted_position());
}

#[test]
fn oversized_payload_is_dropped_without_disturbing_the_stream() {
    let s = Sender::new(1, 0, 0, 10);
    let mut tl = timeline();
    let mut out = Out::default();
    run(&mut tl, &s, &(0..5).collect::<Vec<_>>(), 0, &mut out);
    let giant = vec![0x10u8; 9000];
    let p = RtpPacket {
        payload: &giant,
        ..s.packet(5)
    };
    assert_eq!(tl.push(5 * 160, &p, Codec::Pcmu), PushOutcome::Overflow);
    let outcomes = run(&mut tl, &s, &(6..10).collect::<Vec<_>>(), 6 * 160, &mut out);
    assert!(
        outcomes.iter().all(|o| *o == PushOutcome::Accepted),
        "{outcomes:?}"
    );
    tl.finish(&mut out.sink());
    assert_eq!(block(&out, 4 * 160), &expected_block(4)[..]);
    assert_eq!(block(&out, 5 * 160), &[0i16; 160][..]);
    assert_eq!(block(&out, 9 * 160), &expected_block(9)[..]);
    let st = tl.stats();
    assert_eq!((st.reanchors, st.dropped), (0, 1));
}

#[test]
fn position_at_converts_elapsed_time() {
    let t0 = std::time::Instant::now();
    let t1 = t0 + std::time::Duration::from_millis(50);
    assert_eq!(position_at(t0, t1, 8000), 400);
    assert_eq!(position_at(t1, t0, 8000), 0);
}

use super::*;
use crate::rtp::{parse_rtp, write_rtp};

const PT: u8 = 101;

/// Builds the payload of one block.
fn block(event: u8, end: bool, volume: u8, duration: u16) -> [u8; 4] {
    let d = duration.to_be_bytes();
    [event, (u8::from(end) << 7) | volume, d[0], d[1]]
}

/// Feeds one packet to the tracker.
fn feed(
    t: &mut DtmfTracker,
    arrival: u64,
    marker: bool,
    ts: u32,
    payload: &[u8],
) -> Vec<DtmfEvent> {
    let mut buf = [0u8; 64];
    let n = write_rtp(&mut buf, marker, PT, 1, ts, 7, payload).unwrap();
    let pkt = parse_rtp(&buf[..n]).unwrap();
    t.push(arrival, &pkt, 8000).unwrap()
}

/// Sends a whole event the RFC way: start with M, updates every 400, three end packets.
/// `drop` lists packet indices (0-based) that are lost.
fn key_press(
    t: &mut DtmfTracker,
    event: u8,
    ts: u32,
    arrival0: u64,
    total: u16,
    drop: &[usize],
) -> Vec<DtmfEvent> {
    let mut out = Vec::new();
    let mut idx = 0;
    let mut d = 400u16;
    while d < total {
        if !drop.contains(&idx) {
            let p = block(event, false, 10, d);
            out.extend(feed(t, arrival0 + u64::from(d), idx == 0, ts, &p));
        }
        idx += 1;
        d += 400;
    }
    for r in 0..3 {
        if !drop.contains(&idx) {
            let p = block(event, true, 10, total);
            out.extend(feed(
                t,
                arrival0 + u64::from(total) + r * 400,
                idx == 0,
                ts,
                &p,
            ));
        }
        idx += 1;
    }
    out
}

#[test]
fn parses_blocks_and_rejects_bad_lengths() {
    let mut p = block(11, true, 63, 0x1234).to_vec();
    p.extend_from_slice(&block(5, false, 7, 80));
    let ev = parse_telephone_events(&p).unwrap();
    assert_eq!(
        ev,
        vec![
            TelephoneEvent {
                event: 11,
                end: true,
                volume: 63,
                duration: 0x1234
            },
            TelephoneEvent {
                event: 5,
                end: false,
                volume: 7,
                duration: 80
            }
        ]
    );
    // The R bit is ignored.
    assert_eq!(
        parse_telephone_events(&[1, 0x40 | 3, 0, 1]).unwrap()[0].volume,
        3
    );
    for bad in [0usize, 1, 3, 5, 7] {
        assert_eq!(
            parse_telephone_events(&p[..bad.min(p.len())]),
            Err(DtmfError::BadLength(bad))
        );
    }
}

#[test]
fn event_characters() {
    let s: String = (0..=17).map(event_char).collect();
    assert_eq!(s, "0123456789*#ABCDF?");
}

#[test]
fn one_event_reported_once_with_retransmitted_ends() {
    let mut t = DtmfTracker::new();
    t.set_anchor(1000, 50_000);
    let ev = key_press(&mut t, 5, 1800, 51_000, 1600, &[]);
    assert_eq!(
        ev,
        vec![DtmfEvent {
            digit: '5',
            event: 5,
            start: 50_800,
            duration_ms: 200,
            volume: 10,
            end_seen: true,
        }]
    );
    assert_eq!(t.finish(), None);
}

#[test]
fn lost_start_and_lost_first_end_packets() {
    let mut t = DtmfTracker::new();
    // Packet 0 (marker) and packet 3 (first end) lost.
    let ev = key_press(&mut t, 9, 4000, 0, 1600, &[0, 3]);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].digit, '9');
    assert_eq!(ev[0].duration_ms, 200);
    assert!(ev[0].end_seen);
}

#[test]
fn all_end_packets_lost_reported_at_next_event_and_finish() {
    let mut t = DtmfTracker::new();
    t.set_anchor(0, 0);
    let ev = key_press(&mut t, 1, 800, 800, 1200, &[2, 3, 4]);
    assert!(ev.is_empty(), "{ev:?}");
    let ev = key_press(&mut t, 2, 4000, 4000, 800, &[4]);
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[0].digit, ev[0].end_seen, ev[0].start),
        ('1', false, 800)
    );
    assert_eq!(ev[0].duration_ms, 100); // last update reported 800 units
    assert_eq!(
        (ev[1].digit, ev[1].end_seen, ev[1].start),
        ('2', true, 4000)
    );
    // A third press whose ends never come is flushed by finish().
    assert!(key_press(&mut t, 11, 9000, 9000, 1200, &[2, 3, 4]).is_empty());
    let last = t.finish().unwrap();
    assert_eq!((last.digit, last.end_seen, last.start), ('#', false, 9000));
    assert_eq!(t.finish(), None);
}

#[test]
fn same_digit_twice_is_two_events_and_late_packets_are_ignored() {
    let mut t = DtmfTracker::new();
    let mut ev = key_press(&mut t, 3, 100, 0, 800, &[]);
    // A late intermediate update of the first press arrives after its end.
    ev.extend(feed(&mut t, 2000, false, 100, &block(3, false, 10, 400)));
    ev.extend(key_press(&mut t, 3, 2100, 2100, 800, &[]));
    // A stale update of the first press after the second started.
    ev.extend(feed(&mut t, 4000, false, 100, &block(3, false, 10, 400)));
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().all(|e| e.digit == '3' && e.end_seen));
    assert_eq!(ev[1].start - ev[0].start, 2000);
}

#[test]
fn first_packet_anchors_at_arrival_minus_duration() {
    let mut t = DtmfTracker::new();
    let ev = key_press(&mut t, 0, 7777, 10_000, 800, &[0]);
    // First packet seen reports duration 800 and arrives at 10_000 + 800.
    assert_eq!(ev[0].start, 10_000);
}

#[test]
fn packed_events_start_where_the_previous_ended() {
    let mut t = DtmfTracker::new();
    t.set_anchor(0, 0);
    let mut p = block(1, true, 10, 800).to_vec();
    p.extend_from_slice(&block(2, true, 10, 400));
    let ev = feed(&mut t, 1500, true, 1000, &p);
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (ev[0].digit, ev[0].start, ev[0].duration_ms),
        ('1', 1000, 100)
    );
    assert_eq!(
        (ev[1].digit, ev[1].start, ev[1].duration_ms),
        ('2', 1800, 50)
    );
    // Retransmission of the same packed packet reports nothing new.
    assert!(feed(&mut t, 1600, true, 1000, &p).is_empty());
}

#[test]
fn long_event_segments_add_up() {
    let mut t = DtmfTracker::new();
    t.set_anchor(0, 0);
    let mut ev = feed(&mut t, 400, true, 0, &block(4, false, 10, 400));
    ev.extend(feed(&mut t, 65_535, false, 0, &block(4, false, 10, 0xFFFF)));
    // Second segment starts at 0xFFFF, no marker.
    ev.extend(feed(
        &mut t,
        66_000,
        false,
        0xFFFF,
        &block(4, false, 10, 400),
    ));
    for _ in 0..3 {
        ev.extend(feed(
            &mut t,
            67_000,
            false,
            0xFFFF,
            &block(4, true, 10, 1000),
        ));
    }
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].start, 0);
    assert_eq!(ev[0].duration_ms, (0xFFFF + 1000) * 1000 / 8000);
}

#[test]
fn timestamp_wrap_around() {
    let mut t = DtmfTracker::new();
    t.set_anchor(u32::MAX - 99, 1_000);
    let ev = key_press(&mut t, 12, 100, 0, 800, &[]);
    assert_eq!((ev[0].digit, ev[0].start), ('A', 1_200));
}

#[test]
fn errors_and_hostile_payloads() {
    let mut t = DtmfTracker::new();
    let mut buf = [0u8; 64];
    let n = write_rtp(&mut buf, true, PT, 1, 0, 7, &[1, 2, 3]).unwrap();
    let pkt = parse_rtp(&buf[..n]).unwrap();
    assert_eq!(t.push(0, &pkt, 8000), Err(DtmfError::BadLength(3)));
    let n = write_rtp(&mut buf, true, PT, 1, 0, 7, &[1, 2, 3, 4]).unwrap();
    let pkt = parse_rtp(&buf[..n]).unwrap();
    assert_eq!(t.push(0, &pkt, 0), Err(DtmfError::ZeroClockRate));
    let mut x = 0x1234_5678u32;
    for i in 0..5000u64 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let p = x.to_be_bytes();
        let _ = feed(&mut t, i * 160, x & 1 == 0, x.rotate_left(7) % 5000, &p);
    }
    let _ = t.finish();
}

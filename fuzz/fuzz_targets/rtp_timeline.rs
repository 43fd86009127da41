//! RTP hot path: `parse_rtp` then `StreamTimeline::push` at arbitrary arrival positions,
//! with `drain` / `finish`. Checks: emitted audio is one contiguous run of positions
//! starting at 0 (no gap, no overlap, no repeat), matching `emitted_position`.
//!
//! Input: byte 0 = config (bit 0 A-law; bits 1-2 ring/window sizing). Then records:
//! `len` (1 byte), `ctrl` (1 byte), `delta` (2 bytes BE), `len` bytes of datagram.
//! ctrl bit 0: arrival moves backwards by delta (else forwards); bit 1: drain after the
//! push; bit 2: push at a far-away arrival (u64 near MAX) without draining.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tapline_media::{Codec, StreamTimeline, TimelineConfig, parse_rtp};

/// Arrivals stay below this so `drain` (which emits silence up to `now`) stays cheap.
const MAX_POS: u64 = 1 << 22;

struct Sink {
    next: u64,
    runs: u64,
}

impl Sink {
    fn take(&mut self, pos: u64, samples: &[i16]) {
        assert_eq!(pos, self.next, "drained output not contiguous");
        assert!(!samples.is_empty(), "empty run");
        self.next += samples.len() as u64;
        self.runs += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, mut rest)) = data.split_first() else {
        return;
    };
    let codec = if cfg & 1 == 1 {
        Codec::Pcma
    } else {
        Codec::Pcmu
    };
    let mut config = TimelineConfig::new(8000);
    match (cfg >> 1) & 3 {
        0 => {}
        1 => config.capacity = 160, // ring of one 20 ms packet
        2 => {
            config.reorder_window = 0;
            config.max_jump = 0;
        }
        _ => {
            config.capacity = 0; // clamped to 1 by `new`
            config.reorder_window = 8000;
        }
    }
    let mut tl = StreamTimeline::new(config);
    let mut sink = Sink { next: 0, runs: 0 };
    let mut arrival: u64 = 0;
    while let [len, ctrl, d0, d1, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        let delta = u64::from(u16::from_be_bytes([*d0, *d1]));
        arrival = if ctrl & 1 == 1 {
            arrival.saturating_sub(delta)
        } else {
            arrival.saturating_add(delta).min(MAX_POS)
        };
        let Ok(packet) = parse_rtp(datagram) else {
            continue;
        };
        let at = if ctrl & 4 == 4 {
            u64::MAX - delta
        } else {
            arrival
        };
        let _ = tl.push(at, &packet, codec);
        assert!(
            tl.end_position() <= tl.emitted_position() + u64::from(config.capacity.max(1)),
            "stored audio beyond the ring"
        );
        if ctrl & 2 == 2 {
            tl.drain(arrival, &mut |p, s| sink.take(p, s));
            assert_eq!(
                sink.next,
                tl.emitted_position(),
                "emitted_position disagrees"
            );
        }
    }
    tl.finish(&mut |p, s| sink.take(p, s));
    assert_eq!(
        sink.next,
        tl.emitted_position(),
        "emitted_position disagrees after finish"
    );
    assert!(sink.next >= tl.end_position(), "finish left audio behind");
    let stats = tl.stats();
    let _ = (stats.received, stats.lost, stats.jitter, sink.runs);
});

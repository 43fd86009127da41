use super::*;
use crate::cli::CodecArg;

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

#[test]
fn every_stream_sends_its_packets_on_schedule_with_rtp_headers() {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let dest = rx.local_addr().unwrap();
    let pacer = Pacer {
        sockets: vec![UdpSocket::bind("127.0.0.1:0").unwrap()],
        tones: Tones::new(CodecArg::Pcmu).unwrap(),
        packets: 5,
        lateness_us: hist(),
    };
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let started = Instant::now();
    let join = pacer.spawn(cmd_rx, done_tx, Arc::new(|| {})).unwrap();
    cmd_tx
        .send(PacerCmd::Start {
            call: 0,
            dests: [Some(dest), Some(dest)],
        })
        .unwrap();
    cmd_tx
        .send(PacerCmd::Start {
            call: 3,
            dests: [Some(dest), None],
        })
        .unwrap();
    cmd_tx.send(PacerCmd::Finish).unwrap();
    let stats = join.join().unwrap();
    // 5 packets at 20 ms: the last leaves 80 ms after the first.
    assert!(started.elapsed() >= Duration::from_millis(80));
    assert_eq!(stats.packets, 15);
    assert_eq!(stats.send_errors, 0);
    let mut done: Vec<(u32, [u64; 2])> = done_rx.try_iter().map(|d| (d.call, d.sent)).collect();
    done.sort_unstable();
    assert_eq!(done, vec![(0, [5, 5]), (3, [5, 0])]);

    // Per SSRC: consecutive sequence numbers, timestamps 160 apart, marker on the first only.
    let mut by_ssrc: std::collections::HashMap<u32, Vec<(bool, u16, u32)>> = Default::default();
    let mut buf = [0u8; 2048];
    for _ in 0..15 {
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(n, 172);
        let p = tapline_media::parse_rtp(&buf[..n]).unwrap();
        assert_eq!(p.payload_type, 0);
        by_ssrc
            .entry(p.ssrc)
            .or_default()
            .push((p.marker, p.sequence, p.timestamp));
    }
    assert_eq!(by_ssrc.len(), 3);
    for pkts in by_ssrc.values() {
        assert_eq!(pkts.len(), 5);
        for (i, w) in pkts.windows(2).enumerate() {
            assert_eq!(w[1].1, w[0].1.wrapping_add(1), "seq at {i}");
            assert_eq!(w[1].2, w[0].2.wrapping_add(160), "ts at {i}");
            assert!(!w[1].0, "marker after the first packet");
        }
        assert!(pkts[0].0, "marker on the first packet");
    }
}

#[test]
fn a_call_with_no_destination_is_done_at_once() {
    let pacer = Pacer {
        sockets: vec![UdpSocket::bind("127.0.0.1:0").unwrap()],
        tones: Tones::new(CodecArg::Pcma).unwrap(),
        packets: 50,
        lateness_us: hist(),
    };
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let join = pacer.spawn(cmd_rx, done_tx, Arc::new(|| {})).unwrap();
    cmd_tx
        .send(PacerCmd::Start {
            call: 1,
            dests: [None, None],
        })
        .unwrap();
    drop(cmd_tx); // a closed channel also finishes the pacer
    let stats = join.join().unwrap();
    assert_eq!(stats.packets, 0);
    let d = done_rx.recv_timeout(Duration::from_secs(1)).unwrap();
    assert_eq!((d.call, d.sent), (1, [0, 0]));
}

#[test]
fn headers_wrap_sequence_and_timestamp() {
    let mut rng = fastrand::Rng::with_seed(1);
    let dest: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let mut s = Stream::new(&mut rng, 0, 0, 0, dest, Instant::now(), 8);
    s.seq0 = 0xFFFF;
    s.ts0 = 0xFFFF_FFF0;
    let h = s.header_for(1);
    assert_eq!(h[0], 0x80);
    assert_eq!(h[1], 8, "no marker after the first packet");
    assert_eq!(u16::from_be_bytes([h[2], h[3]]), 0);
    assert_eq!(u32::from_be_bytes([h[4], h[5], h[6], h[7]]), 0x90);
    assert_eq!(s.header_for(0)[1], 0x88);
}

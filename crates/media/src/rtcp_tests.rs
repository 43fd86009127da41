use super::*;

/// SR (one report block) + SDES (CNAME and a NAME item) + BYE with reason, built by hand.
fn sample_compound() -> Vec<u8> {
    let mut v = vec![0x81, 200, 0, 12]; // SR, RC=1, 13 words total
    v.extend_from_slice(&0x1111_2222u32.to_be_bytes()); // SSRC
    v.extend_from_slice(&0xE8A0_0000u32.to_be_bytes()); // NTP seconds
    v.extend_from_slice(&0x8000_0000u32.to_be_bytes()); // NTP fraction (0.5 s)
    v.extend_from_slice(&160_000u32.to_be_bytes()); // RTP ts
    v.extend_from_slice(&500u32.to_be_bytes()); // packets
    v.extend_from_slice(&80_000u32.to_be_bytes()); // octets
    v.extend_from_slice(&0x3333_4444u32.to_be_bytes()); // block SSRC
    v.extend_from_slice(&[64, 0xFF, 0xFF, 0xFE]); // 25 % lost, cumulative -2
    v.extend_from_slice(&0x0001_0010u32.to_be_bytes());
    v.extend_from_slice(&42u32.to_be_bytes());
    v.extend_from_slice(&0xA000_8000u32.to_be_bytes());
    v.extend_from_slice(&65_536u32.to_be_bytes());
    // SDES, 1 chunk: ssrc, CNAME "ab@c" (6 bytes), NAME "x" (3 bytes), null -> 14, pad 16.
    v.extend_from_slice(&[0x81, 202, 0, 4]);
    v.extend_from_slice(&0x1111_2222u32.to_be_bytes());
    v.extend_from_slice(&[1, 4, b'a', b'b', b'@', b'c', 2, 1, b'x', 0, 0, 0]);
    // BYE with reason "done" (1 + 4 bytes, padded to 8).
    v.extend_from_slice(&[0x81, 203, 0, 3]);
    v.extend_from_slice(&0x1111_2222u32.to_be_bytes());
    v.extend_from_slice(&[4, b'd', b'o', b'n', b'e', 0, 0, 0]);
    v
}

#[test]
fn parses_sr_sdes_bye_compound() {
    let p = parse_rtcp(&sample_compound()).unwrap();
    assert_eq!(p.len(), 3);
    let RtcpPacket::SenderReport(sr) = &p[0] else {
        panic!("{:?}", p[0])
    };
    assert_eq!(sr.ssrc, 0x1111_2222);
    assert_eq!(sr.ntp, 0xE8A0_0000_8000_0000);
    assert_eq!(
        (sr.rtp_ts, sr.packet_count, sr.octet_count),
        (160_000, 500, 80_000)
    );
    assert_eq!(
        sr.reports,
        vec![ReportBlock {
            ssrc: 0x3333_4444,
            fraction_lost: 64,
            cumulative_lost: -2,
            highest_seq: 0x0001_0010,
            jitter: 42,
            lsr: 0xA000_8000,
            dlsr: 65_536,
        }]
    );
    assert_eq!(
        p[1],
        RtcpPacket::Sdes(vec![(0x1111_2222, Some("ab@c".to_string()))])
    );
    assert_eq!(
        p[2],
        RtcpPacket::Bye {
            ssrcs: vec![0x1111_2222],
            reason: Some("done".to_string())
        }
    );
}

#[test]
fn receiver_report_round_trip() {
    let blocks = [
        ReportBlock {
            ssrc: 7,
            fraction_lost: 3,
            cumulative_lost: 0x7F_FFFF + 10, // clamped to the 24-bit maximum
            highest_seq: 70_000,
            jitter: 12,
            lsr: lsr_of(0x0000_1234_5678_0000),
            dlsr: dlsr_of(Duration::from_millis(1500)),
        },
        ReportBlock {
            ssrc: 8,
            cumulative_lost: -5,
            ..ReportBlock::default()
        },
    ];
    for cname in ["", "srs", "tapline@192.0.2.1", "abcd"] {
        let bytes = build_receiver_report(0xCAFE, cname, &blocks).unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let p = parse_rtcp(&bytes).unwrap();
        let RtcpPacket::ReceiverReport { ssrc, reports } = &p[0] else {
            panic!("{p:?}")
        };
        assert_eq!(*ssrc, 0xCAFE);
        assert_eq!(reports[0].cumulative_lost, 0x7F_FFFF);
        assert_eq!(reports[0].lsr, 0x1234_5678);
        assert_eq!(reports[0].dlsr, 98_304);
        assert_eq!(reports[1], blocks[1]);
        assert_eq!(
            p[1],
            RtcpPacket::Sdes(vec![(0xCAFE, Some(cname.to_string()))])
        );
    }
    let empty = build_receiver_report(1, "x", &[]).unwrap();
    assert_eq!(&empty[..8], &[0x80, 201, 0, 1, 0, 0, 0, 1]);
}

#[test]
fn build_errors() {
    let many = vec![ReportBlock::default(); 32];
    assert_eq!(
        build_receiver_report(1, "a", &many),
        Err(RtcpError::TooManyBlocks(32))
    );
    let long = "x".repeat(256);
    assert_eq!(
        build_receiver_report(1, &long, &[]),
        Err(RtcpError::CnameTooLong(256))
    );
}

#[test]
fn loss_and_delay_helpers() {
    assert_eq!(fraction_lost(100, 75), 64);
    assert_eq!(fraction_lost(100, 100), 0);
    assert_eq!(fraction_lost(100, 120), 0); // duplicates
    assert_eq!(fraction_lost(0, 0), 0);
    assert_eq!(fraction_lost(1, 0), 255);
    assert_eq!(dlsr_of(Duration::from_secs(1)), 65_536);
    assert_eq!(dlsr_of(Duration::from_secs(1 << 20)), u32::MAX);
}

#[test]
fn structural_errors() {
    let v = sample_compound();
    // Every cut inside a packet is an error, never a panic.
    for len in 0..v.len() {
        if [0usize, 52, 72].contains(&len) {
            continue; // packet boundaries
        }
        assert!(parse_rtcp(&v[..len]).is_err(), "len {len}");
    }
    assert!(parse_rtcp(&v[..52]).is_ok());
    assert_eq!(parse_rtcp(&[]), Err(RtcpError::TruncatedHeader(0)));
    let mut bad = v.clone();
    bad[0] = 0x41;
    assert_eq!(parse_rtcp(&bad), Err(RtcpError::BadVersion(1)));
    // RC says 2 blocks but the length holds one.
    let mut short = v[..52].to_vec();
    short[0] = 0x82;
    assert_eq!(parse_rtcp(&short), Err(RtcpError::ShortBody(200)));
    // Padding: P bit with a count of 0, and with a valid count.
    let mut pad = vec![0xA0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4];
    assert!(matches!(
        parse_rtcp(&pad).unwrap()[0],
        RtcpPacket::ReceiverReport { ssrc: 9, .. }
    ));
    pad[11] = 0;
    assert_eq!(parse_rtcp(&pad), Err(RtcpError::BadPadding));
    // Unknown types are skipped, not rejected.
    let app = [0x80, 204, 0, 1, 0, 0, 0, 1];
    assert_eq!(parse_rtcp(&app).unwrap(), vec![RtcpPacket::Other(204)]);
}

#[test]
fn random_bytes_never_panic() {
    let base = sample_compound();
    let mut x = 0xDEAD_BEEFu32;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let mut v = base.clone();
        let i = (x as usize) % v.len();
        v[i] = (x >> 8) as u8;
        let j = (x.rotate_left(11) as usize) % v.len();
        v[j] ^= (x >> 20) as u8;
        let _ = parse_rtcp(&v[..(x.rotate_left(3) as usize) % (v.len() + 1)]);
    }
}

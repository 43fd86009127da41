use super::*;

const PCMU: CodecPref = CodecPref {
    encoding: "PCMU",
    clock_rate: 8000,
};
const PCMA: CodecPref = CodecPref {
    encoding: "PCMA",
    clock_rate: 8000,
};
const SUPPORTED: [CodecPref; 2] = [PCMU, PCMA];

fn sd(text: &str) -> SessionDescription {
    SessionDescription::parse(text).unwrap()
}

fn addr() -> IpAddr {
    "203.0.113.5".parse().unwrap()
}

#[test]
fn metaswitch_static_types_pick_first_supported_offered() {
    let offer = sd(
        "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 6000 RTP/AVP 18 0 8\na=ptime:20\na=label:1\n",
    );
    let d = plan_answer(&offer, &SUPPORTED);
    let StreamDecision::Accept {
        payload_type,
        encoding,
        clock_rate,
        telephone_event,
        remote,
        offered_direction,
        label,
        ..
    } = &d[0]
    else {
        panic!("{d:?}")
    };
    assert_eq!(
        (*payload_type, encoding.as_str(), *clock_rate),
        (0, "PCMU", 8000)
    );
    assert_eq!(*telephone_event, None);
    assert_eq!(*remote, Some("192.0.2.1:6000".parse().unwrap()));
    assert_eq!(*offered_direction, Direction::SendRecv);
    assert_eq!(label.as_deref(), Some("1"));
    // Offer order is the preference, not our list order.
    let d = plan_answer(&offer, &[PCMA, PCMU]);
    assert!(matches!(
        d[0],
        StreamDecision::Accept {
            payload_type: 0,
            ..
        }
    ));
    // Offer without direction -> recvonly (C-04).
    let answer = build_answer(&offer, &d, &[40000], addr(), 9, 1);
    assert_eq!(
        answer.to_string(),
        "v=0\r\no=tapline 9 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\na=label:1\r\n"
    );
}

#[test]
fn g729_only_is_rejected() {
    let offer = sd(
        "v=0\nc=IN IP4 192.0.2.1\nm=audio 6000 RTP/AVP 18 101\na=rtpmap:101 telephone-event/8000\n",
    );
    let d = plan_answer(&offer, &SUPPORTED);
    assert_eq!(
        d,
        vec![StreamDecision::Reject {
            index: 0,
            label: None,
            reason: RejectReason::NoCommonCodec
        }]
    );
    assert!(!d.iter().any(StreamDecision::is_accept));
    let answer = build_answer(&offer, &d, &[40000], addr(), 1, 1);
    assert_eq!(answer.media[0].port, 0);
    assert_eq!(answer.media[0].formats, ["18", "101"]);
    assert!(answer.media[0].attributes.is_empty());
}

#[test]
fn telephone_event_is_kept_with_fmtp() {
    let offer = sd(
        "v=0\nc=IN IP4 192.0.2.1\nm=audio 6000 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=sendonly\na=label:7\n",
    );
    let d = plan_answer(&offer, &SUPPORTED);
    assert!(
        matches!(
            d[0],
            StreamDecision::Accept {
                payload_type: 0,
                telephone_event: Some(101),
                ..
            }
        ),
        "{d:?}"
    );
    let text = build_answer(&offer, &d, &[40002], addr(), 1, 2).to_string();
    assert!(text.contains(
        "m=audio 40002 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=recvonly\r\na=label:7\r\n"
    ), "{text}");
}

#[test]
fn telephone_event_at_other_rate_is_dropped() {
    let offer = sd(
        "v=0\nc=IN IP4 192.0.2.1\nm=audio 6000 RTP/AVP 96 101\na=rtpmap:96 opus/48000/2\na=rtpmap:101 telephone-event/8000\n",
    );
    let d = plan_answer(
        &offer,
        &[CodecPref {
            encoding: "opus",
            clock_rate: 48000,
        }],
    );
    assert!(
        matches!(
            d[0],
            StreamDecision::Accept {
                payload_type: 96,
                telephone_event: None,
                ..
            }
        ),
        "{d:?}"
    );
    let text = build_answer(&offer, &d, &[40000], addr(), 1, 1).to_string();
    assert!(text.contains("a=rtpmap:96 opus/48000/2\r\n"), "{text}");
}

#[test]
fn directions_are_mapped_never_sendrecv() {
    let offer = sd(
        "v=0\nc=IN IP4 192.0.2.1\nm=audio 1000 RTP/AVP 0\na=inactive\nm=audio 1002 RTP/AVP 0\na=sendonly\nm=audio 1004 RTP/AVP 0\na=recvonly\nm=audio 1006 RTP/AVP 0\na=sendrecv\n",
    );
    let d = plan_answer(&offer, &SUPPORTED);
    let answer = build_answer(&offer, &d, &[2000, 2002, 2004, 2006], addr(), 1, 1);
    let dirs: Vec<Direction> = answer.media.iter().map(|m| m.direction(&answer)).collect();
    assert_eq!(
        dirs,
        [
            Direction::Inactive,
            Direction::RecvOnly,
            Direction::Inactive,
            Direction::RecvOnly
        ]
    );
    // Session-level inactive applies to m-lines without their own direction.
    let offer = sd("v=0\nc=IN IP4 192.0.2.1\na=inactive\nm=audio 1000 RTP/AVP 0\n");
    let answer = build_answer(
        &offer,
        &plan_answer(&offer, &SUPPORTED),
        &[2000],
        addr(),
        1,
        1,
    );
    assert_eq!(answer.media[0].attribute("inactive"), Some(""));
}

#[test]
fn session_level_and_media_level_connection() {
    let offer = sd(
        "v=0\nc=IN IP4 192.0.2.1\nm=audio 1000 RTP/AVP 0\nm=audio 1002 RTP/AVP 0\nc=IN IP4 192.0.2.2\n",
    );
    let d = plan_answer(&offer, &SUPPORTED);
    let remotes: Vec<Option<SocketAddr>> = d
        .iter()
        .map(|d| match d {
            StreamDecision::Accept { remote, .. } => *remote,
            StreamDecision::Reject { .. } => panic!("{d:?}"),
        })
        .collect();
    assert_eq!(
        remotes,
        [
            Some("192.0.2.1:1000".parse().unwrap()),
            Some("192.0.2.2:1002".parse().unwrap())
        ]
    );
    // Sonus style: only media-level c=; hold via 0.0.0.0 -> remote None but still accepted.
    let offer = sd("v=0\nm=audio 1000 RTP/AVP 8\nc=IN IP4 0.0.0.0\n");
    assert!(matches!(
        plan_answer(&offer, &SUPPORTED)[0],
        StreamDecision::Accept { remote: None, .. }
    ));
}

#[test]
fn reject_reasons_and_rejected_line_shape() {
    let offer = sd(
        "v=0\nc=IN IP4 192.0.2.1\nm=audio 0 RTP/AVP 0\na=label:1\na=sendonly\nm=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\na=label:2\nm=audio 5002 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\nm=application 5004 TCP/BFCP *\n",
    );
    let d = plan_answer(&offer, &SUPPORTED);
    let reasons: Vec<RejectReason> = d
        .iter()
        .map(|d| match d {
            StreamDecision::Reject { reason, .. } => *reason,
            StreamDecision::Accept { .. } => panic!("{d:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            RejectReason::PortZero,
            RejectReason::NotAudio,
            RejectReason::UnsupportedTransport,
            RejectReason::NotAudio
        ]
    );
    let answer = build_answer(&offer, &d, &[], addr(), 1, 1);
    let text = answer.to_string();
    assert!(text.contains("m=audio 0 RTP/AVP 0\r\na=label:1\r\nm=video 0 RTP/AVP 96\r\na=label:2\r\nm=audio 0 RTP/SAVP 0\r\nm=application 0 TCP/BFCP *\r\n"), "{text}");
}

#[test]
fn missing_port_or_decision_rejects_and_ipv6_media_addr() {
    let offer = sd("v=0\nc=IN IP6 2001:db8::2\nm=audio 1000 RTP/AVP 0\nm=audio 1002 RTP/AVP 0 8\n");
    let d = plan_answer(&offer, &SUPPORTED);
    let answer = build_answer(
        &offer,
        &d[..1],
        &[0, 3000],
        "2001:db8::9".parse().unwrap(),
        5,
        6,
    );
    assert_eq!(
        answer.media.iter().map(|m| m.port).collect::<Vec<_>>(),
        [0, 0]
    );
    assert_eq!(answer.media[1].formats, ["0", "8"]);
    let text = answer.to_string();
    assert!(
        text.starts_with(
            "v=0\r\no=tapline 5 6 IN IP6 2001:db8::9\r\ns=-\r\nc=IN IP6 2001:db8::9\r\n"
        ),
        "{text}"
    );
    assert!(
        matches!(d[0], StreamDecision::Accept { remote: Some(r), .. } if r == "[2001:db8::2]:1000".parse().unwrap())
    );
}

use super::*;
use crate::analysis::{dominant_frequency, tone};

fn spec(enc: &str, clock: u32, ch: u8) -> CodecSpec {
    CodecSpec::from_rtpmap(enc, clock, ch, None).unwrap()
}

#[test]
fn rtpmap_mapping() {
    let g722 = spec("g722", 8000, 1);
    assert_eq!(
        (g722.kind, g722.rtp_clock, g722.sample_rate),
        (CodecKind::G722, 8000, 16_000)
    );
    assert_eq!(
        g722.ratio(),
        TickRatio {
            samples: 2,
            ticks: 1
        }
    );
    let opus = spec("OPUS", 48_000, 2);
    assert_eq!(
        (opus.kind, opus.sample_rate, opus.channels),
        (CodecKind::Opus, 16_000, 2)
    );
    assert_eq!(
        opus.ratio(),
        TickRatio {
            samples: 1,
            ticks: 3
        }
    );
    let l16 = spec("L16", 44_100, 2);
    assert_eq!(
        (l16.kind, l16.sample_rate, l16.channels),
        (CodecKind::L16, 44_100, 2)
    );
    assert_eq!(spec("pcmu", 8000, 1).kind, CodecKind::Pcmu);
    assert_eq!(spec("PCMA", 8000, 0).kind, CodecKind::Pcma);
    assert_eq!(
        CodecSpec::from_rtpmap("G729", 8000, 1, Some("annexb=no")).map(|s| s.kind),
        Some(CodecKind::G729)
    );
    assert_eq!(spec("CN", 8000, 1).kind, CodecKind::ComfortNoise);
    assert_eq!(
        spec("telephone-event", 8000, 1).kind,
        CodecKind::TelephoneEvent
    );
    assert!(!spec("CN", 8000, 1).is_audio());
    // Contradictions and unknowns.
    assert_eq!(CodecSpec::from_rtpmap("PCMU", 16_000, 1, None), None);
    assert_eq!(CodecSpec::from_rtpmap("opus", 8000, 1, None), None);
    assert_eq!(CodecSpec::from_rtpmap("L16", 12_345, 1, None), None);
    assert_eq!(CodecSpec::from_rtpmap("L16", 8000, 3, None), None);
    assert_eq!(CodecSpec::from_rtpmap("AMR", 8000, 1, None), None);
}

#[test]
fn supported_list_follows_the_feature() {
    let without = supported_codecs(false);
    assert!(without.contains(&("G722", 8000)) && without.contains(&("opus", 48_000)));
    assert!(!without.iter().any(|(n, _)| *n == "G729"));
    let with = supported_codecs(true);
    assert_eq!(
        with.iter().any(|(n, _)| *n == "G729"),
        cfg!(feature = "g729")
    );
}

#[test]
fn tick_ratio_conversions() {
    let r = TickRatio::new(16_000, 48_000);
    assert_eq!(r.to_samples(960), 320);
    assert_eq!(r.to_samples(-3), -1);
    assert_eq!(r.to_samples(-1), -1);
    assert_eq!(r.to_ticks(320), 960);
    assert_eq!(
        TickRatio::new(0, 5),
        TickRatio {
            samples: 1,
            ticks: 1
        }
    );
    assert_eq!(TickRatio::new(16_000, 8000).to_samples(160), 320);
}

/// Encodes `secs` of a `freq` tone in 20 ms frames and decodes it back.
fn round_trip(spec: &CodecSpec, freq: f64, amplitude: i16) -> (Vec<i16>, Vec<i16>) {
    let rate = spec.sample_rate;
    let frame = (rate / 50) as usize;
    let mut enc = Encoder::new(spec).unwrap();
    let mut dec = Decoder::new(spec).unwrap();
    let mut input = vec![0i16; frame * 50];
    tone(freq, rate, amplitude, 0, &mut input);
    let mut output = vec![0i16; input.len()];
    let mut payload = [0u8; 4000];
    for (pcm, out) in input.chunks(frame).zip(output.chunks_mut(frame)) {
        let n = enc.encode(pcm, &mut payload);
        assert!(n > 0, "{:?} produced an empty payload", spec.kind);
        assert_eq!(dec.samples_in(&payload[..n]).unwrap(), frame);
        assert_eq!(dec.decode(&payload[..n], out).unwrap(), frame);
    }
    (input, output)
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

fn check_tone(spec: CodecSpec, freq: f64) {
    let (input, output) = round_trip(&spec, freq, 8000);
    // Skip codec start-up (ADPCM adaptation, Opus look-ahead).
    let settled = &output[output.len() / 4..];
    let f = dominant_frequency(settled, spec.sample_rate);
    assert!((f - freq).abs() <= 5.0, "{:?}: {f} Hz", spec.kind);
    let ratio = rms(settled) / rms(&input[input.len() / 4..]);
    assert!(
        (0.7..1.3).contains(&ratio),
        "{:?}: energy ratio {ratio}",
        spec.kind
    );
}

#[test]
fn every_codec_keeps_a_tone() {
    for (enc, clock, ch) in [
        ("PCMU", 8000, 1),
        ("PCMA", 8000, 1),
        ("G722", 8000, 1),
        ("L16", 8000, 1),
        ("L16", 16_000, 2),
        ("L16", 44_100, 1),
        ("opus", 48_000, 2),
    ] {
        check_tone(spec(enc, clock, ch), 1000.0);
        check_tone(spec(enc, clock, ch), 440.0);
    }
}

#[test]
fn l16_decoder_is_big_endian() {
    let mut dec = Decoder::new(&spec("L16", 16_000, 1)).unwrap();
    let mut out = [0i16; 2];
    assert_eq!(dec.decode(&[0x12, 0x34, 0xAB, 0xCD], &mut out), Ok(2));
    assert_eq!(out, [0x1234, i16::from_be_bytes([0xAB, 0xCD])]);
    assert!(matches!(
        dec.decode(&[1, 2, 3], &mut out),
        Err(CodecError::BadPayload { len: 3, .. })
    ));
}

#[test]
fn output_too_small_is_an_error_not_a_panic() {
    let mut dec = Decoder::new(&spec("G722", 8000, 1)).unwrap();
    let mut out = [0i16; 10];
    assert_eq!(
        dec.decode(&[0u8; 160], &mut out),
        Err(CodecError::OutputTooSmall {
            needed: 320,
            got: 10
        })
    );
}

#[test]
fn opus_plc_continues_a_tone() {
    let s = spec("opus", 48_000, 2);
    let (_, _) = round_trip(&s, 1000.0, 8000);
    // Same again, keeping the decoder to conceal after the last packet.
    let mut enc = Encoder::new(&s).unwrap();
    let mut dec = Decoder::new(&s).unwrap();
    let mut pcm = [0i16; 320];
    let mut out = [0i16; 320];
    let mut payload = [0u8; 1500];
    for k in 0..25 {
        tone(1000.0, 16_000, 8000, k * 320, &mut pcm);
        let n = enc.encode(&pcm, &mut payload);
        dec.decode(&payload[..n], &mut out).unwrap();
    }
    assert!(dec.has_plc());
    let mut lost = [0i16; 320];
    assert_eq!(dec.conceal(320, &mut lost), 320);
    assert!(rms(&lost) > 500.0, "PLC is nearly silent: {}", rms(&lost));
    let f = dominant_frequency(&lost, 16_000);
    assert!((f - 1000.0).abs() < 50.0, "PLC at {f} Hz");
    // FEC path: the next packet rebuilds the lost one.
    tone(1000.0, 16_000, 8000, 26 * 320, &mut pcm);
    let n = enc.encode(&pcm, &mut payload);
    assert_eq!(dec.recover(&payload[..n], 320, &mut lost), 320);
    assert!(rms(&lost) > 500.0);
    // Not a multiple of 2.5 ms: the remainder is zeros, nothing panics.
    assert_eq!(dec.conceal(50, &mut lost), 50);
}

#[test]
fn codecs_without_plc_conceal_with_zeros() {
    let mut dec = Decoder::new(&spec("G722", 8000, 1)).unwrap();
    assert!(!dec.has_plc());
    let mut out = [7i16; 400];
    assert_eq!(dec.conceal(320, &mut out), 320);
    assert!(out[..320].iter().all(|&s| s == 0));
    assert_eq!(out[320], 7);
}

#[test]
fn non_audio_kinds() {
    let mut cn = Decoder::new(&spec("CN", 8000, 1)).unwrap();
    assert!(!cn.is_audio());
    assert_eq!(cn.samples_in(&[40]), Ok(0));
    assert_eq!(
        cn.decode(&[40], &mut [0i16; 8]),
        Err(CodecError::NotAudio(CodecKind::ComfortNoise))
    );
    assert!(Encoder::new(&spec("telephone-event", 8000, 1)).is_err());
    #[cfg(not(feature = "g729"))]
    assert_eq!(
        Decoder::new(&spec("G729", 8000, 1)).err(),
        Some(CodecError::Unsupported(CodecKind::G729))
    );
}

/// Hostile payloads of every length never panic any decoder.
#[test]
fn garbage_never_panics() {
    let mut specs = vec![
        spec("PCMU", 8000, 1),
        spec("G722", 8000, 1),
        spec("L16", 8000, 2),
        spec("opus", 48_000, 2),
    ];
    if cfg!(feature = "g729") {
        specs.push(spec("G729", 8000, 1));
    }
    let mut x = 0x1234_5678u32;
    let mut out = vec![0i16; 6000];
    for s in specs {
        let mut dec = Decoder::new(&s).unwrap();
        for len in 0..300 {
            let payload: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (x >> 24) as u8
                })
                .collect();
            if let Ok(n) = dec.decode(&payload, &mut out) {
                assert!(n <= out.len());
            }
            dec.conceal(len, &mut out);
        }
    }
}

#[cfg(feature = "g729")]
mod g729 {
    use super::*;

    #[test]
    fn g729_keeps_a_tone_and_conceals() {
        let s = spec("G729", 8000, 1);
        // G.729 is a speech codec: a pure tone survives with its pitch but not its level.
        let (input, output) = round_trip(&s, 440.0, 8000);
        let settled = &output[output.len() / 4..];
        let f = dominant_frequency(settled, 8000);
        assert!((f - 440.0).abs() <= 5.0, "{f}");
        let ratio = rms(settled) / rms(&input[input.len() / 4..]);
        assert!((0.3..2.0).contains(&ratio), "energy ratio {ratio}");
        let mut dec = Decoder::new(&s).unwrap();
        let mut out = [0i16; 160];
        assert!(dec.has_plc());
        // 20 ms = 2 frames; a SID frame alone is 80 samples of comfort noise.
        assert_eq!(dec.decode(&[0u8; 22], &mut [0i16; 240]), Ok(240));
        assert_eq!(dec.decode(&[0u8; 2], &mut out), Ok(80));
        assert!(dec.decode(&[0u8; 5], &mut out).is_err());
        assert_eq!(dec.conceal(160, &mut out), 160);
    }
}

/// Our G.722 decoder against an independent decoder's output, bit-exact from the first
/// sample (vectors and provenance: testdata/README.md).
#[test]
fn g722_matches_reference_decoder_bit_exact() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/");
    let coded = std::fs::read(format!("{dir}g722-tone.g722")).expect("G.722 vector missing");
    let reference = std::fs::read(format!("{dir}g722-tone.s16le")).expect("PCM vector missing");
    assert_eq!((coded.len(), reference.len()), (4000, 16_000));
    let mut dec = Decoder::new(&spec("G722", 8000, 1)).unwrap();
    let mut ours = Vec::new();
    let mut out = [0i16; 320];
    for packet in coded.chunks(160) {
        let n = dec.decode(packet, &mut out).unwrap();
        ours.extend_from_slice(&out[..n]);
    }
    let want: Vec<i16> = reference
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(ours.len(), want.len());
    let first_diff = ours.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(
        first_diff, None,
        "first difference at sample {first_diff:?}"
    );
    assert!(rms(&ours) > 3000.0);
}

/// The `audio-codec` G.722 decoder (used by its encoder's tests upstream) converges to ours
/// once its wrongly reset scale factors have adapted: a second, independent cross-check.
#[test]
fn g722_agrees_with_audio_codec_after_its_start_up() {
    use audio_codec::Decoder as _;
    let coded = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/g722-tone.g722"
    ))
    .expect("G.722 vector missing");
    let mut ours = Decoder::new(&spec("G722", 8000, 1)).unwrap();
    let mut theirs = audio_codec::g722::G722Decoder::new();
    let (mut a, mut b) = ([0i16; 320], [0i16; 320]);
    let mut last_diff = None;
    for (k, packet) in coded.chunks(160).enumerate() {
        ours.decode(packet, &mut a).unwrap();
        theirs.decode_into(packet, &mut b).unwrap();
        if a != b {
            last_diff = Some(k);
        }
    }
    assert!(last_diff.is_some_and(|k| k < 12), "{last_diff:?}");
}

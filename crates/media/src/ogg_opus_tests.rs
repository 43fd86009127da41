use super::*;
use crate::analysis::{dominant_frequency, tone};
use ogg::reading::PacketReader;
use std::io::Cursor;

/// Reads every packet: (data, page granule, last in page, last in stream).
fn packets(bytes: &[u8]) -> Vec<(Vec<u8>, u64, bool, bool)> {
    let mut r = PacketReader::new(Cursor::new(bytes.to_vec()));
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.read_packet() {
        let (g, lp, ls) = (p.absgp_page(), p.last_in_page(), p.last_in_stream());
        out.push((p.data, g, lp, ls));
    }
    out
}

/// Decodes audio packets at 48 kHz, dropping the pre-skip and trimming to `granule`.
fn decode(audio: &[(Vec<u8>, u64, bool, bool)], pre_skip: usize, granule: u64) -> Vec<i16> {
    let mut dec = opus::Decoder::new(48_000, opus::Channels::Mono).unwrap();
    let mut pcm = Vec::new();
    let mut buf = vec![0i16; 5760];
    for (data, ..) in audio {
        let n = dec.decode(data, &mut buf, false).unwrap();
        pcm.extend_from_slice(&buf[..n]);
    }
    pcm.truncate(granule as usize);
    pcm.drain(..pre_skip.min(pcm.len()));
    pcm
}

fn two_seconds(rate: u32, freq: f64) -> (Vec<u8>, u16) {
    let mut w = OggOpusWriter::new(Vec::new(), rate, 0x7A9_11E).unwrap();
    let pre_skip = w.pre_skip();
    // Odd-sized writes exercise the frame assembly.
    let mut pos = 0u64;
    let total = u64::from(rate) * 2;
    while pos < total {
        let n = (333).min(total - pos) as usize;
        let mut chunk = vec![0i16; n];
        tone(freq, rate, 8000, pos, &mut chunk);
        w.write(&chunk).unwrap();
        pos += n as u64;
    }
    (w.finish().unwrap(), pre_skip)
}

#[test]
fn two_seconds_of_tone_round_trip_at_each_rate() {
    for (rate, freq) in [(8000, 440.0), (16_000, 1000.0), (48_000, 700.0)] {
        let (bytes, pre_skip) = two_seconds(rate, freq);
        let p = packets(&bytes);
        let head = &p[0].0;
        assert_eq!(&head[..8], b"OpusHead");
        assert_eq!(head[9], 1, "mono");
        assert_eq!(u16::from_le_bytes([head[10], head[11]]), pre_skip);
        assert_eq!(
            u32::from_le_bytes([head[12], head[13], head[14], head[15]]),
            rate
        );
        assert!(p[0].2 && p[0].1 == 0, "OpusHead alone on a granule-0 page");
        assert_eq!(&p[1].0[..8], b"OpusTags");
        assert!(p[1].2 && p[1].1 == 0);
        let audio = &p[2..];
        let last = audio.last().unwrap();
        assert!(last.3, "last packet ends the stream");
        assert_eq!(
            last.1,
            u64::from(pre_skip) + 96_000,
            "final granule at {rate}"
        );
        // Pages close at least every second of audio.
        let mut prev = 0u64;
        for (_, g, lp, _) in audio.iter().filter(|x| x.2) {
            assert!(*lp);
            assert!(g - prev <= 48_000, "page gap {prev} -> {g}");
            prev = *g;
        }
        let pcm = decode(audio, usize::from(pre_skip), last.1);
        assert_eq!(pcm.len(), 96_000);
        let f = dominant_frequency(&pcm[48_000..60_000], 48_000);
        assert!(
            (f - freq).abs() < 3.0,
            "{rate} Hz input: {freq} decoded as {f}"
        );
        // The tone is present right to the end (the encoder delay was flushed).
        let tail = &pcm[pcm.len() - 2400..];
        assert!(tail.iter().any(|s| s.abs() > 2000), "tail of {rate}");
    }
}

#[test]
fn crash_keeps_all_but_the_last_page() {
    let mut w = OggOpusWriter::new(Vec::new(), 8000, 1).unwrap();
    let mut chunk = vec![0i16; 8000 * 3];
    tone(440.0, 8000, 8000, 0, &mut chunk);
    w.write(&chunk).unwrap();
    // "Crash": look at what reached the writer without calling finish().
    let on_disk = w.pages.inner().clone();
    let p = packets(&on_disk);
    let granule = p.iter().map(|x| x.1).max().unwrap();
    assert!(
        granule >= 3 * 48_000 - 48_000,
        "only {granule} of 144000 samples on disk"
    );
}

#[test]
fn empty_recording_is_a_valid_stream_and_bad_rates_fail() {
    let w = OggOpusWriter::new(Vec::new(), 16_000, 5).unwrap();
    let pre_skip = w.pre_skip();
    let p = packets(&w.finish().unwrap());
    assert_eq!(p.len(), 3);
    assert!(p[2].3);
    assert_eq!(p[2].1, u64::from(pre_skip));
    for bad in [0, 11_025, 44_100, 96_000] {
        assert!(matches!(
            OggOpusWriter::new(Vec::new(), bad, 1),
            Err(OggOpusError::UnsupportedRate(r)) if r == bad
        ));
    }
}

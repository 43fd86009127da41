use super::*;
use crate::wav::{WavWriter, read_wav};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh path in the temp directory, removed when dropped.
struct TempPath(PathBuf);
impl TempPath {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        TempPath(
            std::env::temp_dir().join(format!("tapline-repair-{}-{n}.wav", std::process::id())),
        )
    }
}
impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Stereo 8 kHz samples: sample i holds i (wrapping), so a prefix is recognisable.
fn samples(frames: usize) -> Vec<i16> {
    (0..frames * 2).map(|i| i as i16).collect()
}

/// A "crashed" recording: header last updated after `updated` frames, `total` frames of
/// data written, then the process died (no finalize).
fn crashed_file(updated: usize, total: usize) -> Vec<u8> {
    let t = TempPath::new();
    let all = samples(total);
    {
        let mut w = WavWriter::new(BufWriter::new(File::create(&t.0).unwrap()), 2, 8000).unwrap();
        w.write_samples(&all[..updated * 2]).unwrap();
        w.update_header().unwrap();
        w.write_samples(&all[updated * 2..]).unwrap();
        // Dropped without finalize: BufWriter flushes the data, the header stays stale.
    }
    std::fs::read(&t.0).unwrap()
}

#[test]
fn stale_header_after_kill_is_repaired_with_all_data() {
    // Header updated at 2 s, killed at 3 s (up to 1 s of data not in the header).
    let bytes = crashed_file(16_000, 24_000);
    assert!(
        read_wav(&bytes).is_err(),
        "stale header must be invalid before repair"
    );
    let t = TempPath::new();
    std::fs::write(&t.0, &bytes).unwrap();
    let out = repair_wav(&t.0).unwrap();
    assert_eq!(out.frames, 24_000);
    assert_eq!((out.channels, out.sample_rate), (2, 8000));
    assert_eq!(out.declared_data_bytes, 16_000 * 4);
    assert!(out.changed);
    let wav = read_wav(&std::fs::read(&t.0).unwrap()).unwrap();
    assert_eq!(wav.samples, samples(24_000));
    // A second repair finds nothing to do.
    let again = repair_wav(&t.0).unwrap();
    assert!(!again.changed);
    assert_eq!(again.frames, 24_000);
}

#[test]
fn random_cut_points_keep_every_whole_frame() {
    let full = crashed_file(4_000, 8_000);
    let mut x = 0x2545_F491u32;
    for _ in 0..40 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // Cut anywhere from the end of the header to past the header's idea of the end.
        let cut = 44 + (x as usize) % (full.len() - 44 + 1);
        let t = TempPath::new();
        std::fs::write(&t.0, &full[..cut]).unwrap();
        let out = repair_wav(&t.0).unwrap();
        let frames = (cut - 44) / 4;
        assert_eq!(out.frames, frames as u64, "cut at {cut}");
        assert_eq!(out.dropped_bytes, ((cut - 44) % 4) as u64);
        let bytes = std::fs::read(&t.0).unwrap();
        assert_eq!(bytes.len(), 44 + frames * 4);
        let wav = read_wav(&bytes).unwrap();
        assert_eq!(wav.samples, samples(frames), "cut at {cut}");
    }
}

#[test]
fn extra_chunks_before_data_are_walked() {
    // RIFF, fmt (mono 16 kHz), a LIST chunk of odd size (padded), data with stale size 0.
    let mut v = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&[1, 0, 1, 0]);
    v.extend_from_slice(&16_000u32.to_le_bytes());
    v.extend_from_slice(&32_000u32.to_le_bytes());
    v.extend_from_slice(&[2, 0, 16, 0]);
    v.extend_from_slice(b"LIST");
    v.extend_from_slice(&3u32.to_le_bytes());
    v.extend_from_slice(&[b'a', b'b', b'c', 0]);
    v.extend_from_slice(b"data\0\0\0\0");
    v.extend_from_slice(&[1, 0, 2, 0, 3]);
    let t = TempPath::new();
    std::fs::write(&t.0, &v).unwrap();
    let out = repair_wav(&t.0).unwrap();
    assert_eq!(
        (out.frames, out.dropped_bytes, out.sample_rate),
        (2, 1, 16_000)
    );
    let wav = read_wav(&std::fs::read(&t.0).unwrap()).unwrap();
    assert_eq!(wav.samples, vec![1, 2]);
}

#[test]
fn non_wav_and_truncated_headers_are_errors() {
    let good = crashed_file(10, 20);
    for cut in 0..44 {
        let t = TempPath::new();
        std::fs::write(&t.0, &good[..cut]).unwrap();
        let err = repair_wav(&t.0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "cut {cut}: {err}");
        // The file is left untouched.
        assert_eq!(std::fs::read(&t.0).unwrap(), &good[..cut]);
    }
    let mut no_fmt = good.clone();
    no_fmt[12..16].copy_from_slice(b"junk");
    let t = TempPath::new();
    std::fs::write(&t.0, &no_fmt).unwrap();
    assert_eq!(
        repair_wav(&t.0).unwrap_err().kind(),
        io::ErrorKind::InvalidData
    );
    let missing = TempPath::new();
    assert_eq!(
        repair_wav(&missing.0).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
}

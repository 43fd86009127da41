use super::*;
use std::io::Cursor;

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

#[test]
fn empty_file_has_a_valid_header() {
    let w = WavWriter::new(Cursor::new(Vec::new()), 2, 8000).unwrap();
    let bytes = w.finalize().unwrap().into_inner();
    assert_eq!(bytes.len(), 44);
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(le32(&bytes, 4), 36);
    assert_eq!(le32(&bytes, 24), 8000); // sample rate
    assert_eq!(le32(&bytes, 28), 32000); // byte rate
    assert_eq!(le32(&bytes, 40), 0);
    let d = read_wav(&bytes).unwrap();
    assert_eq!((d.channels, d.sample_rate, d.samples.len()), (2, 8000, 0));
}

#[test]
fn samples_and_silence_read_back() {
    let mut w = WavWriter::new(Cursor::new(Vec::new()), 2, 8000).unwrap();
    let frames: Vec<i16> = (0..5000).map(|i| (i * 7 - 17_000) as i16).collect();
    w.write_samples(&frames).unwrap();
    w.write_silence(3).unwrap();
    w.write_samples(&[i16::MIN, i16::MAX]).unwrap();
    assert_eq!(w.frames_written(), 2500 + 3 + 1);
    let bytes = w.finalize().unwrap().into_inner();
    assert_eq!(bytes.len(), 44 + 2504 * 4);
    assert_eq!(le32(&bytes, 4), 36 + 2504 * 4);
    assert_eq!(le32(&bytes, 40), 2504 * 4);
    // Little-endian on disk.
    assert_eq!(&bytes[44..46], &frames[0].to_le_bytes());
    let d = read_wav(&bytes).unwrap();
    assert_eq!(&d.samples[..5000], &frames[..]);
    assert_eq!(&d.samples[5000..5006], &[0; 6]);
    assert_eq!(&d.samples[5006..], &[i16::MIN, i16::MAX]);
}

#[test]
fn update_header_mid_way_leaves_a_valid_file_and_writing_continues() {
    let mut w = WavWriter::new(Cursor::new(Vec::new()), 1, 8000).unwrap();
    w.write_samples(&[1, 2, 3]).unwrap();
    w.update_header().unwrap();
    // Snapshot of the "file on disk" right now, as after a crash.
    let snapshot = w.inner.get_ref().clone();
    let d = read_wav(&snapshot).unwrap();
    assert_eq!(d.samples, [1, 2, 3]);
    // Writing resumes at the end, not over the header.
    w.write_samples(&[4, 5]).unwrap();
    let before_finalize = w.inner.get_ref().clone();
    // Before finalize the header still describes the first three samples only.
    assert_eq!(le32(&before_finalize, 40), 6);
    let bytes = w.finalize().unwrap().into_inner();
    assert_eq!(read_wav(&bytes).unwrap().samples, [1, 2, 3, 4, 5]);
}

#[test]
fn reader_rejects_malformed_files_without_panicking() {
    let mut w = WavWriter::new(Cursor::new(Vec::new()), 1, 8000).unwrap();
    w.write_samples(&[1, 2, 3, 4]).unwrap();
    let good = w.finalize().unwrap().into_inner();
    for len in 0..good.len() {
        assert!(read_wav(&good[..len]).is_err(), "truncated to {len}");
    }
    let mut not_pcm = good.clone();
    not_pcm[20] = 3; // IEEE float
    assert!(matches!(
        read_wav(&not_pcm),
        Err(WavError::Unsupported { format: 3, .. })
    ));
    let mut bad_magic = good.clone();
    bad_magic[8] = b'X';
    assert_eq!(read_wav(&bad_magic), Err(WavError::NotWave));
    assert_eq!(read_wav(&[]), Err(WavError::NotWave));
}

#[test]
fn zero_channels_rejected() {
    assert!(WavWriter::new(Cursor::new(Vec::new()), 0, 8000).is_err());
}

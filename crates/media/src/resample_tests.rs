use super::*;
use crate::analysis::{dominant_frequency, tone};

/// Resamples `input` in uneven chunks (streaming) and flushes.
fn convert(from: u32, to: u32, input: &[i16]) -> Vec<i16> {
    let mut r = Resampler::new(from, to).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0i16; r.max_output(997)];
    for chunk in input.chunks(997) {
        let n = r.process(chunk, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    let n = r.flush(&mut buf).unwrap();
    out.extend_from_slice(&buf[..n]);
    out
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

fn middle(x: &[i16]) -> &[i16] {
    &x[x.len() / 4..x.len() * 3 / 4]
}

fn keeps_tone(from: u32, to: u32, freq: f64) {
    let mut input = vec![0i16; from as usize];
    tone(freq, from, 10_000, 0, &mut input);
    let out = convert(from, to, &input);
    assert_eq!(out.len(), to as usize, "{from}->{to}");
    let f = dominant_frequency(middle(&out), to);
    assert!((f - freq).abs() < 1.0, "{from}->{to}: {f} Hz");
    let db = 20.0 * (rms(middle(&out)) / rms(middle(&input))).log10();
    assert!(db.abs() < 1.0, "{from}->{to}: {db} dB");
    // Zero delay: the output is in phase with a tone generated directly at `to`.
    let mut direct = vec![0i16; to as usize];
    tone(freq, to, 10_000, 0, &mut direct);
    let err = middle(&out)
        .iter()
        .zip(middle(&direct))
        .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
        .max()
        .unwrap();
    assert!(err < 200, "{from}->{to}: max error {err}");
}

#[test]
fn tone_keeps_frequency_amplitude_and_phase() {
    keeps_tone(8000, 16_000, 1000.0);
    keeps_tone(48_000, 16_000, 1000.0);
    keeps_tone(16_000, 8000, 1000.0);
    keeps_tone(16_000, 48_000, 1000.0);
    keeps_tone(8000, 48_000, 1000.0);
    keeps_tone(44_100, 16_000, 1000.0);
    keeps_tone(44_100, 48_000, 440.0);
}

#[test]
fn aliasing_is_suppressed_going_down() {
    // 7 kHz at 16 kHz would fold to 1 kHz at 8 kHz: it must be > 40 dB down.
    let mut input = vec![0i16; 16_000];
    tone(7000.0, 16_000, 20_000, 0, &mut input);
    let out = convert(16_000, 8000, &input);
    let db = 20.0 * (rms(middle(&out)).max(1e-9) / rms(middle(&input))).log10();
    assert!(db < -40.0, "7 kHz only {db} dB down");
    // Same for 48k -> 16k with 12 kHz (folds to 4 kHz).
    let mut input = vec![0i16; 48_000];
    tone(12_000.0, 48_000, 20_000, 0, &mut input);
    let out = convert(48_000, 16_000, &input);
    let db = 20.0 * (rms(middle(&out)).max(1e-9) / rms(middle(&input))).log10();
    assert!(db < -40.0, "12 kHz only {db} dB down");
}

#[test]
fn length_ratio_is_exact_over_long_runs() {
    for (from, to, n) in [
        (44_100u32, 16_000u32, 44_100 * 20 + 7),
        (8000, 48_000, 80_001),
        (48_000, 8000, 480_005),
        (16_000, 8000, 1),
    ] {
        let input = vec![100i16; n];
        let out = convert(from, to, &input);
        let want = (n as u64 * u64::from(to)).div_ceil(u64::from(from));
        assert_eq!(out.len() as u64, want, "{from}->{to} n={n}");
        // A constant stays constant (unit DC gain in every phase) away from the edges.
        assert!(middle(&out).iter().all(|&x| (x - 100).abs() <= 1));
    }
}

#[test]
fn streaming_equals_one_shot_and_buffer_stops_growing() {
    let mut input = vec![0i16; 30_000];
    tone(1234.0, 44_100, 9000, 0, &mut input);
    let chunked = convert(44_100, 16_000, &input);
    let mut r = Resampler::new(44_100, 16_000).unwrap();
    let mut out = vec![0i16; r.max_output(input.len())];
    let n = r.process(&input, &mut out).unwrap();
    let mut whole = out[..n].to_vec();
    let n = r.flush(&mut out).unwrap();
    whole.extend_from_slice(&out[..n]);
    assert_eq!(chunked, whole);
    // After flush the resampler starts a new stream from scratch.
    let n = r.process(&input, &mut out).unwrap();
    let mut again = out[..n].to_vec();
    let n = r.flush(&mut out).unwrap();
    again.extend_from_slice(&out[..n]);
    assert_eq!(again, whole);
    // After warm-up, calls of the same size reuse the buffer.
    let mut r = Resampler::new(8000, 16_000).unwrap();
    let mut out = vec![0i16; r.max_output(160)];
    for k in 0..5 {
        r.process(&input[k * 160..(k + 1) * 160], &mut out).unwrap();
    }
    let cap = r.buf.capacity();
    for k in 5..100 {
        r.process(&input[k * 160..(k + 1) * 160], &mut out).unwrap();
        assert_eq!(r.buf.capacity(), cap);
    }
}

#[test]
fn bad_ratios_and_small_buffers_are_errors() {
    assert!(Resampler::new(0, 8000).is_err());
    assert!(Resampler::new(8000, 0).is_err());
    assert!(Resampler::new(8000, 7919).is_err());
    let mut r = Resampler::new(8000, 16_000).unwrap();
    assert!(matches!(
        r.process(&[0; 160], &mut [0; 10]),
        Err(ResampleError::OutputTooSmall { .. })
    ));
    // Full-scale input saturates instead of wrapping.
    let mut out = vec![0i16; r.max_output(800)];
    let sq: Vec<i16> = (0..800)
        .map(|i| if i / 20 % 2 == 0 { i16::MAX } else { i16::MIN })
        .collect();
    r.process(&sq, &mut out).unwrap();
}

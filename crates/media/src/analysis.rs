//! Test helpers for audio content: a tone generator and a dominant-frequency estimator.
//! Not used on the hot path; the simulator and end-to-end tests rely on them.

use std::f64::consts::TAU;

/// Longest analysis window (samples) taken from the middle of the input.
const MAX_WINDOW: usize = 2048;

/// Goertzel power of `freq` in `samples` (a single-bin DFT magnitude squared), with a
/// Hann taper so a coarse frequency grid still lands inside the main lobe.
fn goertzel_power(samples: &[i16], sample_rate: u32, freq: f64) -> f64 {
    let coeff = 2.0 * (TAU * freq / f64::from(sample_rate)).cos();
    let n = samples.len().max(2) as f64 - 1.0;
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for (i, &x) in samples.iter().enumerate() {
        let hann = 0.5 - 0.5 * (TAU * i as f64 / n).cos();
        let s0 = f64::from(x) * hann + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Frequency in Hz (50..=4000, below Nyquist) with the most energy in `samples`;
/// 0.0 for empty or silent input. Scans the middle 2048 samples on a grid of one DFT
/// bin (about 4 Hz at 8 kHz), then refines in 0.25 Hz steps around the best bin.
pub fn dominant_frequency(samples: &[i16], sample_rate: u32) -> f64 {
    if sample_rate == 0 || samples.iter().all(|&x| x == 0) {
        return 0.0;
    }
    let skip = samples.len().saturating_sub(MAX_WINDOW) / 2;
    let window = samples
        .get(skip..skip + samples.len().min(MAX_WINDOW))
        .unwrap_or(samples);
    let top = (f64::from(sample_rate) / 2.0 - 1.0).min(4000.0);
    let best_in = |from: f64, to: f64, step: f64| {
        let mut best = (from, f64::MIN);
        let mut f = from;
        while f <= to {
            let p = goertzel_power(window, sample_rate, f);
            if p > best.1 {
                best = (f, p);
            }
            f += step;
        }
        best.0
    };
    let bin = (f64::from(sample_rate) / window.len() as f64).max(1.0);
    let coarse = best_in(50.0, top, bin);
    best_in((coarse - bin).max(50.0), (coarse + bin).min(top), 0.25)
}

/// Fills `out` with a sine of `freq` Hz whose first sample is absolute sample
/// `start_sample`, so consecutive calls produce a phase-continuous tone.
pub fn tone(freq: f64, sample_rate: u32, amplitude: i16, start_sample: u64, out: &mut [i16]) {
    let rate = f64::from(sample_rate.max(1));
    // Phase in cycles, reduced modulo 1 per sample to stay precise for long recordings.
    let cycles_per_sample = freq / rate;
    for (i, o) in out.iter_mut().enumerate() {
        let n = start_sample.wrapping_add(i as u64);
        let phase = (n as f64 * cycles_per_sample).fract();
        *o = (f64::from(amplitude) * (TAU * phase).sin()).round() as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_generated_tones() {
        for freq in [440.0, 880.0, 1000.0, 3000.0, 123.0] {
            let mut buf = vec![0i16; 8000];
            tone(freq, 8000, 8000, 0, &mut buf);
            let f = dominant_frequency(&buf, 8000);
            assert!((f - freq).abs() <= 2.0, "{freq} -> {f}");
        }
    }

    #[test]
    fn tells_440_from_880_after_g711_and_with_noise() {
        let mut buf = vec![0i16; 1600];
        tone(880.0, 8000, 3000, 12_345, &mut buf);
        let mut x = 1u32;
        for s in &mut buf {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = ((x >> 16) % 1000) as i16 - 500;
            *s = crate::ulaw_to_linear(crate::linear_to_ulaw(s.saturating_add(noise)));
        }
        let f = dominant_frequency(&buf, 8000);
        assert!((f - 880.0).abs() < 10.0, "{f}");
    }

    #[test]
    fn tone_is_phase_continuous() {
        let mut whole = vec![0i16; 300];
        tone(440.0, 8000, 10_000, 1000, &mut whole);
        let mut a = vec![0i16; 100];
        let mut b = vec![0i16; 200];
        tone(440.0, 8000, 10_000, 1000, &mut a);
        tone(440.0, 8000, 10_000, 1100, &mut b);
        assert_eq!(&whole[..100], &a[..]);
        assert_eq!(&whole[100..], &b[..]);
        assert!(whole.iter().any(|&x| x > 9000));
    }

    #[test]
    fn silence_and_empty() {
        assert_eq!(dominant_frequency(&[], 8000), 0.0);
        assert_eq!(dominant_frequency(&[0; 100], 8000), 0.0);
    }
}

//! Streaming band-limited sample-rate conversion: a Kaiser-windowed sinc evaluated as a
//! polyphase filter bank (rational ratio `up/down`, one coefficient row per output phase).
//!
//! The filter is centred on each output instant (zero delay): output `n` is produced once
//! the input `taps/2` samples past its position has arrived, and [`Resampler::flush`] pads
//! the end. After `flush`, `N` input samples have produced exactly `ceil(N * to / from)`
//! output samples, so long recordings keep an exact length ratio.

use std::f64::consts::PI;

/// Taps per phase for a ratio whose lower rate is the input rate; scaled by the decimation
/// factor so the transition band stays the same width at the lower rate.
const BASE_TAPS: u32 = 40;
/// Passband edge as a fraction of the lower Nyquist frequency.
const ROLLOFF: f64 = 0.9;
/// Kaiser beta: about 85 dB stopband attenuation.
const KAISER_BETA: f64 = 8.6;
/// Largest reduced interpolation factor accepted (44.1 kHz <-> 16/48 kHz needs 160).
const MAX_UP: u32 = 1000;

/// Why a resampler cannot be built or run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResampleError {
    /// A rate of zero, or a ratio whose reduced form is too large to tabulate.
    #[error("cannot resample {from} Hz to {to} Hz")]
    UnsupportedRatio {
        /// Input rate.
        from: u32,
        /// Output rate.
        to: u32,
    },
    /// The caller's output buffer is smaller than [`Resampler::max_output`].
    #[error("output buffer holds {got} samples, up to {needed} may be produced")]
    OutputTooSmall {
        /// Required room.
        needed: usize,
        /// Room given.
        got: usize,
    },
}

/// One stream's resampler (state persists across calls).
#[derive(Debug, Clone)]
pub struct Resampler {
    up: u32,
    down: u32,
    taps: usize,
    /// `up` rows of `taps` coefficients; row `p` serves outputs at input time `i + p/up`.
    coeffs: Box<[f32]>,
    /// Input not yet fully used: `buf[0]` is absolute input index `buf_start`.
    buf: Vec<f32>,
    buf_start: u64,
    /// Real input samples received so far (flush padding excluded).
    received: u64,
    /// Next output's position: input index `next_in` plus `phase / up`.
    next_in: u64,
    phase: u32,
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Zeroth-order modified Bessel function (power series), for the Kaiser window.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-12 {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        k += 1.0;
    }
    sum
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz (any pair whose reduced ratio has an
    /// interpolation factor up to 1000: 8k/16k/48k both ways, 44.1k to 16k or 48k...).
    pub fn new(from: u32, to: u32) -> Result<Resampler, ResampleError> {
        let g = gcd(from, to);
        if g == 0 || from == 0 || to == 0 || to / g > MAX_UP {
            return Err(ResampleError::UnsupportedRatio { from, to });
        }
        let (up, down) = (to / g, from / g);
        // Decimating by down/up: the kernel spans proportionally more input samples.
        let widen = down.div_ceil(up).max(1);
        let taps = (BASE_TAPS * widen) as usize;
        let half = (taps / 2) as f64;
        // Cutoff in cycles per input sample.
        let cutoff = ROLLOFF * 0.5 * f64::from(from.min(to)) / f64::from(from);
        let norm = bessel_i0(KAISER_BETA);
        let mut coeffs = vec![0f32; up as usize * taps];
        for (p, row) in coeffs.chunks_exact_mut(taps).enumerate() {
            let frac = p as f64 / f64::from(up);
            let mut sum = 0.0;
            let mut tmp = vec![0f64; taps];
            for (k, c) in tmp.iter_mut().enumerate() {
                // Distance from the output instant to input `i - half + 1 + k`.
                let tau = frac + half - 1.0 - k as f64;
                let x = 2.0 * cutoff * tau;
                let sinc = if x.abs() < 1e-12 {
                    1.0
                } else {
                    (PI * x).sin() / (PI * x)
                };
                let r = (tau / half).clamp(-1.0, 1.0);
                let w = bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / norm;
                *c = sinc * w;
                sum += *c;
            }
            // Unit DC gain in every phase: no phase-dependent ripple on a constant.
            for (dst, c) in row.iter_mut().zip(tmp) {
                *dst = (c / sum) as f32;
            }
        }
        Ok(Resampler {
            up,
            down,
            taps,
            coeffs: coeffs.into_boxed_slice(),
            // Half a kernel of zeros before the first sample (the stream starts silent).
            buf: vec![0.0; taps / 2 - 1],
            buf_start: 0,
            received: 0,
            next_in: (taps / 2 - 1) as u64,
            phase: 0,
        })
    }

    /// Most samples one `process` call with `input_len` samples (or `flush`) can produce.
    pub fn max_output(&self, input_len: usize) -> usize {
        let n = (input_len as u64 + self.taps as u64) * u64::from(self.up);
        usize::try_from(n / u64::from(self.down) + 2).unwrap_or(usize::MAX)
    }

    /// Feeds `input`; writes the outputs now computable to `out` and returns their count.
    /// Allocates only while the internal buffer grows to the largest call size.
    pub fn process(&mut self, input: &[i16], out: &mut [i16]) -> Result<usize, ResampleError> {
        let needed = self.max_output(input.len());
        if out.len() < needed {
            return Err(ResampleError::OutputTooSmall {
                needed,
                got: out.len(),
            });
        }
        self.buf.extend(input.iter().map(|&s| f32::from(s)));
        self.received = self.received.saturating_add(input.len() as u64);
        Ok(self.run(out, u64::MAX))
    }

    /// End of stream: pads with silence and emits the outputs whose position lies inside
    /// the input received, so the total is exactly `ceil(received * to / from)`. The
    /// resampler is then reset for a new stream.
    pub fn flush(&mut self, out: &mut [i16]) -> Result<usize, ResampleError> {
        let needed = self.max_output(0);
        if out.len() < needed {
            return Err(ResampleError::OutputTooSmall {
                needed,
                got: out.len(),
            });
        }
        let pad = self.taps / 2 + 1;
        self.buf.extend(std::iter::repeat_n(0.0, pad));
        let limit = self.received + (self.taps / 2 - 1) as u64;
        let n = self.run(out, limit);
        // Start over: the resampler is ready for a new stream (buffer capacity is kept).
        self.buf.clear();
        self.buf.resize(self.taps / 2 - 1, 0.0);
        self.buf_start = 0;
        self.received = 0;
        self.next_in = (self.taps / 2 - 1) as u64;
        self.phase = 0;
        Ok(n)
    }

    /// Computes outputs while their kernel is inside `buf` and their position < `limit`.
    fn run(&mut self, out: &mut [i16], limit: u64) -> usize {
        let half = (self.taps / 2) as u64;
        let buf_end = self.buf_start + self.buf.len() as u64;
        let mut n = 0;
        while self.next_in + half < buf_end && self.next_in < limit {
            let first = usize::try_from((self.next_in + 1).saturating_sub(half + self.buf_start))
                .unwrap_or(usize::MAX);
            let row = self.phase as usize * self.taps;
            let (Some(x), Some(c), Some(o)) = (
                self.buf.get(first..first + self.taps),
                self.coeffs.get(row..row + self.taps),
                out.get_mut(n),
            ) else {
                break;
            };
            let acc: f32 = x.iter().zip(c).map(|(a, b)| a * b).sum();
            *o = acc.round().clamp(-32768.0, 32767.0) as i16;
            n += 1;
            self.phase += self.down;
            self.next_in += u64::from(self.phase / self.up);
            self.phase %= self.up;
        }
        // Drop input no future output can reach (keep the kernel's left half).
        let keep_from = (self.next_in + 1).saturating_sub(half).max(self.buf_start);
        let drop = usize::try_from(keep_from - self.buf_start)
            .unwrap_or(0)
            .min(self.buf.len());
        self.buf.copy_within(drop.., 0);
        self.buf.truncate(self.buf.len() - drop);
        self.buf_start += drop as u64;
        n
    }
}

#[cfg(test)]
#[path = "resample_tests.rs"]
mod tests;

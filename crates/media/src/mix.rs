//! Mixing N mono runs of the same rate into one mono run (the "mixed" recording output).
//!
//! Samples are summed in 32 bits and clamped once, so the result does not depend on the
//! order of the inputs (pairwise saturating adds would) and a full-scale sum clips rather
//! than wrapping around.

fn clamp(sum: i32) -> i16 {
    i16::try_from(sum).unwrap_or(if sum < 0 { i16::MIN } else { i16::MAX })
}

/// Writes the saturated sum of `inputs` into `out` sample by sample; an input shorter than
/// `out` is silence past its end. Returns `out.len()`.
pub fn mix(inputs: &[&[i16]], out: &mut [i16]) -> usize {
    for (i, o) in out.iter_mut().enumerate() {
        let sum: i32 = inputs
            .iter()
            .map(|run| run.get(i).map_or(0, |&s| i32::from(s)))
            .sum();
        *o = clamp(sum);
    }
    out.len()
}

/// Mixes interleaved frames of `channels` samples (e.g. [`crate::Interleaver`] output) down
/// to one sample per frame in `out`. Returns the frames written (limited by `out`; a
/// trailing partial frame is ignored).
pub fn mix_interleaved(frames: &[i16], channels: usize, out: &mut [i16]) -> usize {
    let mut n = 0;
    for (frame, o) in frames.chunks_exact(channels.max(1)).zip(out.iter_mut()) {
        *o = clamp(frame.iter().map(|&s| i32::from(s)).sum());
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_saturates_order_independently() {
        let a = [1000i16, 30_000, -30_000, 5];
        let b = [-500i16, 10_000, -10_000];
        let c = [0i16, -10_000, 20_000, 5];
        let mut out = [9i16; 5];
        assert_eq!(mix(&[&a, &b, &c], &mut out), 5);
        // 30000 + 10000 - 10000 fits even though a pairwise saturating add would clip first.
        assert_eq!(out, [500, 30_000, -20_000, 10, 0]);
        let mut rev = [0i16; 5];
        mix(&[&c, &b, &a], &mut rev);
        assert_eq!(out, rev);
        let mut clip = [0i16; 2];
        mix(&[&[i16::MAX, i16::MIN], &[i16::MAX, i16::MIN]], &mut clip);
        assert_eq!(clip, [i16::MAX, i16::MIN]);
    }

    #[test]
    fn no_inputs_is_silence_and_interleaved_downmix() {
        let mut out = [7i16; 3];
        mix(&[], &mut out);
        assert_eq!(out, [0, 0, 0]);
        let frames = [100i16, 200, 32_000, 32_000, -5, 5, 1];
        let mut mono = [0i16; 4];
        assert_eq!(mix_interleaved(&frames, 2, &mut mono), 3);
        assert_eq!(&mono[..3], &[300, i16::MAX, 0]);
        assert_eq!(mix_interleaved(&frames, 0, &mut mono), 4);
    }
}

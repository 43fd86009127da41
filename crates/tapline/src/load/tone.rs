//! Pre-encoded tone payloads: one second (50 packets of 20 ms) of a G.711 tone per stream
//! role, encoded once at start-up. 440 Hz and 880 Hz complete whole cycles in one second, so
//! cycling through the 50 frames is phase-continuous and the pacer's per-packet work is the
//! 12-byte RTP header only.

use anyhow::bail;
use tapline_media::Codec;

use crate::cli::CodecArg;

/// Samples per 20 ms packet at 8 kHz.
pub(crate) const FRAME_SAMPLES: usize = 160;
/// Frames in one loop of the tone (one second).
pub(crate) const FRAMES: usize = 50;
/// Tone of the first (caller) and second (callee) stream of every call, in Hz.
pub(crate) const FREQS: [f64; 2] = [440.0, 880.0];

/// Encoded frames for both stream roles.
pub(crate) struct Tones {
    /// RTP payload type of the codec.
    pub(crate) pt: u8,
    /// SDP encoding name.
    pub(crate) encoding: &'static str,
    /// `frames[role]` holds `FRAMES * FRAME_SAMPLES` encoded bytes.
    frames: [Vec<u8>; 2],
}

impl Tones {
    /// Encode the tones for `codec` (G.711 only: the load generator measures the server's
    /// receive path, not encoders).
    pub(crate) fn new(codec: CodecArg) -> anyhow::Result<Tones> {
        let (c, encoding) = match codec {
            CodecArg::Pcmu => (Codec::Pcmu, "PCMU"),
            CodecArg::Pcma => (Codec::Pcma, "PCMA"),
            other => bail!("tapline load sends pcmu or pcma, not {other:?}"),
        };
        let encode = |freq: f64| {
            let mut pcm = vec![0i16; FRAMES * FRAME_SAMPLES];
            tapline_media::tone(freq, 8000, 12_000, 0, &mut pcm);
            let mut out = vec![0u8; pcm.len()];
            c.encode(&pcm, &mut out);
            out
        };
        Ok(Tones {
            pt: c.payload_type(),
            encoding,
            frames: [encode(FREQS[0]), encode(FREQS[1])],
        })
    }

    /// Payload of packet `n` of a stream with this role (0 caller, 1 callee).
    pub(crate) fn frame(&self, role: usize, n: u64) -> &[u8] {
        let i = usize::try_from(n % FRAMES as u64).unwrap_or(0);
        self.frames
            .get(role & 1)
            .and_then(|f| f.get(i * FRAME_SAMPLES..(i + 1) * FRAME_SAMPLES))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_loop_phase_continuously_and_decode_to_the_tone() {
        let t = Tones::new(CodecArg::Pcmu).unwrap();
        assert_eq!(t.pt, 0);
        assert_eq!(t.frame(0, 0).len(), FRAME_SAMPLES);
        assert_eq!(t.frame(1, 49).len(), FRAME_SAMPLES);
        assert_eq!(t.frame(0, 3), t.frame(0, 53));
        // Two seconds decoded: the loop point is inaudible, the tone is right.
        let mut pcm = Vec::new();
        for n in 0..100 {
            let mut f = [0i16; FRAME_SAMPLES];
            Codec::Pcmu.decode(t.frame(1, n), &mut f);
            pcm.extend_from_slice(&f);
        }
        let f = tapline_media::dominant_frequency(&pcm, 8000);
        assert!((f - 880.0).abs() < 3.0, "{f}");
        // Each tone completes whole cycles in one loop: the continuous tone one loop later
        // starts where it started, so looping the frames adds no discontinuity.
        for freq in FREQS {
            let (mut a, mut b) = ([0i16; 4], [0i16; 4]);
            tapline_media::tone(freq, 8000, 12_000, 0, &mut a);
            let loop_len = (FRAMES * FRAME_SAMPLES) as u64;
            tapline_media::tone(freq, 8000, 12_000, loop_len, &mut b);
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (i32::from(*x) - i32::from(*y)).abs() <= 1,
                    "{freq} Hz: {a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn pcma_is_pt_8_and_other_codecs_are_refused() {
        assert_eq!(Tones::new(CodecArg::Pcma).unwrap().pt, 8);
        assert!(Tones::new(CodecArg::Opus).is_err());
    }
}

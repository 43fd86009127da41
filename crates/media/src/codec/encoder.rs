//! Encoders for the simulator (`tapline call`): mono PCM at the spec's sample rate in,
//! one RTP payload out.

use super::l16;
use super::opus::OpusEncoder;
use super::{CodecError, CodecKind, CodecSpec};
use crate::g711::Codec;
use audio_codec::Encoder as _;
use audio_codec::g722::G722Encoder;

enum Inner {
    G711(Codec),
    G722(Box<G722Encoder>),
    L16,
    Opus(OpusEncoder),
    #[cfg(feature = "g729")]
    G729(super::g729::G729Encoder),
}

/// Encodes mono PCM frames (normally 20 ms) into RTP payloads of one format.
pub struct Encoder {
    spec: CodecSpec,
    inner: Inner,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("spec", &self.spec).finish()
    }
}

impl Encoder {
    /// Sets up an encoder; comfort noise and telephone-event have none.
    pub fn new(spec: &CodecSpec) -> Result<Encoder, CodecError> {
        let inner = match spec.kind {
            CodecKind::Pcmu => Inner::G711(Codec::Pcmu),
            CodecKind::Pcma => Inner::G711(Codec::Pcma),
            CodecKind::G722 => Inner::G722(Box::new(G722Encoder::new())),
            CodecKind::L16 if spec.channels > 2 => {
                return Err(CodecError::BadSpec {
                    kind: spec.kind,
                    reason: "L16 carries 1 or 2 channels",
                });
            }
            CodecKind::L16 => Inner::L16,
            CodecKind::Opus => Inner::Opus(OpusEncoder::new(spec.sample_rate)?),
            #[cfg(feature = "g729")]
            CodecKind::G729 => Inner::G729(super::g729::G729Encoder::new()?),
            #[cfg(not(feature = "g729"))]
            CodecKind::G729 => return Err(CodecError::Unsupported(CodecKind::G729)),
            CodecKind::ComfortNoise | CodecKind::TelephoneEvent => {
                return Err(CodecError::NotAudio(spec.kind));
            }
        };
        Ok(Encoder { spec: *spec, inner })
    }

    /// What this encoder produces.
    pub fn spec(&self) -> &CodecSpec {
        &self.spec
    }

    /// Samples in one 20 ms frame at the spec's sample rate.
    pub fn frame_samples(&self) -> usize {
        (self.spec.sample_rate / 50) as usize
    }

    /// Encodes `pcm` (mono, `spec().sample_rate`, normally 20 ms) into `out`; returns the
    /// payload length (0 if `out` is too small for the codec or libopus refused).
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        match &mut self.inner {
            Inner::G711(c) => c.encode(pcm, out),
            Inner::G722(e) => e.encode_into(pcm, out).unwrap_or(0),
            Inner::L16 => l16::encode(pcm, self.spec.channels, out),
            Inner::Opus(e) => e.encode(pcm, out),
            #[cfg(feature = "g729")]
            Inner::G729(e) => e.encode(pcm, out),
        }
    }
}

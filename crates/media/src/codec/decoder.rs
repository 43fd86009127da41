//! The per-stream stateful decoder: one value per received stream (and per payload type
//! when a stream switches codec), fed packets in arrival order.

use super::g722::G722Decoder;
use super::l16;
use super::opus::OpusDecoder;
use super::{CodecError, CodecKind, CodecSpec, TickRatio};
use crate::g711::Codec;

enum Inner {
    G711(Codec),
    G722(Box<G722Decoder>),
    L16,
    Opus(OpusDecoder),
    #[cfg(feature = "g729")]
    G729(super::g729::G729Decoder),
    /// Comfort noise and telephone-event: nothing to decode.
    None,
}

/// Decodes one stream's payloads to mono PCM at `spec().sample_rate`. Never allocates
/// per packet; the caller provides the output buffer.
pub struct Decoder {
    spec: CodecSpec,
    inner: Inner,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("spec", &self.spec).finish()
    }
}

impl From<Codec> for Decoder {
    /// A G.711 decoder (stateless; creating one costs nothing).
    fn from(codec: Codec) -> Decoder {
        Decoder {
            spec: CodecSpec::g711(codec),
            inner: Inner::G711(codec),
        }
    }
}

impl Decoder {
    /// Sets up a decoder for `spec`. Comfort noise and telephone-event get a decoder that
    /// decodes nothing (the timeline uses it to recognise those packets).
    pub fn new(spec: &CodecSpec) -> Result<Decoder, CodecError> {
        let bad = |reason| CodecError::BadSpec {
            kind: spec.kind,
            reason,
        };
        if spec.rtp_clock == 0 || spec.sample_rate == 0 {
            return Err(bad("zero clock or sample rate"));
        }
        let inner = match spec.kind {
            CodecKind::Pcmu | CodecKind::Pcma if spec.sample_rate != 8000 => {
                return Err(bad("G.711 decodes to 8 kHz"));
            }
            CodecKind::Pcmu => Inner::G711(Codec::Pcmu),
            CodecKind::Pcma => Inner::G711(Codec::Pcma),
            CodecKind::G722 if spec.sample_rate != 16_000 => {
                return Err(bad("G.722 decodes to 16 kHz"));
            }
            CodecKind::G722 => Inner::G722(Box::new(G722Decoder::new())),
            CodecKind::L16 if spec.sample_rate != spec.rtp_clock || spec.channels > 2 => {
                return Err(bad("L16 plays at its clock rate, 1 or 2 channels"));
            }
            CodecKind::L16 => Inner::L16,
            CodecKind::Opus => Inner::Opus(OpusDecoder::new(spec.sample_rate)?),
            #[cfg(feature = "g729")]
            CodecKind::G729 => Inner::G729(super::g729::G729Decoder::new()?),
            #[cfg(not(feature = "g729"))]
            CodecKind::G729 => return Err(CodecError::Unsupported(CodecKind::G729)),
            CodecKind::ComfortNoise | CodecKind::TelephoneEvent => Inner::None,
        };
        Ok(Decoder { spec: *spec, inner })
    }

    /// What this decoder decodes.
    pub fn spec(&self) -> &CodecSpec {
        &self.spec
    }

    /// Output samples per RTP tick (see [`TickRatio`]).
    pub fn samples_per_tick(&self) -> TickRatio {
        self.spec.ratio()
    }

    /// Whether this decoder produces audio (false for comfort noise and telephone-event).
    pub fn is_audio(&self) -> bool {
        !matches!(self.inner, Inner::None)
    }

    /// Number of output samples `payload` decodes to, without decoding it.
    pub fn samples_in(&self, payload: &[u8]) -> Result<usize, CodecError> {
        let bad = CodecError::BadPayload {
            kind: self.spec.kind,
            len: payload.len(),
        };
        match &self.inner {
            Inner::G711(_) => Ok(payload.len()),
            Inner::G722(_) => Ok(payload.len().saturating_mul(2)),
            Inner::L16 => l16::samples_in(payload.len(), self.spec.channels).ok_or(bad),
            Inner::Opus(d) => d.samples_in(payload),
            #[cfg(feature = "g729")]
            Inner::G729(_) => super::g729::layout(payload.len())
                .map(|(frames, sid)| (frames + usize::from(sid)) * super::g729::FRAME_SAMPLES)
                .ok_or(bad),
            Inner::None => Ok(0),
        }
    }

    /// Decodes one packet's payload into `out`; returns the samples written. Fails (and
    /// writes nothing meaningful) if the payload is malformed or `out` is too small.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let needed = self.samples_in(payload)?;
        if out.len() < needed {
            return Err(CodecError::OutputTooSmall {
                needed,
                got: out.len(),
            });
        }
        match &mut self.inner {
            Inner::G711(c) => Ok(c.decode(payload, out)),
            Inner::G722(d) => Ok(d.decode(payload, out)),
            Inner::L16 => Ok(l16::decode(payload, self.spec.channels, out)),
            Inner::Opus(d) => d.decode(payload, out),
            #[cfg(feature = "g729")]
            Inner::G729(d) => d.decode(payload, out),
            Inner::None => Err(CodecError::NotAudio(self.spec.kind)),
        }
    }

    /// Fills `samples` (at most `out.len()`) for lost packets: the codec's own concealment
    /// where it has one (Opus PLC, G.729 erasure), zeros otherwise. Returns samples written.
    pub fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let want = samples.min(out.len());
        match &mut self.inner {
            Inner::Opus(d) => d.conceal(want, out),
            #[cfg(feature = "g729")]
            Inner::G729(d) => d.conceal(want, out),
            _ => {
                if let Some(dst) = out.get_mut(..want) {
                    dst.fill(0);
                }
                want
            }
        }
    }

    /// Fills `samples` lost just before the packet `next`, using `next`'s in-band FEC
    /// where the codec has it (Opus LBRR, RFC 6716 §2.1.7), else [`Decoder::conceal`].
    /// Call it before decoding `next` itself.
    pub fn recover(&mut self, next: &[u8], samples: usize, out: &mut [i16]) -> usize {
        match &mut self.inner {
            Inner::Opus(d) => d.recover(next, samples, out),
            _ => self.conceal(samples, out),
        }
    }

    /// Whether [`Decoder::conceal`] synthesises audio rather than writing zeros.
    pub fn has_plc(&self) -> bool {
        match self.inner {
            Inner::Opus(_) => true,
            #[cfg(feature = "g729")]
            Inner::G729(_) => true,
            _ => false,
        }
    }
}

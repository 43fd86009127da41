//! Audio payload formats beyond G.711: what an `a=rtpmap` line means for decoding
//! ([`CodecSpec`]), and the per-stream stateful [`Decoder`] / simulator [`Encoder`].
//!
//! Every decoder produces mono 16-bit PCM at [`CodecSpec::sample_rate`]: recordings are
//! written one mono file per stream, so stereo payloads (L16/2, Opus) are downmixed here.

mod decoder;
mod encoder;
mod g722;
#[cfg(feature = "g729")]
mod g729;
mod l16;
mod opus;

pub use decoder::Decoder;
pub use encoder::Encoder;

use crate::g711::Codec;

/// The payload formats Tapline knows about (RFC 3551 §4.5, RFC 7587, RFC 3389, RFC 4733).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    /// G.711 mu-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
    /// G.722 sub-band ADPCM at 64 kbit/s.
    G722,
    /// G.729 / G.729A, optionally with annex B SID frames.
    G729,
    /// Opus (RFC 7587).
    Opus,
    /// Linear 16-bit big-endian PCM (RFC 3551 §4.5.11).
    L16,
    /// Comfort noise (RFC 3389): never decoded, the time it covers is silence.
    ComfortNoise,
    /// DTMF events (RFC 4733): not audio at all.
    TelephoneEvent,
}

/// How to decode one payload format: the RTP clock and the PCM it decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodecSpec {
    /// Which format.
    pub kind: CodecKind,
    /// RTP timestamp clock rate (the `a=rtpmap` rate).
    pub rtp_clock: u32,
    /// Rate of the decoded PCM (differs from `rtp_clock` for G.722 and Opus).
    pub sample_rate: u32,
    /// Channels carried in the payload (decoders always output mono).
    pub channels: u8,
}

/// Opus is decoded at 16 kHz: Tapline records telephony speech, every other codec it
/// records is 8 or 16 kHz, and libopus resamples internally for free. 48 kHz would triple
/// the storage for content a SIPREC recording almost never has. A caller wanting full band
/// can set `sample_rate` to 48000 (libopus accepts 8/12/16/24/48 kHz).
pub const OPUS_DECODE_RATE: u32 = 16_000;

impl CodecSpec {
    /// Reads an `a=rtpmap` entry (RFC 4566 §6): encoding name (case-insensitive), clock
    /// rate, channel count and the `a=fmtp` parameters. `None` for formats we cannot record
    /// or clock rates that contradict the format's definition.
    pub fn from_rtpmap(
        encoding: &str,
        clock_rate: u32,
        channels: u8,
        fmtp: Option<&str>,
    ) -> Option<CodecSpec> {
        let is = |name: &str| encoding.eq_ignore_ascii_case(name);
        let mono = channels <= 1;
        let spec = |kind, sample_rate, channels| CodecSpec {
            kind,
            rtp_clock: clock_rate,
            sample_rate,
            channels,
        };
        if is("PCMU") && clock_rate == 8000 && mono {
            Some(spec(CodecKind::Pcmu, 8000, 1))
        } else if is("PCMA") && clock_rate == 8000 && mono {
            Some(spec(CodecKind::Pcma, 8000, 1))
        } else if is("G722") && mono && (clock_rate == 8000 || clock_rate == 16_000) {
            // RFC 3551 §4.5.2: 16 kHz audio, but the RTP clock is 8000 "for historical
            // reasons". Some endpoints wrongly announce G722/16000; their timestamps then
            // advance at 16 kHz, which the ratio below handles.
            Some(spec(CodecKind::G722, 16_000, 1))
        } else if is("G729") && clock_rate == 8000 && mono {
            // annexb=yes|no (RFC 4856 / RFC 3551 §4.5.6) only says whether 2-byte SID
            // frames may appear; the decoder accepts them either way.
            let _ = fmtp;
            Some(spec(CodecKind::G729, 8000, 1))
        } else if is("opus") && clock_rate == 48_000 && channels <= 2 {
            // RFC 7587 §7: always opus/48000/2, whatever the sender actually encodes.
            Some(spec(CodecKind::Opus, OPUS_DECODE_RATE, 2))
        } else if is("L16") && (1..=2).contains(&channels.max(1)) && valid_l16_rate(clock_rate) {
            Some(spec(CodecKind::L16, clock_rate, channels.max(1)))
        } else if is("CN") && clock_rate > 0 {
            Some(spec(CodecKind::ComfortNoise, clock_rate, 1))
        } else if is("telephone-event") && clock_rate > 0 {
            Some(spec(CodecKind::TelephoneEvent, clock_rate, 1))
        } else {
            None
        }
    }

    /// The spec of a G.711 [`Codec`] (8 kHz clock and audio).
    pub fn g711(codec: Codec) -> CodecSpec {
        let kind = match codec {
            Codec::Pcmu => CodecKind::Pcmu,
            Codec::Pcma => CodecKind::Pcma,
        };
        CodecSpec {
            kind,
            rtp_clock: 8000,
            sample_rate: 8000,
            channels: 1,
        }
    }

    /// Whether packets of this format carry audio to decode (false for CN and DTMF).
    pub fn is_audio(&self) -> bool {
        !matches!(
            self.kind,
            CodecKind::ComfortNoise | CodecKind::TelephoneEvent
        )
    }

    /// Output samples per RTP tick as a reduced fraction.
    pub fn ratio(&self) -> TickRatio {
        TickRatio::new(self.sample_rate, self.rtp_clock)
    }
}

fn valid_l16_rate(rate: u32) -> bool {
    matches!(
        rate,
        8000 | 11_025 | 16_000 | 22_050 | 32_000 | 44_100 | 48_000
    )
}

/// `samples / ticks`: how many output samples one RTP timestamp tick spans
/// (G.722: 2/1, Opus decoded at 16 kHz: 1/3, G.711: 1/1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TickRatio {
    /// Numerator (output samples).
    pub samples: u32,
    /// Denominator (RTP ticks); never 0.
    pub ticks: u32,
}

impl TickRatio {
    /// `samples_rate / tick_rate`, reduced; a zero rate gives 1/1.
    pub fn new(sample_rate: u32, tick_rate: u32) -> TickRatio {
        if sample_rate == 0 || tick_rate == 0 {
            return TickRatio {
                samples: 1,
                ticks: 1,
            };
        }
        let g = gcd(sample_rate, tick_rate);
        TickRatio {
            samples: sample_rate / g,
            ticks: tick_rate / g,
        }
    }

    /// Converts a (possibly negative) tick count to samples, rounding toward -infinity.
    pub fn to_samples(&self, ticks: i64) -> i64 {
        let v = i128::from(ticks) * i128::from(self.samples);
        let v = v.div_euclid(i128::from(self.ticks.max(1)));
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }

    /// Converts a sample count to ticks, rounding toward -infinity.
    pub fn to_ticks(&self, samples: i64) -> i64 {
        let v = i128::from(samples) * i128::from(self.ticks);
        let v = v.div_euclid(i128::from(self.samples.max(1)));
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Encodings (rtpmap name, RTP clock) this build can decode, in preference order.
/// G.729 appears only when `g729` is true and the crate was built with the `g729` feature.
pub fn supported_codecs(g729: bool) -> Vec<(&'static str, u32)> {
    let mut v = vec![
        ("PCMU", 8000),
        ("PCMA", 8000),
        ("G722", 8000),
        ("opus", 48_000),
        ("L16", 16_000),
        ("L16", 8000),
        ("L16", 44_100),
        ("L16", 48_000),
    ];
    if g729 && cfg!(feature = "g729") {
        v.push(("G729", 8000));
    }
    v
}

/// Why a codec could not be set up or a payload not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// This build cannot decode or encode the format (e.g. G.729 without the feature).
    #[error("codec {0:?} is not supported by this build")]
    Unsupported(CodecKind),
    /// The format carries no audio (comfort noise, telephone-event).
    #[error("{0:?} packets carry no audio to decode")]
    NotAudio(CodecKind),
    /// The spec's rates or channels are not valid for the format.
    #[error("invalid {kind:?} spec: {reason}")]
    BadSpec {
        /// The format.
        kind: CodecKind,
        /// What is wrong.
        reason: &'static str,
    },
    /// The payload length is impossible for the format.
    #[error("{kind:?} payload of {len} bytes is malformed")]
    BadPayload {
        /// The format.
        kind: CodecKind,
        /// Payload length in bytes.
        len: usize,
    },
    /// The caller's output buffer cannot hold the decoded samples.
    #[error("output buffer holds {got} samples, {needed} needed")]
    OutputTooSmall {
        /// Samples the payload decodes to.
        needed: usize,
        /// Room in the buffer.
        got: usize,
    },
    /// libopus refused the packet or the configuration.
    #[error("opus: {0}")]
    Opus(String),
    /// The G.729 library could not allocate a channel.
    #[error("G.729 channel initialisation failed")]
    G729Init,
}

#[cfg(test)]
mod tests;

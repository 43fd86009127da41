//! G.711 mu-law (PCMU) and A-law (PCMA) codecs (ITU-T G.711; RFC 3551 §4.5.14).
//!
//! Decoding is a lookup in a 256-entry table built at compile time from the segment
//! formula; encoding is the standard segment search. Both are allocation-free and total
//! (every input byte / sample has an output), so hostile payloads cannot make them fail.

/// mu-law bias added before the segment search (G.711 uses 33 in 14-bit units = 132 in 16-bit).
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude that still fits the top mu-law segment once the bias is added.
const ULAW_CLIP: i32 = 32635;

const fn ulaw_decode(byte: u8) -> i16 {
    // Codes are transmitted bit-inverted (G.711 §2).
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_decode(byte: u8) -> i16 {
    // Even bits are inverted on the line (G.711 §3).
    let a = byte ^ 0x55;
    let segment = (a >> 4) & 0x07;
    let mantissa = (a & 0x0F) as i32;
    let magnitude = if segment == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (segment - 1)
    };
    // In A-law a set sign bit means positive.
    if a & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw {
            alaw_decode(i as u8)
        } else {
            ulaw_decode(i as u8)
        };
        i += 1;
    }
    table
}

static ULAW_TABLE: [i16; 256] = build_table(false);
static ALAW_TABLE: [i16; 256] = build_table(true);

/// Decodes one mu-law code to a 16-bit linear sample.
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TABLE[usize::from(code)]
}

/// Decodes one A-law code to a 16-bit linear sample.
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TABLE[usize::from(code)]
}

/// Encodes a 16-bit linear sample to mu-law (truncating within the segment, like G.711).
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let value = i32::from(sample);
    let (sign, magnitude) = if value < 0 {
        (0x80u32, -value)
    } else {
        (0, value)
    };
    // 132..=32767: the highest set bit is bit 7..=14, giving segment 0..=7.
    let biased = magnitude.min(ULAW_CLIP) as u32 + ULAW_BIAS as u32;
    let exponent = (31 - biased.leading_zeros()).saturating_sub(7);
    let mantissa = (biased >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Encodes a 16-bit linear sample to A-law (13-bit magnitude, segment search).
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    // One's complement for negatives keeps -32768 in range and matches G.711's
    // symmetric decision levels (0 -> 0xD5, -1 -> 0x55).
    let (mask, magnitude) = if sample >= 0 {
        (0xD5u8, (sample >> 3) as u32)
    } else {
        (0x55u8, (!sample >> 3) as u32)
    };
    // magnitude is 0..=4095; segment 0 covers 0..=31, then one segment per octave.
    let segment = if magnitude < 32 {
        0
    } else {
        (31 - magnitude.leading_zeros()).saturating_sub(4)
    };
    let mantissa = if segment < 2 {
        (magnitude >> 1) & 0x0F
    } else {
        (magnitude >> segment) & 0x0F
    };
    ((segment << 4) as u8 | mantissa as u8) ^ mask
}

/// The G.711 payload formats we record (RFC 3551 static payload types 0 and 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// mu-law, static payload type 0.
    Pcmu,
    /// A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// RTP clock rate (RFC 3551 table 4: 8000 Hz for both).
    pub fn clock_rate(&self) -> u32 {
        8000
    }

    /// Static RTP payload type (RFC 3551 table 4).
    pub fn payload_type(&self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// Maps a static payload type to a codec; `None` for anything else.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// Number of samples a payload of `payload_len` bytes decodes to (one byte per sample).
    pub fn samples_in(&self, payload_len: usize) -> usize {
        payload_len
    }

    /// Decodes `payload` into `out`; returns the number of samples written
    /// (`min(payload.len(), out.len())`).
    pub fn decode(&self, payload: &[u8], out: &mut [i16]) -> usize {
        let table = match self {
            Codec::Pcmu => &ULAW_TABLE,
            Codec::Pcma => &ALAW_TABLE,
        };
        let mut n = 0;
        for (o, &b) in out.iter_mut().zip(payload) {
            *o = table[usize::from(b)];
            n += 1;
        }
        n
    }

    /// Encodes `samples` into `out`; returns the number of bytes written
    /// (`min(samples.len(), out.len())`).
    pub fn encode(&self, samples: &[i16], out: &mut [u8]) -> usize {
        let f = match self {
            Codec::Pcmu => linear_to_ulaw,
            Codec::Pcma => linear_to_alaw,
        };
        let mut n = 0;
        for (o, &s) in out.iter_mut().zip(samples) {
            *o = f(s);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0xFE), 8);
        assert_eq!(ulaw_to_linear(0x7E), -8);
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    /// Every code decodes to a value that encodes back to the same code (tables and
    /// encoder agree), except mu-law's duplicate zero (0x7F is "negative zero").
    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "alaw {code:#x}");
            if code != 0x7F {
                assert_eq!(linear_to_ulaw(ulaw_to_linear(code)), code, "ulaw {code:#x}");
            }
        }
    }

    /// Error of decode(encode(x)) over the whole i16 range stays within one quantisation
    /// step of the segment (1/16 of the segment base), plus clipping at full scale.
    #[test]
    fn whole_range_within_quantisation_error() {
        for x in i16::MIN..=i16::MAX {
            let xi = i32::from(x);
            let u = i32::from(ulaw_to_linear(linear_to_ulaw(x)));
            let ulaw_step = ((xi.abs() + ULAW_BIAS) / 16).max(8);
            assert!((u - xi).abs() <= ulaw_step, "ulaw x={x} got {u}");
            let a = i32::from(alaw_to_linear(linear_to_alaw(x)));
            let alaw_step = (xi.abs() / 16).max(16);
            assert!((a - xi).abs() <= alaw_step, "alaw x={x} got {a}");
            // The sign is never flipped.
            assert!(u.signum() * xi.signum() >= 0 && a.signum() * xi.signum() >= 0);
        }
    }

    #[test]
    fn encoders_are_monotonic() {
        let mut prev_u = i16::MIN;
        let mut prev_a = i16::MIN;
        for x in i16::MIN..=i16::MAX {
            let u = ulaw_to_linear(linear_to_ulaw(x));
            let a = alaw_to_linear(linear_to_alaw(x));
            assert!(u >= prev_u && a >= prev_a, "x={x}");
            prev_u = u;
            prev_a = a;
        }
    }

    #[test]
    fn codec_slices_and_payload_types() {
        let samples = [0i16, 1000, -1000, 32000];
        for codec in [Codec::Pcmu, Codec::Pcma] {
            assert_eq!(codec.clock_rate(), 8000);
            assert_eq!(Codec::from_payload_type(codec.payload_type()), Some(codec));
            let mut bytes = [0u8; 4];
            assert_eq!(codec.encode(&samples, &mut bytes), 4);
            let mut back = [0i16; 8];
            assert_eq!(codec.decode(&bytes, &mut back), 4);
            for (s, b) in samples.iter().zip(back) {
                assert!((i32::from(*s) - i32::from(b)).abs() <= 1024);
            }
            // Short output buffer: truncates, never panics.
            let mut short = [0i16; 2];
            assert_eq!(codec.decode(&bytes, &mut short), 2);
        }
        assert_eq!(Codec::from_payload_type(18), None);
    }
}

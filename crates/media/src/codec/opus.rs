//! Opus (RFC 7587) through libopus: decoded to mono at the spec's rate (libopus downmixes
//! stereo streams itself), with its packet loss concealment and in-band FEC (RFC 6716 §2.1.7).

use super::CodecError;
use opus::{Application, Channels};

fn err(e: opus::Error) -> CodecError {
    CodecError::Opus(e.to_string())
}

/// Longest span concealed per libopus call (one maximal Opus frame, 120 ms).
const MAX_PLC_MS: u32 = 120;

/// Per-stream libopus decoder.
pub(super) struct OpusDecoder {
    dec: opus::Decoder,
    rate: u32,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("rate", &self.rate)
            .finish()
    }
}

impl OpusDecoder {
    pub(super) fn new(rate: u32) -> Result<Self, CodecError> {
        let dec = opus::Decoder::new(rate, Channels::Mono).map_err(err)?;
        Ok(OpusDecoder { dec, rate })
    }

    /// Samples the packet decodes to (from its TOC byte and frame count, RFC 6716 §3.1).
    pub(super) fn samples_in(&self, payload: &[u8]) -> Result<usize, CodecError> {
        if payload.is_empty() {
            return Ok(0);
        }
        opus::packet::get_nb_samples(payload, self.rate).map_err(err)
    }

    pub(super) fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        // An empty slice means "packet lost" to libopus: never let a hostile empty
        // payload trigger concealment by accident.
        if payload.is_empty() {
            return Ok(0);
        }
        self.dec.decode(payload, out, false).map_err(err)
    }

    /// libopus PLC: frame sizes must be multiples of 2.5 ms; any remainder is zeros.
    pub(super) fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let step = (self.rate / 400).max(1) as usize;
        let max = (self.rate / 1000 * MAX_PLC_MS) as usize;
        let want = samples.min(out.len());
        let mut done = 0;
        while want - done >= step {
            let n = ((want - done) / step * step).min(max);
            let Some(dst) = out.get_mut(done..done + n) else {
                break;
            };
            match self.dec.decode(&[], dst, false) {
                Ok(k) if k > 0 => done += k.min(n),
                _ => break,
            }
        }
        if let Some(rest) = out.get_mut(done..want) {
            rest.fill(0);
        }
        want
    }

    /// Rebuilds the `samples` before `next` from its in-band FEC data (LBRR); falls back
    /// to PLC when `next` carries none (libopus then conceals by itself).
    pub(super) fn recover(&mut self, next: &[u8], samples: usize, out: &mut [i16]) -> usize {
        let step = (self.rate / 400).max(1) as usize;
        let n = samples.min(out.len()) / step * step;
        if next.is_empty() || n == 0 {
            return self.conceal(samples, out);
        }
        let Some(dst) = out.get_mut(..n) else {
            return 0;
        };
        match self.dec.decode(next, dst, true) {
            Ok(_) => {
                if let Some(rest) = out.get_mut(n..samples.min(out.len())) {
                    rest.fill(0);
                }
                samples.min(out.len())
            }
            Err(_) => self.conceal(samples, out),
        }
    }
}

/// libopus encoder for the simulator (VoIP mode, in-band FEC on).
pub(super) struct OpusEncoder {
    enc: opus::Encoder,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpusEncoder")
    }
}

impl OpusEncoder {
    pub(super) fn new(rate: u32) -> Result<Self, CodecError> {
        let mut enc = opus::Encoder::new(rate, Channels::Mono, Application::Voip).map_err(err)?;
        enc.set_inband_fec(true).map_err(err)?;
        enc.set_packet_loss_perc(10).map_err(err)?;
        Ok(OpusEncoder { enc })
    }

    pub(super) fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        self.enc.encode(pcm, out).unwrap_or(0)
    }
}

//! G.729 / G.729A with annex B through the system libbcg729 (GPL-3, feature `g729` only).
//!
//! RFC 3551 §4.5.6: a payload is zero or more 10-byte frames (80 samples, 10 ms each)
//! optionally followed by one 2-byte annex B SID frame, which we decode as 10 ms of the
//! comfort noise it describes.
#![allow(unsafe_code)]

use super::{CodecError, CodecKind};
use std::ptr::NonNull;

/// Bytes of one speech frame.
pub(super) const FRAME_BYTES: usize = 10;
/// Bytes of one annex B SID frame.
pub(super) const SID_BYTES: usize = 2;
/// Samples per frame (10 ms at 8 kHz).
pub(super) const FRAME_SAMPLES: usize = 80;

#[repr(C)]
struct DecCtx {
    _opaque: [u8; 0],
}
#[repr(C)]
struct EncCtx {
    _opaque: [u8; 0],
}

#[link(name = "bcg729")]
unsafe extern "C" {
    fn initBcg729DecoderChannel() -> *mut DecCtx;
    fn closeBcg729DecoderChannel(ctx: *mut DecCtx);
    fn bcg729Decoder(
        ctx: *mut DecCtx,
        bit_stream: *const u8,
        bit_stream_length: u8,
        frame_erasure: u8,
        sid_frame: u8,
        rfc3389_payload: u8,
        signal: *mut i16,
    );
    fn initBcg729EncoderChannel(enable_vad: u8) -> *mut EncCtx;
    fn closeBcg729EncoderChannel(ctx: *mut EncCtx);
    fn bcg729Encoder(ctx: *mut EncCtx, input: *const i16, bit_stream: *mut u8, len: *mut u8);
}

/// Splits a payload into its speech frame count and whether a SID frame ends it.
pub(super) fn layout(len: usize) -> Option<(usize, bool)> {
    match len % FRAME_BYTES {
        0 => Some((len / FRAME_BYTES, false)),
        SID_BYTES => Some((len / FRAME_BYTES, true)),
        _ => None,
    }
}

/// One bcg729 decoder channel.
#[derive(Debug)]
pub(super) struct G729Decoder {
    ctx: NonNull<DecCtx>,
}

// SAFETY: a bcg729 channel is a plain heap struct with no thread affinity; we only touch it
// through `&mut self`, so moving it to another thread is sound.
unsafe impl Send for G729Decoder {}

impl G729Decoder {
    pub(super) fn new() -> Result<Self, CodecError> {
        // SAFETY: no arguments; returns a fresh context or null on allocation failure.
        let ptr = unsafe { initBcg729DecoderChannel() };
        NonNull::new(ptr)
            .map(|ctx| G729Decoder { ctx })
            .ok_or(CodecError::G729Init)
    }

    fn run(&mut self, bits: &[u8], erased: bool, sid: bool, out: &mut [i16; FRAME_SAMPLES]) {
        let len = u8::try_from(bits.len()).unwrap_or(0);
        // SAFETY: ctx is live (owned, closed only in Drop); `bits` is valid for `len` bytes
        // (bcg729 reads at most 10, and we pass exactly a 10- or 2-byte frame, or a zeroed
        // 10-byte buffer on erasure); `out` has the 80 samples bcg729 always writes.
        unsafe {
            bcg729Decoder(
                self.ctx.as_ptr(),
                bits.as_ptr(),
                len,
                u8::from(erased),
                u8::from(sid),
                0,
                out.as_mut_ptr(),
            );
        }
    }

    /// Decodes a whole payload into `out`; returns samples written.
    pub(super) fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let bad = CodecError::BadPayload {
            kind: CodecKind::G729,
            len: payload.len(),
        };
        let (frames, sid) = layout(payload.len()).ok_or(bad)?;
        let needed = (frames + usize::from(sid)) * FRAME_SAMPLES;
        if out.len() < needed {
            return Err(CodecError::OutputTooSmall {
                needed,
                got: out.len(),
            });
        }
        let mut frame_out = [0i16; FRAME_SAMPLES];
        let mut chunks = payload.chunks(FRAME_BYTES);
        for dst in out
            .chunks_mut(FRAME_SAMPLES)
            .take(frames + usize::from(sid))
        {
            let Some(bits) = chunks.next() else { break };
            self.run(bits, false, bits.len() == SID_BYTES, &mut frame_out);
            let n = dst.len().min(FRAME_SAMPLES);
            dst.copy_from_slice(frame_out.get(..n).unwrap_or_default());
        }
        Ok(needed)
    }

    /// G.729 §4.4 frame erasure concealment for `samples` (rounded up to whole frames
    /// internally; only `samples` are written).
    pub(super) fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let want = samples.min(out.len());
        let zeros = [0u8; FRAME_BYTES];
        let mut frame_out = [0i16; FRAME_SAMPLES];
        for dst in out
            .get_mut(..want)
            .unwrap_or_default()
            .chunks_mut(FRAME_SAMPLES)
        {
            self.run(&zeros, true, false, &mut frame_out);
            let n = dst.len();
            dst.copy_from_slice(frame_out.get(..n).unwrap_or_default());
        }
        want
    }
}

impl Drop for G729Decoder {
    fn drop(&mut self) {
        // SAFETY: ctx came from initBcg729DecoderChannel and is closed exactly once.
        unsafe { closeBcg729DecoderChannel(self.ctx.as_ptr()) }
    }
}

/// One bcg729 encoder channel (VAD off: every frame is speech).
#[derive(Debug)]
pub(super) struct G729Encoder {
    ctx: NonNull<EncCtx>,
}

// SAFETY: as for G729Decoder.
unsafe impl Send for G729Encoder {}

impl G729Encoder {
    pub(super) fn new() -> Result<Self, CodecError> {
        // SAFETY: plain constructor call; null on failure is checked below.
        let ptr = unsafe { initBcg729EncoderChannel(0) };
        NonNull::new(ptr)
            .map(|ctx| G729Encoder { ctx })
            .ok_or(CodecError::G729Init)
    }

    /// Encodes whole 80-sample frames of `pcm`; returns bytes written.
    pub(super) fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        let mut written = 0;
        for (frame, dst) in pcm
            .chunks_exact(FRAME_SAMPLES)
            .zip(out.chunks_exact_mut(FRAME_BYTES))
        {
            let mut len = 0u8;
            // SAFETY: ctx is live; `frame` holds the 80 samples bcg729 reads; `dst` has the
            // 10 bytes it writes at most (VAD is off, so never a 2-byte SID or 0).
            unsafe {
                bcg729Encoder(
                    self.ctx.as_ptr(),
                    frame.as_ptr(),
                    dst.as_mut_ptr(),
                    &mut len,
                )
            };
            written += usize::from(len).min(FRAME_BYTES);
        }
        written
    }
}

impl Drop for G729Encoder {
    fn drop(&mut self) {
        // SAFETY: ctx came from initBcg729EncoderChannel and is closed exactly once.
        unsafe { closeBcg729EncoderChannel(self.ctx.as_ptr()) }
    }
}

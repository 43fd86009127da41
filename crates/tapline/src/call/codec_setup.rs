//! What the simulator offers and sends for each `--codec`: payload type, rtpmap entry and the
//! [`CodecSpec`] its encoder works with (RFC 3551 section 6 static types, dynamic types for
//! Opus and L16).

use anyhow::Context;
use tapline_media::{CodecSpec, Encoder};

use crate::cli::CodecArg;

/// Payload type of the RFC 4733 telephone-event format the simulator offers.
pub(crate) const TELEPHONE_EVENT_PT: u8 = 101;

/// One send format.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendCodec {
    /// RTP payload type.
    pub(crate) pt: u8,
    /// `a=rtpmap` encoding name.
    pub(crate) encoding: &'static str,
    /// What the encoder produces (audio rate, RTP clock).
    pub(crate) spec: CodecSpec,
}

impl SendCodec {
    /// The format for a `--codec` value.
    pub(crate) fn of(arg: CodecArg) -> anyhow::Result<SendCodec> {
        // (PT, name, RTP clock, channels announced): G.722 keeps the 8000 Hz clock "for
        // historical reasons" (RFC 3551 4.5.2); Opus is always opus/48000/2 (RFC 7587 7).
        let (pt, encoding, clock, channels) = match arg {
            CodecArg::Pcmu => (0u8, "PCMU", 8000u32, 1u8),
            CodecArg::Pcma => (8, "PCMA", 8000, 1),
            CodecArg::G722 => (9, "G722", 8000, 1),
            CodecArg::Opus => (111, "opus", 48_000, 2),
            CodecArg::L16 => (96, "L16", 16_000, 1),
            CodecArg::G729 => (18, "G729", 8000, 1),
        };
        let mut spec = CodecSpec::from_rtpmap(encoding, clock, channels, None)
            .with_context(|| format!("no codec spec for {encoding}/{clock}"))?;
        // We send mono: an Opus stream is encoded from mono PCM whatever the rtpmap says.
        spec.channels = 1;
        Ok(SendCodec { pt, encoding, spec })
    }

    /// An encoder for this format (fails for G.729 without the `g729` feature).
    pub(crate) fn encoder(&self) -> anyhow::Result<Encoder> {
        Encoder::new(&self.spec).with_context(|| format!("cannot encode {}", self.encoding))
    }

    /// RTP timestamp ticks per 20 ms packet.
    pub(crate) fn ticks_per_packet(&self) -> u32 {
        self.spec.rtp_clock / 50
    }

    /// The `(pt, encoding, clock)` entries for the SDP offer, telephone-event included.
    pub(crate) fn offer_entries(&self) -> [(u8, &'static str, u32); 2] {
        [
            (self.pt, self.encoding, self.spec.rtp_clock),
            // The event clock must be the stream's RTP clock (RFC 4733 2.1).
            (TELEPHONE_EVENT_PT, "telephone-event", self.spec.rtp_clock),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_rates_per_codec() {
        let g722 = SendCodec::of(CodecArg::G722).unwrap();
        assert_eq!(
            (g722.pt, g722.spec.rtp_clock, g722.spec.sample_rate),
            (9, 8000, 16_000)
        );
        assert_eq!(g722.ticks_per_packet(), 160);
        let opus = SendCodec::of(CodecArg::Opus).unwrap();
        assert_eq!(opus.spec.rtp_clock, 48_000);
        assert_eq!(opus.ticks_per_packet(), 960);
        assert_eq!(opus.offer_entries()[1], (101, "telephone-event", 48_000));
        let l16 = SendCodec::of(CodecArg::L16).unwrap();
        assert_eq!((l16.spec.rtp_clock, l16.spec.sample_rate), (16_000, 16_000));
        for c in [
            CodecArg::Pcmu,
            CodecArg::Pcma,
            CodecArg::G722,
            CodecArg::Opus,
            CodecArg::L16,
        ] {
            let sc = SendCodec::of(c).unwrap();
            let mut enc = sc.encoder().unwrap();
            let pcm = vec![1000i16; enc.frame_samples()];
            let mut out = [0u8; 1500];
            assert!(enc.encode(&pcm, &mut out) > 0, "{c:?}");
        }
    }
}

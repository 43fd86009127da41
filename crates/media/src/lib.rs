//! tapline-media: the recording hot path.
//!
//! RTP parsing (RFC 3550 §5.1), G.711 PCMU/PCMA (RFC 3551 §4.5.14, ITU-T G.711),
//! per-stream placement of decoded audio on the recording's time axis, N-channel
//! interleaving and RIFF/WAVE writing. Everything here is sans-IO except [`wav`], which
//! writes to any caller-supplied `Write + Seek`.

pub mod analysis;
pub mod codec;
pub mod drift;
pub mod dtmf;
pub mod g711;
pub mod interleave;
pub mod mix;
pub mod ogg_opus;
pub mod repair;
pub mod resample;
pub mod rtcp;
pub mod rtp;
mod seq;
pub mod timeline;
pub mod wav;

pub use analysis::{dominant_frequency, tone};
pub use codec::{CodecError, CodecKind, CodecSpec, Decoder, Encoder, TickRatio, supported_codecs};
pub use drift::{ClockMapper, Mapping, MappingSource, NtpSync};
pub use dtmf::{DtmfError, DtmfEvent, DtmfTracker, TelephoneEvent, parse_telephone_events};
pub use g711::{Codec, alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
pub use interleave::Interleaver;
pub use mix::{mix, mix_interleaved};
pub use ogg_opus::{OggOpusError, OggOpusWriter};
pub use repair::{RepairOutcome, repair_wav};
pub use resample::{ResampleError, Resampler};
pub use rtcp::{
    ReportBlock, RtcpError, RtcpPacket, SenderReport, build_receiver_report, parse_rtcp,
};
pub use rtp::{RtpError, RtpPacket, parse_rtp, write_rtp};
pub use timeline::{PushOutcome, StreamStats, StreamTimeline, TimelineConfig, position_at};
pub use wav::{WavData, WavError, WavWriter, read_wav};

//! How to receive an accepted stream: which codecs this build decodes, and the payload type
//! map of an m-line (RFC 3551 static types and `a=rtpmap` dynamic ones).

use tapline_media::Codec;
use tapline_sdp::{CodecPref, MediaDescription};

/// The codecs this build records, in our order of preference when the operator has none.
pub(crate) const SUPPORTED: &[CodecPref] = &[
    CodecPref {
        encoding: "PCMU",
        clock_rate: 8000,
    },
    CodecPref {
        encoding: "PCMA",
        clock_rate: 8000,
    },
];

/// How to receive one accepted stream.
#[derive(Debug, Clone)]
pub(crate) struct MediaPlan {
    pub(crate) stream: usize,
    pub(crate) payload_types: Vec<(u8, Codec)>,
    pub(crate) telephone_event: Option<u8>,
    pub(crate) clock_rate: u32,
}

fn codec_of(encoding: &str) -> Option<Codec> {
    if encoding.eq_ignore_ascii_case("PCMU") {
        Some(Codec::Pcmu)
    } else if encoding.eq_ignore_ascii_case("PCMA") {
        Some(Codec::Pcma)
    } else {
        None
    }
}

/// The receive plan for stream `stream`, negotiated with `payload_type`/`encoding`.
pub(crate) fn media_plan(
    stream: usize,
    payload_type: u8,
    encoding: &str,
    clock_rate: u32,
    telephone_event: Option<u8>,
    m: Option<&MediaDescription>,
) -> MediaPlan {
    // Every decodable format offered on this m-line is mapped, so a mid-stream switch between
    // them is still recorded.
    let mut pts: Vec<(u8, Codec)> = Vec::new();
    if let Some(c) = codec_of(encoding) {
        pts.push((payload_type, c));
    }
    if let Some(m) = m {
        for map in m.rtpmaps() {
            if let Some(c) = codec_of(&map.encoding) {
                if map.clock_rate == c.clock_rate()
                    && !pts.iter().any(|(p, _)| *p == map.payload_type)
                {
                    pts.push((map.payload_type, c));
                }
            }
        }
    }
    MediaPlan {
        stream,
        payload_types: pts,
        telephone_event,
        clock_rate,
    }
}

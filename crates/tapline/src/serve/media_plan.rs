//! How to receive an accepted stream: which formats this build decodes, and the payload type
//! map of an m-line (RFC 3551 static types and `a=rtpmap` dynamic ones, RFC 3264 6.1).

use tapline_media::{CodecKind, CodecSpec, supported_codecs};
use tapline_sdp::{CodecPref, MediaDescription};

/// The formats this build records (G.729 only with the `g729` feature), in the order used
/// when the operator states no preference (the offer's order decides then).
pub(crate) fn supported() -> Vec<CodecPref> {
    supported_codecs(true)
        .into_iter()
        .map(|(encoding, clock_rate)| CodecPref {
            encoding,
            clock_rate,
        })
        .collect()
}

/// How to receive one accepted stream.
#[derive(Debug, Clone)]
pub(crate) struct MediaPlan {
    pub(crate) stream: usize,
    /// Every decodable format of the m-line that yields the same PCM rate, by payload type,
    /// so a mid-stream switch (PCMU <-> PCMA, comfort noise) is still recorded.
    pub(crate) payload_types: Vec<(u8, CodecSpec)>,
    pub(crate) telephone_event: Option<u8>,
    /// Rate of the decoded PCM (the stream's timeline rate).
    pub(crate) sample_rate: u32,
    /// RTP clock of the chosen format.
    pub(crate) rtp_clock: u32,
    /// The chosen format's name, for the catalogue.
    pub(crate) encoding: String,
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
    let spec_of = |pt: u8, enc: &str, rate: u32| {
        let (channels, fmtp) = m
            .map(|m| (m.rtpmap(pt).map_or(1, |r| r.channels), m.fmtp(pt)))
            .unwrap_or((1, None));
        CodecSpec::from_rtpmap(enc, rate, channels, fmtp)
    };
    let chosen = spec_of(payload_type, encoding, clock_rate);
    let sample_rate = chosen.map_or(8000, |c| c.sample_rate);
    let mut pts: Vec<(u8, CodecSpec)> = Vec::new();
    if let Some(c) = chosen {
        pts.push((payload_type, c));
    }
    if let Some(m) = m {
        for map in m.rtpmaps() {
            if pts.iter().any(|(p, _)| *p == map.payload_type) {
                continue;
            }
            let Some(spec) = spec_of(map.payload_type, &map.encoding, map.clock_rate) else {
                continue;
            };
            let same_rate = spec.sample_rate == sample_rate;
            let usable = match spec.kind {
                CodecKind::TelephoneEvent => Some(map.payload_type) == telephone_event,
                CodecKind::ComfortNoise => same_rate || spec.rtp_clock == clock_rate,
                _ => same_rate,
            };
            if usable {
                pts.push((map.payload_type, spec));
            }
        }
    }
    if let Some(te) = telephone_event {
        if !pts.iter().any(|(p, _)| *p == te) {
            if let Some(spec) = CodecSpec::from_rtpmap("telephone-event", clock_rate, 1, None) {
                pts.push((te, spec));
            }
        }
    }
    MediaPlan {
        stream,
        payload_types: pts,
        telephone_event,
        sample_rate,
        rtp_clock: chosen.map_or(clock_rate, |c| c.rtp_clock),
        encoding: encoding.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapline_sdp::SessionDescription;

    fn m(lines: &str) -> SessionDescription {
        SessionDescription::parse(&format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{lines}"
        ))
        .unwrap()
    }

    #[test]
    fn g711_line_maps_both_laws_cn_and_dtmf() {
        let sdp = m("m=audio 4000 RTP/AVP 0 8 13 101\r\na=rtpmap:101 telephone-event/8000\r\n");
        let p = media_plan(0, 0, "PCMU", 8000, Some(101), sdp.media.first());
        let kinds: Vec<(u8, CodecKind)> = p
            .payload_types
            .iter()
            .map(|(pt, s)| (*pt, s.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (0, CodecKind::Pcmu),
                (8, CodecKind::Pcma),
                (13, CodecKind::ComfortNoise),
                (101, CodecKind::TelephoneEvent)
            ]
        );
        assert_eq!(p.sample_rate, 8000);
    }

    #[test]
    fn g722_is_16k_audio_on_an_8k_clock_and_excludes_8k_formats() {
        let sdp = m("m=audio 4000 RTP/AVP 9 0\r\n");
        let p = media_plan(0, 9, "G722", 8000, None, sdp.media.first());
        assert_eq!(p.sample_rate, 16_000);
        assert_eq!(p.rtp_clock, 8000);
        assert_eq!(p.payload_types.len(), 1);
    }

    #[test]
    fn opus_dynamic_type() {
        let sdp = m("m=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n");
        let p = media_plan(0, 111, "opus", 48_000, None, sdp.media.first());
        assert_eq!(
            p.payload_types.first().map(|(pt, s)| (*pt, s.kind)),
            Some((111, CodecKind::Opus))
        );
        assert_eq!(p.rtp_clock, 48_000);
    }
}

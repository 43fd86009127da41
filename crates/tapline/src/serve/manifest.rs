//! The per-recording manifest (JSON next to the files and in the catalogue): how the files
//! were built — per stream codec, rates, where its first packet was placed, loss, late and
//! duplicate packets, comfort noise, concealment, timestamp re-anchors (SSRC changes, jumps),
//! DTMF, RTCP sender reports and how well they agree with the arrival-based alignment.

use serde_json::{Value, json};

use super::media_engine::StreamReport;
use super::session::SessionStream;
use super::writer::CloseReport;

/// Milliseconds of `samples` at `rate`.
pub(crate) fn ms(samples: u64, rate: u32) -> u64 {
    samples.saturating_mul(1000) / u64::from(rate.max(1))
}

/// Where, on the recording axis, stream `r`'s first packet would sit according to its RTCP
/// sender report (RTP timestamp -> NTP), in seconds of NTP time.
fn ntp_of_first(r: &StreamReport) -> Option<f64> {
    let (first_ts, _) = r.first?;
    let (ntp, sr_ts) = r.last_sr?;
    let secs = (ntp >> 32) as f64 + (ntp & 0xffff_ffff) as f64 / 4_294_967_296.0;
    let ticks = sr_ts.wrapping_sub(first_ts) as i32;
    Some(secs - f64::from(ticks) / f64::from(r.rtp_clock.max(1)))
}

/// Build the manifest.
pub(crate) fn build(
    head: Value,
    streams: &[SessionStream],
    reports: &[StreamReport],
    close: &CloseReport,
    audio_offset_ms: Option<u64>,
) -> Value {
    // RTCP cross-check: the offset between two streams' first packets by NTP (same SRC clock)
    // against the offset by arrival, which is what the files use.
    let reference = reports
        .iter()
        .find_map(|r| Some((ntp_of_first(r)?, r.first?.1, r.sample_rate)));
    let per_stream: Vec<Value> = streams
        .iter()
        .zip(reports)
        .zip(close.stream_frames.iter().chain(std::iter::repeat(&(0, 0))))
        .map(|((st, r), (frames, rate))| {
            let sr_check = match (reference, ntp_of_first(r), r.first) {
                (Some((ntp0, pos0, rate0)), Some(ntp), Some((_, pos))) => {
                    let by_arrival = pos as f64 / f64::from(r.sample_rate.max(1)) - pos0 as f64 / f64::from(rate0.max(1));
                    Some(((by_arrival - (ntp - ntp0)) * 1000.0 * 10.0).round() / 10.0)
                }
                _ => None,
            };
            let dtmf: Vec<Value> = r
                .dtmf
                .iter()
                .map(|d| json!({ "digit": d.digit.to_string(), "event": d.event, "position_ms": ms(d.start, r.rtp_clock), "duration_ms": d.duration_ms, "volume": d.volume, "end_seen": d.end_seen }))
                .collect();
            json!({
                "index": st.key.stream,
                "mline": st.mline,
                "label": st.label,
                "codec": st.plan.encoding,
                "sample_rate": r.sample_rate,
                "rtp_clock": r.rtp_clock,
                "file": st.file.as_ref().map(|f| f.display().to_string()),
                "file_ms": ms(*frames, *rate),
                "first_packet_ms": r.first.map(|(_, pos)| ms(pos, r.sample_rate)), // where it was placed
                "first_timestamp": r.first.map(|(ts, _)| ts),
                "ssrc": r.stats.ssrc,
                "received": r.stats.received,
                "lost": r.stats.lost,
                "late": r.stats.late,
                "duplicates": r.stats.duplicates,
                "dropped": r.stats.dropped,
                "comfort_noise_packets": r.cn_packets,
                "concealed_ms": ms(r.stats.concealed_samples, r.sample_rate),
                "jitter_ms": f64::from(r.stats.jitter) * 1000.0 / f64::from(r.rtp_clock.max(1)),
                "reanchors": r.stats.reanchors,
                "drift_ppm": (r.stats.drift_ppm_estimate * 10.0).round() / 10.0,
                "drift_correction_ms": r.stats.drift_samples_applied as f64 * 1000.0 / f64::from(r.sample_rate.max(1)),
                "dtmf": dtmf,
                "source": r.source.source.map(|a| a.to_string()),
                "foreign": r.source.foreign,
                "not_audio": r.not_audio_packets,
                "rtcp": { "packets": r.rtcp_packets, "sender_reports": r.sr_count, "sr_minus_arrival_ms": sr_check },
            })
        })
        .collect();
    let mut m = head;
    if let Some(obj) = m.as_object_mut() {
        obj.insert("sample_rate".into(), json!(close.sample_rate));
        obj.insert("audio_offset_ms".into(), json!(audio_offset_ms));
        obj.insert(
            "alignment".into(),
            json!({
                "time_zero": "the earliest start of any stream of the recording (files begin with the audio)",
                "placement": "each stream anchored at its lowest network transit over its first second (settling), then by RTP timestamps with clock drift corrected by one-sample steps following the lowest transit; gaps and loss as silence; re-anchored on SSRC change or timestamp jumps over 2 s",
            }),
        );
        obj.insert(
            "stereo_ms".into(),
            json!(close.stereo_frames.map(|f| ms(f, close.sample_rate))),
        );
        obj.insert(
            "mixed_ms".into(),
            json!(close.mixed_frames.map(|f| ms(f, close.sample_rate))),
        );
        obj.insert("streams".into(), Value::Array(per_stream));
        obj.insert("errors".into(), json!(close.errors));
    }
    m
}

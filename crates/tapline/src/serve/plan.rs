//! The recording plan of a new INVITE: its streams and files, catalogue rows, participants
//! and the stereo channel map (caller left, callee right when the metadata says who sends what).

use std::path::{Path, PathBuf};

use tapline_metadata::{Resolution, Role};
use tapline_sdp::{SessionDescription, StreamDecision};
use tapline_store::{
    ChannelMapEntry, ParticipantRow, ParticipantSessionRow, SessionRow, StreamRow,
};

use super::media_engine::StreamKey;
use super::media_plan::{MediaPlan, media_plan};
use super::metadata_update::participant_row;
use super::session::SessionStream;
use super::stream_labels::{generated_label, label_warnings};

/// The communication-session side of the metadata, as catalogue rows.
#[derive(Default)]
pub(crate) struct CsRows {
    pub(crate) sessions: Vec<SessionRow>,
    pub(crate) links: Vec<ParticipantSessionRow>,
    pub(crate) group: Option<String>,
    /// (label, metadata stream id)
    pub(crate) stream_ids: Vec<(String, String)>,
}

impl CsRows {
    pub(crate) fn from_metadata(m: &tapline_metadata::Metadata) -> CsRows {
        let raw = |t: &Option<tapline_metadata::Timestamp>| t.as_ref().map(|t| t.raw.clone());
        CsRows {
            sessions: m
                .sessions
                .iter()
                .map(|s| SessionRow {
                    session_id: s.id.clone(),
                    sip_session_ids: s.sip_session_ids.clone(),
                    start_time: raw(&s.start_time),
                    stop_time: raw(&s.stop_time),
                    group_id: s.group_ref.clone(),
                })
                .collect(),
            links: m
                .participant_session_assocs
                .iter()
                .map(|a| ParticipantSessionRow {
                    participant_id: a.participant_id.clone(),
                    session_id: a.session_id.clone(),
                    associate_time: raw(&a.associate_time),
                    disassociate_time: raw(&a.disassociate_time),
                })
                .collect(),
            group: m.groups.first().map(|g| g.id.clone()),
            stream_ids: m
                .streams
                .iter()
                .filter_map(|s| s.label.clone().map(|l| (l, s.id.clone())))
                .collect(),
        }
    }
}

/// Everything decided about a new recording before it is stored.
pub(crate) struct Plan {
    pub(crate) streams: Vec<SessionStream>,
    pub(crate) rows: Vec<StreamRow>,
    pub(crate) media: Vec<MediaPlan>,
    pub(crate) participants: Vec<ParticipantRow>,
    pub(crate) channel_map: Vec<ChannelMapEntry>,
    pub(crate) stereo: Option<(PathBuf, Vec<usize>)>,
    pub(crate) warnings: Vec<String>,
}

/// A label that is safe as a file name.
fn file_stem(label: &str, index: usize, taken: &[String]) -> String {
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let stem = if clean.is_empty() {
        format!("stream{index}")
    } else {
        format!("stream-{clean}")
    };
    if taken.contains(&stem) {
        format!("{stem}-{index}")
    } else {
        stem
    }
}

pub(crate) fn file_name(
    dir: &Path,
    label: &str,
    index: usize,
    taken: &[String],
) -> (String, PathBuf) {
    let stem = file_stem(label, index, taken);
    let path = dir.join(format!("{stem}.wav"));
    (stem, path)
}

/// Plan a new recording from the offer, the answer decisions and the metadata resolution.
pub(crate) fn make_plan(
    num: u64,
    offer: &SessionDescription,
    decisions: &[StreamDecision],
    ports: &[u16],
    resolution: Option<&Resolution>,
    dir: &Path,
    mut warnings: Vec<String>,
) -> Plan {
    warnings.extend(label_warnings(offer));
    let mut streams = Vec::new();
    let mut rows = Vec::new();
    let mut media = Vec::new();
    let mut stems: Vec<String> = Vec::new();
    for (i, d) in decisions.iter().enumerate() {
        let m = offer.media.get(i);
        let media_kind = m.map(|m| m.media.clone()).unwrap_or_default();
        match d {
            StreamDecision::Accept {
                label,
                payload_type,
                encoding,
                clock_rate,
                telephone_event,
                ..
            } => {
                let label = label.clone().unwrap_or_else(|| generated_label(i));
                let stem = file_stem(&label, i, &stems);
                stems.push(stem.clone());
                let file = dir.join(format!("{stem}.wav"));
                let plan = media_plan(
                    streams.len(),
                    *payload_type,
                    encoding,
                    *clock_rate,
                    *telephone_event,
                    m,
                );
                media.push(plan.clone());
                rows.push(StreamRow {
                    index: Some(streams.len()),
                    mline: i,
                    label: label.clone(),
                    stream_id: None,
                    media: media_kind,
                    codec: Some(encoding.clone()),
                    payload_type: Some(*payload_type),
                    clock_rate: Some(*clock_rate),
                    port: ports.get(i).copied(),
                    file_path: Some(file.display().to_string()),
                    channel: None,
                    accepted: true,
                    reject_reason: None,
                });
                streams.push(SessionStream {
                    label,
                    mline: i,
                    offered_source: d.remote_ip(),
                    rtp_port: ports.get(i).copied(),
                    key: StreamKey {
                        recording: num,
                        stream: streams.len(),
                    },
                    file: Some(file),
                    active: true,
                    paused: tapline_sdp::is_paused(d),
                    plan,
                });
            }
            StreamDecision::Reject { label, reason, .. } => {
                let label = label.clone().unwrap_or_else(|| generated_label(i));
                rows.push(StreamRow {
                    index: None,
                    mline: i,
                    label,
                    stream_id: None,
                    media: media_kind,
                    codec: None,
                    payload_type: None,
                    clock_rate: None,
                    port: None,
                    file_path: None,
                    channel: None,
                    accepted: false,
                    reject_reason: Some(format!("{reason:?}")),
                });
            }
        }
    }

    // Participants and who sends which label.
    let participants: Vec<ParticipantRow> = resolution
        .map(|r| r.participants.iter().map(participant_row).collect())
        .unwrap_or_default();

    // Channel map: caller left, callee right when the metadata says who sends what;
    // otherwise the first two accepted streams in m-line order.
    let index_of = |label: &str| streams.iter().position(|s| s.label == label);
    let find_role = |role: Role| {
        resolution.and_then(|r| {
            r.participants
                .iter()
                .find(|p| p.role == Some(role))
                .and_then(|p| p.sends.iter().find_map(|l| index_of(l).map(|i| (i, p))))
        })
    };
    let mut channel_map = Vec::new();
    let mut stereo = None;
    match (find_role(Role::Caller), find_role(Role::Callee)) {
        (Some((a, pa)), Some((b, pb))) if a != b => {
            for (ch, (i, p, role)) in [(a, pa, "caller"), (b, pb, "callee")]
                .into_iter()
                .enumerate()
            {
                channel_map.push(ChannelMapEntry {
                    channel: ch as u8,
                    label: streams.get(i).map(|s| s.label.clone()).unwrap_or_default(),
                    participant_id: Some(p.id.clone()),
                    role: Some(role.to_owned()),
                });
            }
            stereo = Some((dir.join("stereo.wav"), vec![a, b]));
        }
        _ if streams.len() >= 2 => {
            for ch in 0..2usize {
                let label = streams.get(ch).map(|s| s.label.clone()).unwrap_or_default();
                let sender = resolution
                    .and_then(|r| r.participants.iter().find(|p| p.sends.contains(&label)));
                channel_map.push(ChannelMapEntry {
                    channel: ch as u8,
                    label,
                    participant_id: sender.map(|p| p.id.clone()),
                    role: sender.and_then(|p| p.role).map(|r| match r {
                        Role::Caller => "caller".to_owned(),
                        Role::Callee => "callee".to_owned(),
                    }),
                });
            }
            stereo = Some((dir.join("stereo.wav"), vec![0, 1]));
        }
        _ => {}
    }
    // By stream index: labels may repeat.
    if let Some((_, feeding)) = &stereo {
        for (entry, stream) in channel_map.iter().zip(feeding) {
            if let Some(row) = rows.iter_mut().find(|r| r.index == Some(*stream)) {
                row.channel = Some(entry.channel);
            }
        }
    }
    Plan {
        streams,
        rows,
        media,
        participants,
        channel_map,
        stereo,
        warnings,
    }
}

//! Read models serialised as the HTTP API's JSON. Field names are part of
//! the external contract; times are RFC 3339 UTC strings with milliseconds.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{ChannelMapEntry, LinkedRecording, RecordingState};

/// One recording as shown in listings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingSummary {
    /// Recording id (UUID string).
    pub id: String,
    /// SIP Call-ID of the recording session.
    pub call_id: String,
    /// Life-cycle state.
    pub state: RecordingState,
    /// SRC transport address.
    pub src_addr: String,
    /// Start time.
    pub started_at: String,
    /// End time; `None` while active.
    pub ended_at: Option<String>,
    /// Duration; `None` while active.
    pub duration_ms: Option<u64>,
    /// Participants in metadata order.
    pub participants: Vec<ParticipantView>,
    /// Output files.
    pub files: FilesView,
    /// Channels of the stereo file (empty until outputs are set).
    pub channel_map: Vec<ChannelMapEntry>,
    /// RFC 7865 `<group>` id of the recording, if metadata gave one.
    pub group_id: Option<String>,
}

/// A participant in JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantView {
    /// Metadata participant id.
    pub id: String,
    /// Address of record.
    pub aor: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// `caller` / `callee`.
    pub role: Option<String>,
    /// Labels of streams this participant sends.
    pub sends: Vec<String>,
    /// Labels of streams this participant receives.
    pub receives: Vec<String>,
}

/// Files produced for a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilesView {
    /// Recording directory.
    pub dir: String,
    /// Stereo mix path, if produced.
    pub stereo: Option<String>,
    /// Per-stream file path keyed by stream label (streams with a file only). Labels may
    /// repeat: the first stream (by index) with a label is keyed by the label alone, later
    /// ones by `label#index`, so every file is listed.
    pub streams: BTreeMap<String, String>,
}

/// A recording with everything the catalogue knows about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingDetail {
    /// The listing fields.
    #[serde(flatten)]
    pub summary: RecordingSummary,
    /// All streams, accepted or not, in order of creation.
    pub streams: Vec<StreamView>,
    /// Metadata documents in arrival order.
    pub metadata: Vec<MetadataView>,
    /// Warnings in insertion order.
    pub warnings: Vec<WarningView>,
    /// Why the recording ended; `None` while active.
    pub end_reason: Option<String>,
    /// Call timeline in insertion order.
    pub events: Vec<EventView>,
    /// RFC 4733 digits by position in the audio.
    pub dtmf: Vec<DtmfView>,
    /// RFC 7865 communication sessions from the latest metadata.
    pub sessions: Vec<SessionView>,
    /// Other recordings of the same call (REQUIREMENTS A-37).
    pub linked: Vec<LinkedRecording>,
    /// The recording's manifest document, if written.
    pub manifest: Option<serde_json::Value>,
    /// Arrival time of the last audio packet seen.
    pub last_audio_at: Option<String>,
    /// Milliseconds from the INVITE to the first audio packet.
    pub audio_offset_ms: Option<u64>,
}

/// A stream in JSON output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamView {
    /// The server's stream index within the recording; `None` for a rejected m-line.
    pub index: Option<usize>,
    /// Position of the stream's m-line in the SDP; `None` for rows stored before schema v4.
    pub mline: Option<usize>,
    /// SDP `a=label` (or the generated name of an unlabelled m-line); may repeat.
    pub label: String,
    /// Metadata stream id.
    pub stream_id: Option<String>,
    /// Media type.
    pub media: String,
    /// Codec name.
    pub codec: Option<String>,
    /// RTP payload type.
    pub payload_type: Option<u8>,
    /// RTP clock rate.
    pub clock_rate: Option<u32>,
    /// Local receive port.
    pub port: Option<u16>,
    /// Per-stream file path.
    pub file: Option<String>,
    /// Stereo channel.
    pub channel: Option<u8>,
    /// `accepted` or `rejected`.
    pub state: String,
    /// Rejection reason.
    pub reject_reason: Option<String>,
    /// Packets received.
    pub packets_received: u64,
    /// Packets lost.
    pub packets_lost: u64,
    /// Duplicate packets.
    pub packets_duplicated: u64,
    /// Late packets.
    pub packets_late: u64,
    /// Packets from sources other than the stream's media source, dropped.
    pub packets_foreign: u64,
    /// RFC 3550 §6.4.1 interarrival jitter in milliseconds, if measured.
    pub jitter_ms: Option<f64>,
    /// RFC 3389 comfort-noise packets.
    pub packets_cn: u64,
    /// Times the RTP SSRC changed mid-stream.
    pub ssrc_changes: u64,
    /// Sample rate of the stored audio file.
    pub sample_rate: Option<u32>,
}

/// A stored metadata document in JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataView {
    /// Row id (use with [`crate::Catalogue::metadata_raw`] for exact bytes).
    pub id: i64,
    /// Arrival time.
    pub received_at: String,
    /// SIP method that carried it (INVITE, UPDATE, ...).
    pub sip_method: String,
    /// Content-Type of the body part.
    pub content_type: Option<String>,
    /// Body decoded as UTF-8 with invalid bytes replaced.
    pub raw: String,
    /// Parse failure, if any.
    pub parse_error: Option<String>,
}

/// A warning in JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarningView {
    /// When it was first raised.
    pub at: String,
    /// What happened.
    pub text: String,
    /// How many times it happened (identical texts share one warning; `at` is the first).
    pub count: u64,
}

/// A call timeline event in JSON output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventView {
    /// When it happened.
    pub at: String,
    /// Event kind (`pause`, `stream_added`, ...).
    pub kind: String,
    /// Stream label concerned, if any.
    pub label: Option<String>,
    /// Participant concerned, if any.
    pub participant_id: Option<String>,
    /// Kind-specific details.
    pub details: Option<serde_json::Value>,
}

/// A DTMF digit in JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DtmfView {
    /// Stream label it arrived on.
    pub label: String,
    /// The digit (`0`-`9`, `*`, `#`, `A`-`D`).
    pub digit: String,
    /// Offset from the start of the recording's audio.
    pub position_ms: u64,
    /// Wall-clock arrival time, if known.
    pub at: Option<String>,
    /// Tone duration.
    pub duration_ms: u32,
    /// RFC 4733 volume (0-63, in -dBm0), if sent.
    pub volume: Option<u8>,
}

/// An RFC 7865 communication session in JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// Metadata `session_id`.
    pub session_id: String,
    /// `<sipSessionID>` values.
    pub sip_session_ids: Vec<String>,
    /// `<start-time>` as received.
    pub start_time: Option<String>,
    /// `<stop-time>` as received.
    pub stop_time: Option<String>,
    /// `group_ref`, if any.
    pub group_id: Option<String>,
}

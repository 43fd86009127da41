//! Input types the server hands to the catalogue.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// Life-cycle state of a recording session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingState {
    /// Recording session is in progress.
    Active,
    /// Ended normally (BYE).
    Complete,
    /// Ended because of an error.
    Failed,
    /// Found active at start-up: the server stopped mid-recording.
    Interrupted,
    /// Ended without any audio received on any stream (no files are kept).
    Empty,
}

impl RecordingState {
    /// The text stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingState::Active => "active",
            RecordingState::Complete => "complete",
            RecordingState::Failed => "failed",
            RecordingState::Interrupted => "interrupted",
            RecordingState::Empty => "empty",
        }
    }
}

impl fmt::Display for RecordingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width/alignment, e.g. `{:<11}` in table output.
        f.pad(self.as_str())
    }
}

impl FromStr for RecordingState {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(RecordingState::Active),
            "complete" => Ok(RecordingState::Complete),
            "failed" => Ok(RecordingState::Failed),
            "interrupted" => Ok(RecordingState::Interrupted),
            "empty" => Ok(RecordingState::Empty),
            other => Err(StoreError::InvalidState(other.to_owned())),
        }
    }
}

/// A recording session the server has just accepted (RS INVITE answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewRecording<'a> {
    /// Caller-generated unique id (a UUID string).
    pub id: &'a str,
    /// SIP Call-ID of the recording session.
    pub call_id: &'a str,
    /// Transport address of the SRC (`ip:port`).
    pub src_addr: &'a str,
    /// When the recording session started.
    pub started_at: OffsetDateTime,
    /// Directory holding this recording's files.
    pub dir: &'a str,
}

/// One participant from RFC 7865 metadata, with its stream associations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantRow {
    /// Metadata `participant_id`.
    pub participant_id: String,
    /// Address of record (`nameID aor`).
    pub aor: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// `caller`, `callee` or `None`.
    pub role: Option<String>,
    /// How the role was determined (free text, e.g. `metadata`, `sdp-order`).
    pub role_source: Option<String>,
    /// Stream labels this participant sends (`<send>`).
    pub sends: Vec<String>,
    /// Stream labels this participant receives (`<recv>`).
    pub receives: Vec<String>,
}

/// One media stream of a recording session, or an offered m-line that was rejected.
/// A stream is identified by its `index`, never by its label: labels may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamRow {
    /// The server's 0-based stream index within the recording, in order of creation (a
    /// stream added by a re-offer gets the next one). `None` for a rejected m-line, which
    /// never became a stream: such a row is inserted, never updated.
    pub index: Option<usize>,
    /// Position of the stream's m-line in the SDP (several streams over time may share one
    /// when a re-offer reuses an m-line).
    pub mline: usize,
    /// RFC 4574 `a=label` as offered (or the name the server generated for an unlabelled
    /// m-line); not necessarily unique within a recording.
    pub label: String,
    /// Metadata `stream_id`, once metadata links it.
    pub stream_id: Option<String>,
    /// Media type from `m=` (`audio`, ...).
    pub media: String,
    /// Negotiated codec name.
    pub codec: Option<String>,
    /// Negotiated RTP payload type.
    pub payload_type: Option<u8>,
    /// RTP clock rate.
    pub clock_rate: Option<u32>,
    /// Local port the SRS receives on.
    pub port: Option<u16>,
    /// Per-stream audio file.
    pub file_path: Option<String>,
    /// Channel in the stereo mix, if mixed.
    pub channel: Option<u8>,
    /// Whether the SRS accepted the stream (port != 0 in the answer).
    pub accepted: bool,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
}

/// RTP reception counters for one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Packets received.
    pub received: u64,
    /// Packets lost (sequence gaps never filled).
    pub lost: u64,
    /// Duplicate packets discarded.
    pub duplicated: u64,
    /// Packets that arrived too late to be used.
    pub late: u64,
    /// Packets from sources other than the stream's media source, dropped.
    pub foreign: u64,
}

/// One channel of the stereo output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMapEntry {
    /// Zero-based channel index.
    pub channel: u8,
    /// Stream label feeding this channel.
    pub label: String,
    /// Participant heard on this channel, if known.
    pub participant_id: Option<String>,
    /// That participant's role, if known.
    pub role: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips() {
        for s in [
            RecordingState::Active,
            RecordingState::Complete,
            RecordingState::Failed,
            RecordingState::Interrupted,
            RecordingState::Empty,
        ] {
            assert_eq!(s.as_str().parse::<RecordingState>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(format!("[{:<8}]", RecordingState::Failed), "[failed  ]");
        assert!(matches!(
            "Active".parse::<RecordingState>(),
            Err(StoreError::InvalidState(s)) if s == "Active"
        ));
    }

    #[test]
    fn channel_map_json_shape() {
        let e = ChannelMapEntry {
            channel: 1,
            label: "2".into(),
            participant_id: None,
            role: Some("callee".into()),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"channel":1,"label":"2","participant_id":null,"role":"callee"})
        );
        let back: ChannelMapEntry = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}

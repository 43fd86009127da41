//! The timeline vocabulary: what one metadata update changed (RFC 7865 §6
//! elements coming and going; hold is a participant losing a `send`, E-81).

/// One thing that happened when an update was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A communication session group appeared (or was re-associated).
    GroupStarted {
        /// Group id.
        id: String,
    },
    /// A group got a `disassociate-time` or disappeared.
    GroupEnded {
        /// Group id.
        id: String,
    },
    /// A communication session became live.
    SessionStarted {
        /// Session id.
        id: String,
    },
    /// A session got a `stop-time`, left the recording session, or disappeared.
    SessionStopped {
        /// Session id.
        id: String,
    },
    /// A live session's `group-ref` changed (or was first given).
    SessionGroupChanged {
        /// Session id.
        session: String,
        /// The new group.
        group: Option<String>,
    },
    /// A live session's `sipSessionID` list changed (conference join/drop,
    /// re-INVITE transfer); useful to correlate recordings.
    SipSessionIdsChanged {
        /// Session id.
        session: String,
        /// The whole new list.
        ids: Vec<String>,
    },
    /// A stream became live (or got a new label).
    StreamAdded {
        /// Stream id.
        id: String,
        /// Its SDP label, if any.
        label: Option<String>,
    },
    /// A stream ended (its session stopped, or it disappeared or was relabelled).
    StreamRemoved {
        /// Stream id.
        id: String,
        /// The label it had.
        label: Option<String>,
    },
    /// A participant joined.
    ParticipantJoined {
        /// Participant id.
        id: String,
        /// First address of record, if any.
        aor: Option<String>,
    },
    /// A participant left all its sessions.
    ParticipantLeft {
        /// Participant id.
        id: String,
    },
    /// A participant started contributing to a stream (resume, join).
    SendStarted {
        /// Participant id.
        participant: String,
        /// Stream id.
        stream: String,
        /// Stream label, or the stream id when no label is known.
        label: String,
    },
    /// A participant stopped contributing to a stream (hold = pause on that label).
    SendStopped {
        /// Participant id.
        participant: String,
        /// Stream id.
        stream: String,
        /// Stream label, or the stream id when no label is known.
        label: String,
    },
    /// A participant started receiving a stream.
    RecvStarted {
        /// Participant id.
        participant: String,
        /// Stream id.
        stream: String,
        /// Stream label, or the stream id when no label is known.
        label: String,
    },
    /// A participant stopped receiving a stream.
    RecvStopped {
        /// Participant id.
        participant: String,
        /// Stream id.
        stream: String,
        /// Stream label, or the stream id when no label is known.
        label: String,
    },
    /// A live stream lost its last sender (everyone on it is on hold): the
    /// label to pause. A mixed stream others still send is not idle.
    StreamIdle {
        /// Stream id.
        id: String,
        /// Its SDP label, if any.
        label: Option<String>,
    },
    /// A live idle stream got a sender again: the label to resume.
    StreamActive {
        /// Stream id.
        id: String,
        /// Its SDP label, if any.
        label: Option<String>,
    },
}

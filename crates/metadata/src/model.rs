//! The recording metadata model (RFC 7865 §6), widened to hold the vendor
//! shapes seen in the wild (REQUIREMENTS E-02, E-07).

use crate::timestamp::Timestamp;

/// Whether a document is a full snapshot or a partial update (RFC 7865 §5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataMode {
    /// Full snapshot; also the default when `datamode` is absent.
    #[default]
    Complete,
    /// Only the elements that changed since the last snapshot.
    Partial,
}

/// Which namespace / root shape the document used (REQUIREMENTS E-01, E-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `urn:ietf:params:xml:ns:recording:1` (the RFC).
    #[default]
    Rfc7865,
    /// `urn:ietf:params:xml:ns:recording` without version (Oracle, Ribbon, Metaswitch).
    RecordingNoVersion,
    /// Pre-RFC draft: `urn:ietf:params:xml:ns:siprec`, root `recording_metadata` (BroadWorks).
    SiprecDraft,
    /// No namespace at all.
    NoNamespace,
}

/// One parsed metadata document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    /// Namespace / root shape of the source document.
    pub dialect: Dialect,
    /// Complete snapshot or partial update.
    pub datamode: DataMode,
    /// Recording session id when the SRC sends one (`recording@id`, draft `<recording id>`).
    pub recording_id: Option<String>,
    /// Communication session groups.
    pub groups: Vec<Group>,
    /// Communication sessions.
    pub sessions: Vec<Session>,
    /// Participants in document order.
    pub participants: Vec<Participant>,
    /// Media streams in document order.
    pub streams: Vec<Stream>,
    /// CS-RS associations.
    pub session_recording_assocs: Vec<SessionRecordingAssoc>,
    /// Participant-CS associations.
    pub participant_session_assocs: Vec<ParticipantSessionAssoc>,
    /// Participant-stream associations.
    pub participant_stream_assocs: Vec<ParticipantStreamAssoc>,
    /// Extension elements at recording level (raw XML kept).
    pub extensions: Vec<Extension>,
}

/// A communication session group (RFC 7865 §6.2).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Group {
    /// `group_id` (or draft `id`).
    pub id: String,
    /// When the grouping was formed.
    pub associate_time: Option<Timestamp>,
    /// When the grouping ended.
    pub disassociate_time: Option<Timestamp>,
    /// Extension elements inside the group.
    pub extensions: Vec<Extension>,
}

/// A communication session (RFC 7865 §6.3).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Session {
    /// `session_id` (or `id`).
    pub id: String,
    /// `group-ref` child (or draft `group` attribute).
    pub group_ref: Option<String>,
    /// `sipSessionID` values with all whitespace removed (RFC 8068 folds them).
    pub sip_session_ids: Vec<String>,
    /// CS start time.
    pub start_time: Option<Timestamp>,
    /// CS stop time (`stop-time`, or Cisco's `end-time`, S-11).
    pub stop_time: Option<Timestamp>,
    /// Old Oracle shape: `associate-time` directly in the session (E-07).
    pub associate_time: Option<Timestamp>,
    /// `reason` elements.
    pub reasons: Vec<Reason>,
    /// Extension elements inside the session.
    pub extensions: Vec<Extension>,
}

/// A CS termination reason (RFC 7865 §6.3.1).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reason {
    /// `cause` attribute (xs:short); None when absent or not a number.
    pub cause: Option<i16>,
    /// `protocol` attribute; the schema default is "SIP".
    pub protocol: String,
    /// Reason text.
    pub text: String,
}

/// A participant (RFC 7865 §6.5).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Participant {
    /// `participant_id` (or `id`).
    pub id: String,
    /// Names / addresses of record.
    pub name_ids: Vec<NameId>,
    /// Old shapes: `session` attribute naming the CS (Oracle, BroadWorks draft).
    pub session_ids: Vec<String>,
    /// Old shapes: stream ids from `<send>` inside the participant.
    pub send: Vec<String>,
    /// Old shapes: stream ids from `<recv>` inside the participant.
    pub recv: Vec<String>,
    /// Old shapes: `associate-time` inside the participant.
    pub associate_time: Option<Timestamp>,
    /// Old shapes: `disassociate-time` inside the participant.
    pub disassociate_time: Option<Timestamp>,
    /// Extension elements inside the participant (Oracle `extensiondata` too).
    pub extensions: Vec<Extension>,
}

/// A `nameID` (RFC 7865 §6.5.1).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NameId {
    /// Address of record, whitespace removed (it is a URI; vendors send bare numbers too).
    pub aor: String,
    /// Display name, trimmed; None when absent or blank.
    pub name: Option<String>,
    /// `xml:lang` of the name.
    pub name_lang: Option<String>,
}

/// A media stream (RFC 7865 §6.7).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// `stream_id` (or `id`).
    pub id: String,
    /// `session_id` (or `session`) attribute.
    pub session_id: Option<String>,
    /// The SDP `a=label` of the m-line carrying the stream.
    pub label: Option<String>,
    /// Old shapes: `<mode>separate|mixed</mode>`.
    pub mode: Option<String>,
    /// Vendor shapes: `associate-time` inside the stream (Oracle, Ribbon).
    pub associate_time: Option<Timestamp>,
    /// Extension elements inside the stream.
    pub extensions: Vec<Extension>,
}

/// Which streams a participant sends / receives (RFC 7865 §6.8).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParticipantStreamAssoc {
    /// The participant.
    pub participant_id: String,
    /// Stream ids the participant contributes to.
    pub send: Vec<String>,
    /// Stream ids the participant receives.
    pub recv: Vec<String>,
    /// Start of the association.
    pub associate_time: Option<Timestamp>,
    /// End of the association.
    pub disassociate_time: Option<Timestamp>,
    /// Extension elements inside the association.
    pub extensions: Vec<Extension>,
}

/// A participant's membership in a CS (RFC 7865 §6.6).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParticipantSessionAssoc {
    /// The participant.
    pub participant_id: String,
    /// The CS.
    pub session_id: String,
    /// Start of the association.
    pub associate_time: Option<Timestamp>,
    /// End of the association.
    pub disassociate_time: Option<Timestamp>,
    /// `param pname= pval=` pairs (RFC 3840 capabilities).
    pub params: Vec<(String, String)>,
    /// Extension elements inside the association.
    pub extensions: Vec<Extension>,
}

/// A CS's membership in the recording session (RFC 7865 §6.4).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionRecordingAssoc {
    /// The CS.
    pub session_id: String,
    /// Start of the association.
    pub associate_time: Option<Timestamp>,
    /// End of the association.
    pub disassociate_time: Option<Timestamp>,
    /// Extension elements inside the association.
    pub extensions: Vec<Extension>,
}

/// An extension element kept as raw XML (RFC 7865 §9 `xs:any ##other`, E-06).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extension {
    /// Namespace URI of the element, if any.
    pub namespace: Option<String>,
    /// Local name of the element.
    pub name: String,
    /// Exact source text of the element (may use prefixes declared by ancestors).
    pub raw: String,
    /// Flattened content for quick lookups: (`a/b/leaf`, text) for leaf elements and
    /// (`a/b/@attr`, value) for attributes, paths relative to this element, local names.
    pub fields: Vec<(String, String)>,
}

impl Extension {
    /// Fields whose path ends with the path segments `suffix` (ASCII case-insensitive),
    /// e.g. `callingParty` matches `x/callingParty` but not `x/isCallingParty`.
    pub fn fields_ending_with<'a>(
        &'a self,
        suffix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.fields.iter().filter_map(move |(p, v)| {
            let cut = p.len().checked_sub(suffix.len())?;
            let tail = p.get(cut..)?;
            let at_boundary = cut == 0 || p.as_bytes().get(cut - 1) == Some(&b'/');
            (at_boundary && tail.eq_ignore_ascii_case(suffix)).then_some((p.as_str(), v.as_str()))
        })
    }

    /// Values of the fields selected by [`Extension::fields_ending_with`].
    pub fn values_ending_with<'a>(&'a self, suffix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields_ending_with(suffix).map(|(_, v)| v)
    }
}

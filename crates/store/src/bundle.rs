//! Batched writes: [`Catalogue::batch`] runs several writes in one transaction, and
//! [`Catalogue::record_invite`] stores everything for an accepted recording INVITE that way:
//! one WAL commit per call instead of about ten (fewer WAL frames, so fewer checkpoint
//! fsyncs), and no reader ever sees a recording without its streams or participants.

use crate::error::DbContext;
use crate::{
    Catalogue, ChannelMapEntry, EventRow, NewRecording, ParticipantRow, ParticipantSessionRow,
    SessionRow, StoreError, StreamRow,
};

/// A metadata document as received (RFC 7866 section 9.2), kept byte for byte.
#[derive(Debug, Clone, Copy)]
pub struct MetadataDocument<'a> {
    /// SIP method that carried it (`INVITE`).
    pub sip_method: &'a str,
    /// Its Content-Type, if any.
    pub content_type: Option<&'a str>,
    /// The exact bytes.
    pub raw: &'a [u8],
    /// Why it failed to parse, if it did.
    pub parse_error: Option<&'a str>,
}

/// The rows of a newly accepted recording; see [`Catalogue::record_invite`].
#[derive(Debug, Clone, Copy)]
pub struct NewRecordingBundle<'a> {
    /// The recording row (state `active`); its `started_at` also stamps the metadata
    /// document and the warnings.
    pub recording: NewRecording<'a>,
    /// Negotiated streams.
    pub streams: &'a [StreamRow],
    /// Participants from the metadata.
    pub participants: &'a [ParticipantRow],
    /// CS sessions from the metadata.
    pub sessions: &'a [SessionRow],
    /// Participant/session associations from the metadata.
    pub session_links: &'a [ParticipantSessionRow],
    /// The metadata `<group>` id.
    pub group_id: Option<&'a str>,
    /// The metadata document, if the INVITE had one.
    pub metadata: Option<MetadataDocument<'a>>,
    /// Warnings to show with the recording.
    pub warnings: &'a [String],
    /// The stereo file, if one is written.
    pub stereo_path: Option<&'a str>,
    /// Its channel map.
    pub channel_map: &'a [ChannelMapEntry],
    /// Timeline events derived from the metadata.
    pub events: &'a [EventRow],
}

impl Catalogue {
    /// Run several writes in ONE transaction (one WAL commit): the catalogue's single-row
    /// methods called from `f` join it instead of committing each. Nothing `f` wrote is
    /// kept if it returns an error. Nested calls join the outer transaction (an inner error is undone only if the
    /// outer call fails too). Use it for the
    /// writes of one event, e.g. a recording's final rows (counters, extras, DTMF, last
    /// audio, finish).
    pub fn batch<T>(
        &self,
        f: impl FnOnce(&Catalogue) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        const OP: &str = "batch";
        let tx = self.begin().ctx(OP)?;
        let value = f(self)?;
        tx.commit().ctx(OP)?;
        Ok(value)
    }

    /// Insert a new recording with all its INVITE-time rows atomically: the same rows as
    /// `insert_recording`, `upsert_stream` per stream, `replace_participants`,
    /// `replace_sessions`, `set_group`, `add_metadata_document`, `add_warning` per warning (identical texts counted in one row),
    /// `set_outputs` and `add_event` per event, in that order, but in one transaction with
    /// cached statements. On any error nothing is stored. Returns the metadata document's
    /// row id, if one was stored.
    pub fn record_invite(&self, b: &NewRecordingBundle<'_>) -> Result<Option<i64>, StoreError> {
        self.batch(|c| c.record_invite_rows(b))
    }

    fn record_invite_rows(&self, b: &NewRecordingBundle<'_>) -> Result<Option<i64>, StoreError> {
        let rec = b.recording.id;
        let at = b.recording.started_at;
        self.insert_recording(&b.recording)?;
        for row in b.streams {
            self.upsert_stream(rec, row)?;
        }
        self.replace_participants(rec, b.participants)?;
        self.replace_sessions(rec, b.sessions, b.session_links)?;
        self.set_group(rec, b.group_id)?;
        let doc = match &b.metadata {
            Some(m) => Some(self.add_metadata_document(
                rec,
                at,
                m.sip_method,
                m.content_type,
                m.raw,
                m.parse_error,
            )?),
            None => None,
        };
        for (text, times) in crate::warnings::collapse(b.warnings) {
            self.add_warning_times(rec, at, text, times)?;
        }
        self.set_outputs(rec, b.stereo_path, b.channel_map)?;
        for e in b.events {
            self.add_event(rec, e)?;
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use crate::tests::{new_rec, open_temp, row_count};
    use crate::*;

    fn stream(label: &str) -> StreamRow {
        StreamRow {
            label: label.into(),
            media: "audio".into(),
            codec: Some("PCMU".into()),
            accepted: true,
            ..StreamRow::default()
        }
    }

    fn party(id: &str, sends: &str) -> ParticipantRow {
        ParticipantRow {
            participant_id: id.into(),
            aor: Some(format!("sip:{id}@example.com")),
            role: Some("caller".into()),
            sends: vec![sends.into()],
            ..ParticipantRow::default()
        }
    }

    #[test]
    fn one_call_stores_every_row() {
        let (_d, cat) = open_temp();
        let t = datetime!(2026-01-01 00:00 UTC);
        let streams = [stream("1"), stream("2")];
        let parts = [party("a", "1")];
        let sessions = [SessionRow {
            session_id: "s1".into(),
            sip_session_ids: vec!["x".into()],
            group_id: Some("g".into()),
            ..SessionRow::default()
        }];
        let warnings = ["w1".to_string(), "w2".to_string()];
        let events = [EventRow {
            at: t,
            kind: "participant_joined".into(),
            label: None,
            participant_id: Some("a".into()),
            details: None,
        }];
        let map = [ChannelMapEntry {
            channel: 0,
            label: "1".into(),
            participant_id: Some("a".into()),
            role: Some("caller".into()),
        }];
        let doc = cat
            .record_invite(&NewRecordingBundle {
                recording: new_rec("r", t),
                streams: &streams,
                participants: &parts,
                sessions: &sessions,
                session_links: &[],
                group_id: Some("g"),
                metadata: Some(MetadataDocument {
                    sip_method: "INVITE",
                    content_type: Some("application/rs-metadata+xml"),
                    raw: b"<recording/>",
                    parse_error: None,
                }),
                warnings: &warnings,
                stereo_path: Some("/rec/r/stereo.wav"),
                channel_map: &map,
                events: &events,
            })
            .unwrap();
        assert_eq!(
            cat.metadata_raw(doc.unwrap()).unwrap().unwrap(),
            b"<recording/>"
        );
        let d = cat.get("r").unwrap().unwrap();
        assert_eq!(d.streams.len(), 2);
        assert_eq!(d.summary.participants.len(), 1);
        assert_eq!(d.summary.participants[0].sends, ["1"]);
        assert_eq!(row_count(&cat, "sessions"), 1);
        assert_eq!(row_count(&cat, "warnings"), 2);
        assert_eq!(row_count(&cat, "events"), 1);
        let stereo: Option<String> = cat
            .conn
            .query_row(
                "SELECT stereo_path FROM recordings WHERE id = 'r'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stereo.as_deref(), Some("/rec/r/stereo.wav"));
        // The single-row methods still commit on their own afterwards.
        cat.add_warning("r", t, "later").unwrap();
        assert_eq!(row_count(&cat, "warnings"), 3);
        assert!(cat.conn.is_autocommit());
    }

    #[test]
    fn a_failing_row_stores_nothing() {
        let (_d, cat) = open_temp();
        let t = datetime!(2026-01-01 00:00 UTC);
        // Duplicate participant ids fail after the recording and stream rows were written.
        let parts = [party("a", "1"), party("a", "1")];
        let e = cat
            .record_invite(&NewRecordingBundle {
                recording: new_rec("r", t),
                streams: &[stream("1")],
                participants: &parts,
                sessions: &[],
                session_links: &[],
                group_id: None,
                metadata: None,
                warnings: &[],
                stereo_path: None,
                channel_map: &[],
                events: &[],
            })
            .unwrap_err();
        assert!(matches!(e, StoreError::DuplicateParticipant(_)), "{e:?}");
        assert!(cat.get("r").unwrap().is_none());
        assert_eq!(row_count(&cat, "streams"), 0);
        assert!(cat.conn.is_autocommit());
        // And the same id can then be recorded.
        cat.insert_recording(&new_rec("r", t)).unwrap();
    }

    #[test]
    fn batch_commits_all_or_nothing() {
        let (_d, cat) = open_temp();
        let t = datetime!(2026-01-01 00:00 UTC);
        cat.insert_recording(&new_rec("r", t)).unwrap();
        cat.batch(|c| {
            c.add_warning("r", t, "a")?;
            c.add_warning("r", t, "b")?;
            c.finish_recording("r", RecordingState::Complete, t, 5, "BYE")
        })
        .unwrap();
        assert_eq!(row_count(&cat, "warnings"), 2);
        let e = cat
            .batch(|c| {
                c.add_warning("r", t, "lost")?;
                c.add_warning("nope", t, "unknown recording")
            })
            .unwrap_err();
        assert!(matches!(e, StoreError::UnknownRecording(_)), "{e:?}");
        assert_eq!(
            row_count(&cat, "warnings"),
            2,
            "the first warning was rolled back"
        );
        assert!(cat.conn.is_autocommit());
    }
}

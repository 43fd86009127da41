//! tapline-metadata: RFC 7865 recording metadata (parse, resolve, write).
//!
//! Sans-IO: [`parse`] turns the bytes of a metadata MIME part into a
//! [`Metadata`] model, tolerating the vendor dialects catalogued in the
//! shared REQUIREMENTS (section E); [`resolve`] answers "who sends which
//! labelled stream"; [`to_xml`] and [`request_snapshot_xml`] write strictly
//! schema-ordered documents for the SRC simulator and snapshot requests.

mod elements;
mod error;
mod model;
mod parse;
mod resolve;
mod roles;
mod timestamp;
mod write;
mod xmlutil;

#[cfg(test)]
mod corpus;

pub use error::{MetadataError, Warning};
pub use model::{
    DataMode, Dialect, Extension, Group, Metadata, NameId, Participant, ParticipantSessionAssoc,
    ParticipantStreamAssoc, Reason, Session, SessionRecordingAssoc, Stream,
};
pub use parse::{Parsed, parse, parse_request_snapshot};
pub use resolve::{Resolution, ResolvedParticipant, Role, resolve};
pub use timestamp::Timestamp;
pub use write::{request_snapshot_xml, to_xml};

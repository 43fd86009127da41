//! tapline-metadata: RFC 7865 recording metadata (parse, resolve, write).
//!
//! Sans-IO: [`parse`] turns the bytes of a metadata MIME part into a
//! [`Metadata`] model, tolerating the vendor dialects catalogued in the
//! shared REQUIREMENTS (section E); [`resolve`] answers "who sends which
//! labelled stream"; [`to_xml`] and [`request_snapshot_xml`] write strictly
//! schema-ordered documents for the SRC simulator and snapshot requests.
//! [`MetadataState`] keeps one recording session's metadata across updates
//! (complete snapshots replace it, partial updates merge into it) and reports
//! each update as timeline [`Change`]s; [`vendor_fields`] gathers the call
//! facts vendors put in extensions.

mod change;
mod elements;
mod error;
mod merge;
mod model;
mod parse;
mod repair;
mod resolve;
mod roles;
mod state;
mod timeline;
mod timestamp;
mod vendor;
mod write;
mod xmlutil;

#[cfg(test)]
mod corpus;

pub use change::Change;
pub use error::{MetadataError, Warning};
pub use model::{
    DataMode, Dialect, Extension, Group, Metadata, NameId, Participant, ParticipantSessionAssoc,
    ParticipantStreamAssoc, Reason, Session, SessionRecordingAssoc, Stream,
};
pub use parse::{Parsed, parse, parse_request_snapshot};
pub use resolve::{Resolution, ResolvedParticipant, Role, resolve};
pub use state::{ApplyOutcome, MAX_ELEMENTS, MergeError, MetadataState};
pub use timestamp::Timestamp;
pub use vendor::{VendorFields, vendor_fields};
pub use write::{request_snapshot_xml, to_xml};

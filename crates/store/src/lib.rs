//! tapline-store: the SQLite catalogue of recordings made by the Tapline
//! SIPREC Session Recording Server (RFC 7866).
//!
//! The API is synchronous; the server owns a [`Catalogue`] on a dedicated
//! thread. Schema changes are versioned migrations applied by
//! [`Catalogue::open`]; [`Catalogue::open_read_only`] never migrates, for
//! readers of a live server's database.

mod bundle;
mod catalogue;
mod details;
mod error;
mod extras;
mod files;
mod linked;
mod migrations;
mod model;
mod read;
mod schema_v4;
mod search;
mod sessions;
mod streams;
mod timefmt;
mod timeline;
mod views;
mod warnings;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod upgrade_tests;

pub use bundle::{MetadataDocument, NewRecordingBundle};
pub use catalogue::Catalogue;
pub use error::StoreError;
pub use extras::StreamExtras;
pub use linked::{LinkRelation, LinkedRecording};
pub use model::{
    ChannelMapEntry, NewRecording, ParticipantRow, RecordingState, StreamCounters, StreamRow,
};
pub use search::SearchQuery;
pub use sessions::{ParticipantSessionRow, SessionRow};
pub use timeline::{DtmfRow, EventRow};
pub use views::{
    DtmfView, EventView, FilesView, MetadataView, ParticipantView, RecordingDetail,
    RecordingSummary, SessionView, StreamView, WarningView,
};

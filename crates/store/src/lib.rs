//! tapline-store: the SQLite catalogue of recordings made by the Tapline
//! SIPREC Session Recording Server (RFC 7866).
//!
//! The API is synchronous; the server owns a [`Catalogue`] on a dedicated
//! thread. Schema changes are versioned migrations applied by
//! [`Catalogue::open`].

mod catalogue;
mod details;
mod error;
mod migrations;
mod model;
mod read;
mod sessions;
mod timefmt;
mod views;

#[cfg(test)]
mod tests;

pub use catalogue::Catalogue;
pub use error::StoreError;
pub use model::{
    ChannelMapEntry, NewRecording, ParticipantRow, RecordingState, StreamCounters, StreamRow,
};
pub use sessions::{ParticipantSessionRow, SessionRow};
pub use views::{
    FilesView, MetadataView, ParticipantView, RecordingDetail, RecordingSummary, StreamView,
    WarningView,
};

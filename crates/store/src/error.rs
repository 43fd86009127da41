//! Typed errors for the catalogue.

use std::path::PathBuf;

/// Everything that can go wrong while reading or writing the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or configured.
    #[error("cannot open catalogue {path}: {source}")]
    Open {
        /// Path given to [`crate::Catalogue::open`].
        path: PathBuf,
        /// Underlying SQLite error.
        source: rusqlite::Error,
    },
    /// A schema migration failed; the transaction was rolled back.
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        /// Schema version the failed migration would have produced.
        version: u32,
        /// Underlying SQLite error.
        source: rusqlite::Error,
    },
    /// A schema migration left rows whose foreign key points nowhere; it was rolled back.
    #[error("migration to schema version {version} left {violations} dangling reference(s)")]
    MigrationBrokeKeys {
        /// Schema version the failed migration would have produced.
        version: u32,
        /// Rows reported by `PRAGMA foreign_key_check`.
        violations: usize,
    },
    /// The database was written by a newer Tapline than this one.
    #[error("catalogue schema version {found} is newer than supported version {supported}")]
    SchemaTooNew {
        /// `PRAGMA user_version` found in the file.
        found: u32,
        /// Highest version this build knows.
        supported: u32,
    },
    /// A read-only open found an older schema than this build reads; the
    /// server (which migrates) has not opened this file yet.
    #[error(
        "catalogue schema version {found} is older than version {expected}; open it read-write once to migrate"
    )]
    SchemaOutdated {
        /// `PRAGMA user_version` found in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A statement failed; `op` names the catalogue operation.
    #[error("catalogue operation '{op}' failed: {source}")]
    Db {
        /// The operation being performed.
        op: &'static str,
        /// Underlying SQLite error.
        source: rusqlite::Error,
    },
    /// A recording id that the operation requires does not exist.
    #[error("unknown recording '{0}'")]
    UnknownRecording(String),
    /// `insert_recording` was called with an id that already exists.
    #[error("recording '{0}' already exists")]
    DuplicateRecording(String),
    /// `set_stream_counters` or `set_stream_extras` named a stream index never upserted.
    #[error("recording '{recording_id}' has no stream with index {index}")]
    UnknownStream {
        /// Recording id.
        recording_id: String,
        /// The server's stream index within the recording.
        index: usize,
    },
    /// The same participant id appears twice in one `replace_participants` call.
    #[error("participant '{0}' listed more than once")]
    DuplicateParticipant(String),
    /// A participant role other than `caller`, `callee` or none.
    #[error("invalid participant role '{0}' (expected 'caller' or 'callee')")]
    InvalidRole(String),
    /// A recording state string that is not one of the known states.
    #[error("invalid recording state '{0}'")]
    InvalidState(String),
    /// A number does not fit the column's SQLite integer type.
    #[error("value for {field} is out of range")]
    OutOfRange {
        /// Which field overflowed.
        field: &'static str,
    },
    /// A timestamp could not be formatted as RFC 3339.
    #[error("cannot format timestamp: {0}")]
    TimeFormat(#[from] time::error::Format),
    /// A stored JSON column (manifest, event details, session ids) is not
    /// valid JSON of the expected shape.
    #[error("stored {field} is not valid JSON: {source}")]
    StoredJson {
        /// Which column held the bad JSON.
        field: &'static str,
        /// The decoding error.
        source: serde_json::Error,
    },
    /// The channel map could not be encoded or a stored one decoded.
    #[error("channel map JSON error: {0}")]
    ChannelMapJson(#[from] serde_json::Error),
}

/// Attach the operation name to a raw SQLite error.
pub(crate) trait DbContext<T> {
    /// Wrap the error as [`StoreError::Db`] naming `op`.
    fn ctx(self, op: &'static str) -> Result<T, StoreError>;
}

impl<T> DbContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Db { op, source })
    }
}

/// Decode a JSON column this crate wrote, naming the column on failure.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    field: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::StoredJson { field, source })
}

//! The catalogue handle: opening the database and recording-level writes.

use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use crate::error::DbContext;
use crate::migrations;
use crate::timefmt::format_ts;
use crate::{ChannelMapEntry, NewRecording, RecordingState, StoreError};

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared-statement cache size: above the number of distinct statements the server runs
/// (about 30 writes and reads), so none is ever prepared twice (the default 16 would thrash).
const STATEMENT_CACHE: usize = 64;

/// SQLite catalogue of recordings. Synchronous; own it from one thread.
#[derive(Debug)]
pub struct Catalogue {
    pub(crate) conn: Connection,
}

impl Catalogue {
    /// Open (creating if needed) the database at `path` and apply pending
    /// migrations. The parent directory must already exist.
    pub fn open(path: &Path) -> Result<Catalogue, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        Self::configure(conn, true).map_err(|e| match e {
            StoreError::Db { source, .. } => open_err(source),
            other => other,
        })
    }

    /// Open an existing database read-only (`SQLITE_OPEN_READ_ONLY`) and
    /// never migrate: for CLI readers of a live server's catalogue. The
    /// schema must be exactly the version this build reads.
    pub fn open_read_only(path: &Path) -> Result<Catalogue, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let found = migrations::current_version(&conn).map_err(open_err)?;
        let expected = migrations::latest_version();
        if found > expected {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: expected,
            });
        }
        if found < expected {
            return Err(StoreError::SchemaOutdated { found, expected });
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Catalogue { conn })
    }

    /// An in-memory catalogue (for tests of code that uses the store).
    pub fn open_in_memory() -> Result<Catalogue, StoreError> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: ":memory:".into(),
            source,
        })?;
        Self::configure(conn, false)
    }

    fn configure(mut conn: Connection, wal: bool) -> Result<Catalogue, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT).ctx("set busy_timeout")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        if wal {
            // WAL lets the HTTP API read while the recorder writes.
            let _mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
                .ctx("enable WAL")?;
            // NORMAL is durable across application crashes in WAL mode.
            conn.pragma_update(None, "synchronous", "NORMAL")
                .ctx("set synchronous")?;
        }
        conn.pragma_update(None, "foreign_keys", true)
            .ctx("enable foreign keys")?;
        migrations::migrate(&mut conn)?;
        Ok(Catalogue { conn })
    }

    /// Current schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::current_version(&self.conn).ctx("read schema version")
    }

    /// Record a newly accepted recording session in state `active`.
    pub fn insert_recording(&self, r: &NewRecording<'_>) -> Result<(), StoreError> {
        let started = format_ts(r.started_at)?;
        let res = exec_cached(
            &self.conn,
            "INSERT INTO recordings (id, call_id, src_addr, state, started_at, dir)
             VALUES (?1, ?2, ?3, 'active', ?4, ?5)",
            params![r.id, r.call_id, r.src_addr, started, r.dir],
        );
        match res {
            Ok(_) => Ok(()),
            Err(e) if is_primary_key_violation(&e) => {
                Err(StoreError::DuplicateRecording(r.id.to_owned()))
            }
            Err(source) => Err(StoreError::Db {
                op: "insert recording",
                source,
            }),
        }
    }

    /// Store the stereo file path and its channel map (JSON text).
    pub fn set_outputs(
        &self,
        recording_id: &str,
        stereo_path: Option<&str>,
        channel_map: &[ChannelMapEntry],
    ) -> Result<(), StoreError> {
        let map = serde_json::to_string(channel_map)?;
        let n = exec_cached(
            &self.conn,
            "UPDATE recordings SET stereo_path = ?2, channel_map = ?3 WHERE id = ?1",
            params![recording_id, stereo_path, map],
        )
        .ctx("set outputs")?;
        require_one(n, recording_id)
    }

    /// Close a recording: final state, end time, duration and reason.
    pub fn finish_recording(
        &self,
        recording_id: &str,
        state: RecordingState,
        ended_at: OffsetDateTime,
        duration_ms: u64,
        end_reason: &str,
    ) -> Result<(), StoreError> {
        let ended = format_ts(ended_at)?;
        let duration = i64::try_from(duration_ms).map_err(|_| StoreError::OutOfRange {
            field: "duration_ms",
        })?;
        let n = exec_cached(
            &self.conn,
            "UPDATE recordings SET state = ?2, ended_at = ?3, duration_ms = ?4, end_reason = ?5
                 WHERE id = ?1",
            params![recording_id, state.as_str(), ended, duration, end_reason],
        )
        .ctx("finish recording")?;
        require_one(n, recording_id)
    }

    /// Ids of recordings still `active` (at start-up: left by a crash).
    pub fn active_recording_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM recordings WHERE state = 'active' ORDER BY started_at")
            .ctx("list active recordings")?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .ctx("list active recordings")?;
        rows.collect::<Result<Vec<String>, _>>()
            .ctx("list active recordings")
    }
}

/// Fail with [`StoreError::UnknownRecording`] unless `id` exists.
pub(crate) fn ensure_recording(conn: &Connection, id: &str) -> Result<(), StoreError> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM recordings WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .ctx("look up recording")?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::UnknownRecording(id.to_owned())),
    }
}

/// Execute one statement through the connection's statement cache: parsed and planned
/// once per connection instead of once per call.
pub(crate) fn exec_cached(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// A write transaction, or a no-op guard when the caller already holds one
/// ([`Catalogue::record_invite`] runs the single-row methods inside its own transaction;
/// SQLite does not nest `BEGIN`). Rolled back on drop unless committed.
pub(crate) struct WriteTx<'a> {
    conn: &'a Connection,
    own: Option<Transaction<'a>>,
}

impl Deref for WriteTx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl WriteTx<'_> {
    /// Commit if this guard opened the transaction.
    pub(crate) fn commit(self) -> rusqlite::Result<()> {
        self.own.map_or(Ok(()), Transaction::commit)
    }
}

impl Catalogue {
    /// Begin a write transaction unless one is already open on this connection.
    pub(crate) fn begin(&self) -> rusqlite::Result<WriteTx<'_>> {
        let own = if self.conn.is_autocommit() {
            Some(self.conn.unchecked_transaction()?)
        } else {
            None
        };
        Ok(WriteTx {
            conn: &self.conn,
            own,
        })
    }
}

/// An UPDATE keyed by recording id must touch exactly one row.
fn require_one(changed: usize, id: &str) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::UnknownRecording(id.to_owned()))
    } else {
        Ok(())
    }
}

fn is_primary_key_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

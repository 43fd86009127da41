//! Versioned schema migrations.
//!
//! `MIGRATIONS[i]` upgrades the schema from version `i` to `i + 1`; the
//! current version lives in `PRAGMA user_version`. Each step runs inside its
//! own `BEGIN IMMEDIATE` transaction together with the version bump, so a
//! crash mid-migration leaves the previous version intact, and two processes
//! opening the same file concurrently cannot both apply the same step.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Ordered migration scripts; never edit a shipped entry, append a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // v1: base tables.
    r#"
CREATE TABLE recordings (
    id          TEXT PRIMARY KEY NOT NULL,
    call_id     TEXT NOT NULL,
    src_addr    TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'active'
                CHECK (state IN ('active','complete','failed','interrupted')),
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    duration_ms INTEGER,
    dir         TEXT NOT NULL,
    stereo_path TEXT,
    channel_map TEXT,
    end_reason  TEXT,
    group_id    TEXT
);
CREATE TABLE participants (
    recording_id   TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL,
    aor            TEXT,
    name           TEXT,
    role           TEXT CHECK (role IS NULL OR role IN ('caller','callee')),
    role_source    TEXT,
    ordinal        INTEGER NOT NULL,
    UNIQUE (recording_id, participant_id)
);
CREATE TABLE streams (
    recording_id       TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    label              TEXT NOT NULL,
    stream_id          TEXT,
    media              TEXT NOT NULL,
    codec              TEXT,
    payload_type       INTEGER,
    clock_rate         INTEGER,
    port               INTEGER,
    packets_received   INTEGER NOT NULL DEFAULT 0,
    packets_lost       INTEGER NOT NULL DEFAULT 0,
    packets_duplicated INTEGER NOT NULL DEFAULT 0,
    packets_late       INTEGER NOT NULL DEFAULT 0,
    file_path          TEXT,
    channel            INTEGER,
    state              TEXT NOT NULL CHECK (state IN ('accepted','rejected')),
    reject_reason      TEXT,
    UNIQUE (recording_id, label)
);
CREATE TABLE participant_stream (
    recording_id   TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL,
    label          TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('send','recv'))
);
CREATE TABLE participant_session (
    recording_id      TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    participant_id    TEXT NOT NULL,
    session_id        TEXT NOT NULL,
    associate_time    TEXT,
    disassociate_time TEXT
);
CREATE TABLE sessions (
    recording_id    TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    session_id      TEXT NOT NULL,
    sip_session_ids TEXT,
    start_time      TEXT,
    stop_time       TEXT,
    group_id        TEXT
);
CREATE TABLE metadata_docs (
    id           INTEGER PRIMARY KEY,
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    received_at  TEXT NOT NULL,
    sip_method   TEXT NOT NULL,
    content_type TEXT,
    raw          BLOB NOT NULL,
    parse_error  TEXT
);
CREATE TABLE warnings (
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    at           TEXT NOT NULL,
    text         TEXT NOT NULL
);
"#,
    // v2: lookup indexes (search by Call-ID, time ordering, by AOR) and
    // child-table indexes so per-recording reads do not scan.
    r#"
CREATE INDEX recordings_call_id ON recordings(call_id);
CREATE INDEX recordings_started_at ON recordings(started_at);
CREATE INDEX recordings_state ON recordings(state);
CREATE INDEX participants_aor ON participants(aor);
CREATE INDEX participant_stream_rec ON participant_stream(recording_id, participant_id);
CREATE INDEX participant_session_rec ON participant_session(recording_id);
CREATE INDEX sessions_rec ON sessions(recording_id);
CREATE INDEX metadata_docs_rec ON metadata_docs(recording_id);
CREATE INDEX warnings_rec ON warnings(recording_id);
"#,
    // v3: call timeline (events), RFC 4733 DTMF, the recording manifest,
    // audio timing, extra per-stream RTP statistics, and an index for
    // correlating recordings by CS group (REQUIREMENTS A-37).
    r#"
CREATE TABLE events (
    recording_id   TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    at             TEXT NOT NULL,
    kind           TEXT NOT NULL,
    label          TEXT,
    participant_id TEXT,
    details        TEXT,
    seq            INTEGER NOT NULL
);
CREATE TABLE dtmf_events (
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    digit        TEXT NOT NULL,
    position_ms  INTEGER NOT NULL,
    at           TEXT,
    duration_ms  INTEGER NOT NULL,
    volume       INTEGER
);
ALTER TABLE recordings ADD COLUMN manifest TEXT;
ALTER TABLE recordings ADD COLUMN last_audio_at TEXT;
ALTER TABLE recordings ADD COLUMN audio_offset_ms INTEGER;
ALTER TABLE streams ADD COLUMN jitter_ms REAL;
ALTER TABLE streams ADD COLUMN packets_cn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN ssrc_changes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN sample_rate INTEGER;
CREATE INDEX events_rec ON events(recording_id, seq);
CREATE INDEX dtmf_events_rec ON dtmf_events(recording_id);
CREATE INDEX recordings_group_id ON recordings(group_id);
"#,
    // v4: streams identified by stream index (labels may repeat), foreign-packet counter,
    // the `empty` recording state, collapsed warnings.
    crate::schema_v4::V4,
];

/// Highest schema version this build knows.
pub(crate) fn latest_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// Read `PRAGMA user_version`.
pub(crate) fn current_version(conn: &Connection) -> Result<u32, rusqlite::Error> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    // user_version is a signed 32-bit header field; negative means foreign.
    Ok(u32::try_from(v).unwrap_or(u32::MAX))
}

/// Bring the schema up to [`latest_version`], one transaction per step. Foreign keys are
/// off while the steps run (a table rebuild drops a parent table, which would otherwise
/// cascade-delete its children) and checked before each step commits; the connection's
/// setting is restored afterwards.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let fail = |source| StoreError::Migration {
        version: latest_version(),
        source,
    };
    let enforced: bool = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .map_err(fail)?;
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(fail)?;
    let result = apply_steps(conn);
    let restored = conn.pragma_update(None, "foreign_keys", enforced);
    result?;
    restored.map_err(fail)
}

fn apply_steps(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = latest_version();
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let target = u32::try_from(index).unwrap_or(u32::MAX).saturating_add(1);
        let fail = |source| StoreError::Migration {
            version: target,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        // Re-read inside the write lock: another process may have migrated.
        let found = current_version(&tx).map_err(fail)?;
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        if found >= target {
            continue;
        }
        tx.execute_batch(sql).map_err(fail)?;
        let violations = foreign_key_violations(&tx).map_err(fail)?;
        if violations > 0 {
            return Err(StoreError::MigrationBrokeKeys {
                version: target,
                violations,
            });
        }
        tx.pragma_update(None, "user_version", target)
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
    Ok(())
}

/// Rows whose foreign key points nowhere (`PRAGMA foreign_key_check`).
fn foreign_key_violations(conn: &Connection) -> Result<usize, rusqlite::Error> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    while rows.next()?.is_some() {
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_fresh_db_to_latest() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        assert_eq!(current_version(&c).unwrap(), latest_version());
        assert_eq!(latest_version(), 4);
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='participants_aor'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn rerun_is_noop() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        migrate(&mut c).unwrap();
        assert_eq!(current_version(&c).unwrap(), 4);
    }

    #[test]
    fn partial_db_gets_remaining_steps() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        migrate(&mut c).unwrap();
        assert_eq!(current_version(&c).unwrap(), 4);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        let e = migrate(&mut c).unwrap_err();
        assert!(matches!(
            e,
            StoreError::SchemaTooNew {
                found: 99,
                supported: 4
            }
        ));
    }
}

//! Schema v4: a stream is identified by its stream index, not by its label.
//!
//! - `streams` is rebuilt (SQLite cannot drop a constraint): `UNIQUE (recording_id, label)`
//!   becomes `UNIQUE (recording_id, stream_index)`, where `stream_index` is the server's
//!   0-based stream index within the recording (`NULL` for an m-line that was rejected and so
//!   never became a stream), and `mline` is the position of the stream's m-line in the SDP
//!   (`NULL` for rows written before v4). Existing rows get an index by their order within
//!   their recording. New column `packets_foreign`: packets from sources other than the
//!   stream's media source, dropped.
//! - `recordings` is rebuilt so its state check admits `empty` (no audio received at all).
//!   Row ids are kept, so listing order does not change; its indexes are recreated.
//! - `warnings` gains `count`: identical texts of one recording collapse into one row
//!   (existing duplicates are merged), enforced by a unique index.
//!
//! The rebuilds need foreign keys off (a dropped parent table would cascade-delete every
//! child row); [`crate::migrations::migrate`] turns them off around the steps and checks
//! `PRAGMA foreign_key_check` before each commit.

/// The v4 migration script.
pub(crate) const V4: &str = r#"
CREATE TABLE recordings_v4 (
    id              TEXT PRIMARY KEY NOT NULL,
    call_id         TEXT NOT NULL,
    src_addr        TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'active'
                    CHECK (state IN ('active','complete','failed','interrupted','empty')),
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    duration_ms     INTEGER,
    dir             TEXT NOT NULL,
    stereo_path     TEXT,
    channel_map     TEXT,
    end_reason      TEXT,
    group_id        TEXT,
    manifest        TEXT,
    last_audio_at   TEXT,
    audio_offset_ms INTEGER
);
INSERT INTO recordings_v4 (rowid, id, call_id, src_addr, state, started_at, ended_at,
                           duration_ms, dir, stereo_path, channel_map, end_reason, group_id,
                           manifest, last_audio_at, audio_offset_ms)
SELECT rowid, id, call_id, src_addr, state, started_at, ended_at, duration_ms, dir,
       stereo_path, channel_map, end_reason, group_id, manifest, last_audio_at, audio_offset_ms
FROM recordings;
DROP TABLE recordings;
ALTER TABLE recordings_v4 RENAME TO recordings;
CREATE INDEX recordings_call_id ON recordings(call_id);
CREATE INDEX recordings_started_at ON recordings(started_at);
CREATE INDEX recordings_state ON recordings(state);
CREATE INDEX recordings_group_id ON recordings(group_id);

CREATE TABLE streams_v4 (
    recording_id       TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    stream_index       INTEGER CHECK (stream_index IS NULL OR stream_index >= 0),
    mline              INTEGER CHECK (mline IS NULL OR mline >= 0),
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
    packets_foreign    INTEGER NOT NULL DEFAULT 0,
    file_path          TEXT,
    channel            INTEGER,
    state              TEXT NOT NULL CHECK (state IN ('accepted','rejected')),
    reject_reason      TEXT,
    jitter_ms          REAL,
    packets_cn         INTEGER NOT NULL DEFAULT 0,
    ssrc_changes       INTEGER NOT NULL DEFAULT 0,
    sample_rate        INTEGER,
    UNIQUE (recording_id, stream_index)
);
INSERT INTO streams_v4 (rowid, recording_id, stream_index, mline, label, stream_id, media,
                        codec, payload_type, clock_rate, port, packets_received, packets_lost,
                        packets_duplicated, packets_late, file_path, channel, state,
                        reject_reason, jitter_ms, packets_cn, ssrc_changes, sample_rate)
SELECT rowid, recording_id,
       row_number() OVER (PARTITION BY recording_id ORDER BY rowid) - 1,
       NULL, label, stream_id, media, codec, payload_type, clock_rate, port,
       packets_received, packets_lost, packets_duplicated, packets_late, file_path, channel,
       state, reject_reason, jitter_ms, packets_cn, ssrc_changes, sample_rate
FROM streams;
DROP TABLE streams;
ALTER TABLE streams_v4 RENAME TO streams;

ALTER TABLE warnings ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
UPDATE warnings SET count = (
    SELECT count(*) FROM warnings w
    WHERE w.recording_id = warnings.recording_id AND w.text = warnings.text);
DELETE FROM warnings WHERE rowid > (
    SELECT min(w.rowid) FROM warnings w
    WHERE w.recording_id = warnings.recording_id AND w.text = warnings.text);
CREATE UNIQUE INDEX warnings_text ON warnings(recording_id, text);
"#;

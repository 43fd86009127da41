//! Queries that assemble [`RecordingSummary`] and [`RecordingDetail`].

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::DbContext;
use crate::error::parse_json;
use crate::views::{
    FilesView, MetadataView, ParticipantView, RecordingDetail, RecordingSummary, StreamView,
    WarningView,
};
use crate::{Catalogue, ChannelMapEntry, RecordingState, StoreError, linked, sessions, timeline};

pub(crate) const SUMMARY_COLUMNS: &str = "id, call_id, state, src_addr, started_at, ended_at,
     duration_ms, dir, stereo_path, channel_map, end_reason, group_id";

/// The `recordings` row before child tables are joined in.
pub(crate) struct BaseRow {
    id: String,
    call_id: String,
    state: String,
    src_addr: String,
    started_at: String,
    ended_at: Option<String>,
    duration_ms: Option<u64>,
    dir: String,
    stereo_path: Option<String>,
    channel_map: Option<String>,
    end_reason: Option<String>,
    group_id: Option<String>,
}

pub(crate) fn base_row(r: &Row<'_>) -> rusqlite::Result<BaseRow> {
    Ok(BaseRow {
        id: r.get(0)?,
        call_id: r.get(1)?,
        state: r.get(2)?,
        src_addr: r.get(3)?,
        started_at: r.get(4)?,
        ended_at: r.get(5)?,
        duration_ms: r.get(6)?,
        dir: r.get(7)?,
        stereo_path: r.get(8)?,
        channel_map: r.get(9)?,
        end_reason: r.get(10)?,
        group_id: r.get(11)?,
    })
}

impl Catalogue {
    /// Recordings, newest first, at most `limit` of them.
    pub fn list(&self, limit: Option<u32>) -> Result<Vec<RecordingSummary>, StoreError> {
        const OP: &str = "list recordings";
        // One read transaction so the parent and child rows are consistent.
        let tx = self.conn.unchecked_transaction().ctx(OP)?;
        let bases = {
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM recordings
                 ORDER BY started_at DESC, rowid DESC LIMIT ?1"
            );
            let mut stmt = tx.prepare_cached(&sql).ctx(OP)?;
            // SQLite treats a negative LIMIT as "no limit".
            let lim = limit.map_or(-1, i64::from);
            let rows = stmt.query_map(params![lim], base_row).ctx(OP)?;
            rows.collect::<Result<Vec<_>, _>>().ctx(OP)?
        };
        let out = bases
            .into_iter()
            .map(|b| summary(&tx, b).map(|(s, _)| s))
            .collect::<Result<Vec<_>, _>>()?;
        tx.finish().ctx(OP)?;
        Ok(out)
    }

    /// Everything about one recording; `Ok(None)` if the id is unknown.
    pub fn get(&self, id: &str) -> Result<Option<RecordingDetail>, StoreError> {
        const OP: &str = "get recording";
        let tx = self.conn.unchecked_transaction().ctx(OP)?;
        let base = {
            let sql = format!("SELECT {SUMMARY_COLUMNS} FROM recordings WHERE id = ?1");
            tx.query_row(&sql, [id], base_row).optional().ctx(OP)?
        };
        let Some(base) = base else {
            return Ok(None);
        };
        let (summary, end_reason) = summary(&tx, base)?;
        let (manifest, last_audio_at, audio_offset_ms) = audio_and_manifest(&tx, id)?;
        let detail = RecordingDetail {
            streams: streams(&tx, id)?,
            metadata: metadata(&tx, id)?,
            warnings: warnings(&tx, id)?,
            end_reason,
            events: timeline::events(&tx, id)?,
            dtmf: timeline::dtmf(&tx, id)?,
            sessions: sessions::sessions(&tx, id)?,
            linked: linked::linked(&tx, id)?,
            manifest,
            last_audio_at,
            audio_offset_ms,
            summary,
        };
        tx.finish().ctx(OP)?;
        Ok(Some(detail))
    }
}

/// Build the summary; also hands back `end_reason` for the detail view.
pub(crate) fn summary(
    conn: &Connection,
    b: BaseRow,
) -> Result<(RecordingSummary, Option<String>), StoreError> {
    let state: RecordingState = b.state.parse()?;
    let channel_map: Vec<ChannelMapEntry> = match b.channel_map.as_deref() {
        Some(json) => serde_json::from_str(json)?,
        None => Vec::new(),
    };
    let s = RecordingSummary {
        participants: participants(conn, &b.id)?,
        files: FilesView {
            streams: stream_files(conn, &b.id)?,
            dir: b.dir,
            stereo: b.stereo_path,
        },
        id: b.id,
        call_id: b.call_id,
        state,
        src_addr: b.src_addr,
        started_at: b.started_at,
        ended_at: b.ended_at,
        duration_ms: b.duration_ms,
        channel_map,
        group_id: b.group_id,
    };
    Ok((s, b.end_reason))
}

fn participants(conn: &Connection, id: &str) -> Result<Vec<ParticipantView>, StoreError> {
    const OP: &str = "read participants";
    let mut links: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    {
        let mut stmt = conn
            .prepare_cached(
                "SELECT participant_id, label, direction FROM participant_stream
                 WHERE recording_id = ?1 ORDER BY rowid",
            )
            .ctx(OP)?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .ctx(OP)?;
        for row in rows {
            let (pid, label, dir) = row.ctx(OP)?;
            let entry = links.entry(pid).or_default();
            if dir == "send" {
                entry.0.push(label);
            } else {
                entry.1.push(label);
            }
        }
    }
    let mut stmt = conn
        .prepare_cached(
            "SELECT participant_id, aor, name, role FROM participants
             WHERE recording_id = ?1 ORDER BY ordinal",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(ParticipantView {
                id: r.get(0)?,
                aor: r.get(1)?,
                name: r.get(2)?,
                role: r.get(3)?,
                sends: Vec::new(),
                receives: Vec::new(),
            })
        })
        .ctx(OP)?;
    let mut out = Vec::new();
    for row in rows {
        let mut p = row.ctx(OP)?;
        if let Some((sends, receives)) = links.remove(&p.id) {
            p.sends = sends;
            p.receives = receives;
        }
        out.push(p);
    }
    Ok(out)
}

/// Stream files keyed by label; a label already taken is keyed `label#index` (labels may
/// repeat, files must not be lost).
fn stream_files(conn: &Connection, id: &str) -> Result<BTreeMap<String, String>, StoreError> {
    const OP: &str = "read stream files";
    let mut stmt = conn
        .prepare_cached(
            "SELECT label, stream_index, file_path FROM streams
             WHERE recording_id = ?1 AND file_path IS NOT NULL
             ORDER BY stream_index IS NULL, stream_index, rowid",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .ctx(OP)?;
    let mut out = BTreeMap::new();
    for (n, row) in rows.enumerate() {
        let (label, index, path) = row.ctx(OP)?;
        let mut key = label;
        if out.contains_key(&key) {
            key = format!("{key}#{}", index.map_or(n.to_string(), |i| i.to_string()));
        }
        // A real label may look like a generated key: never overwrite a file.
        while out.contains_key(&key) {
            key.push('#');
        }
        out.insert(key, path);
    }
    Ok(out)
}

fn streams(conn: &Connection, id: &str) -> Result<Vec<StreamView>, StoreError> {
    const OP: &str = "read streams";
    let mut stmt = conn
        .prepare_cached(
            "SELECT label, stream_id, media, codec, payload_type, clock_rate, port, file_path,
                    channel, state, reject_reason, packets_received, packets_lost,
                    packets_duplicated, packets_late, jitter_ms, packets_cn, ssrc_changes,
                    sample_rate, stream_index, mline, packets_foreign
             FROM streams WHERE recording_id = ?1 ORDER BY rowid",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(StreamView {
                index: r.get(19)?,
                mline: r.get(20)?,
                label: r.get(0)?,
                stream_id: r.get(1)?,
                media: r.get(2)?,
                codec: r.get(3)?,
                payload_type: r.get(4)?,
                clock_rate: r.get(5)?,
                port: r.get(6)?,
                file: r.get(7)?,
                channel: r.get(8)?,
                state: r.get(9)?,
                reject_reason: r.get(10)?,
                packets_received: r.get(11)?,
                packets_lost: r.get(12)?,
                packets_duplicated: r.get(13)?,
                packets_late: r.get(14)?,
                packets_foreign: r.get(21)?,
                jitter_ms: r.get(15)?,
                packets_cn: r.get(16)?,
                ssrc_changes: r.get(17)?,
                sample_rate: r.get(18)?,
            })
        })
        .ctx(OP)?;
    rows.collect::<Result<Vec<_>, _>>().ctx(OP)
}

/// The v3 recording columns that only the detail view shows.
type AudioAndManifest = (Option<serde_json::Value>, Option<String>, Option<u64>);

fn audio_and_manifest(conn: &Connection, id: &str) -> Result<AudioAndManifest, StoreError> {
    let (manifest, last, offset): (Option<String>, Option<String>, Option<u64>) = conn
        .query_row(
            "SELECT manifest, last_audio_at, audio_offset_ms FROM recordings WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ctx("read manifest")?;
    let manifest = manifest
        .as_deref()
        .map(|m| parse_json(m, "manifest"))
        .transpose()?;
    Ok((manifest, last, offset))
}

fn metadata(conn: &Connection, id: &str) -> Result<Vec<MetadataView>, StoreError> {
    const OP: &str = "read metadata documents";
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, received_at, sip_method, content_type, raw, parse_error
             FROM metadata_docs WHERE recording_id = ?1 ORDER BY id",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            let raw: Vec<u8> = r.get(4)?;
            Ok(MetadataView {
                id: r.get(0)?,
                received_at: r.get(1)?,
                sip_method: r.get(2)?,
                content_type: r.get(3)?,
                raw: String::from_utf8_lossy(&raw).into_owned(),
                parse_error: r.get(5)?,
            })
        })
        .ctx(OP)?;
    rows.collect::<Result<Vec<_>, _>>().ctx(OP)
}

fn warnings(conn: &Connection, id: &str) -> Result<Vec<WarningView>, StoreError> {
    const OP: &str = "read warnings";
    let mut stmt = conn
        .prepare_cached(
            "SELECT at, text, count FROM warnings WHERE recording_id = ?1 ORDER BY rowid",
        )
        .ctx(OP)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(WarningView {
                at: r.get(0)?,
                text: r.get(1)?,
                count: r.get(2)?,
            })
        })
        .ctx(OP)?;
    rows.collect::<Result<Vec<_>, _>>().ctx(OP)
}

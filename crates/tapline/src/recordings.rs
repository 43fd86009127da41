//! `tapline recordings list|show`: read the catalogue.

use std::path::Path;

use anyhow::{Context, bail};
use tapline_store::{Catalogue, RecordingSummary, SearchQuery};

use crate::cli::{RecordingsArgs, RecordingsCommand};

/// The catalogue file inside a data directory.
pub(crate) fn catalogue_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("catalogue.sqlite")
}

pub(crate) fn main(args: RecordingsArgs) -> anyhow::Result<()> {
    match args.command {
        RecordingsCommand::List {
            data_dir,
            json,
            limit,
        } => {
            let cat = open(&data_dir)?;
            let list = cat.list(limit).context("listing recordings")?;
            print_list(&list, json)?;
        }
        RecordingsCommand::Search {
            aor,
            call_id,
            state,
            since,
            until,
            limit,
            data_dir,
            json,
        } => {
            let time = |s: Option<String>| -> anyhow::Result<Option<time::OffsetDateTime>> {
                s.map(|s| {
                    time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                        .with_context(|| {
                            format!("{s} is not an RFC 3339 time (e.g. 2026-11-26T08:00:00Z)")
                        })
                })
                .transpose()
            };
            let query = SearchQuery {
                aor,
                call_id,
                state: state
                    .map(|s| s.parse::<tapline_store::RecordingState>())
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("bad --state: {e}"))?,
                since: time(since)?,
                until: time(until)?,
                limit,
            };
            let cat = open(&data_dir)?;
            let list = cat.search(&query).context("searching recordings")?;
            print_list(&list, json)?;
        }
        RecordingsCommand::Show { id, data_dir, json } => {
            let cat = open(&data_dir)?;
            let Some(rec) = cat.get(&id).context("reading recording")? else {
                bail!("no recording with id {id}");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&rec)?);
            } else {
                print_detail(&serde_json::to_value(&rec)?);
            }
        }
    }
    Ok(())
}

fn print_list(list: &[RecordingSummary], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(list)?);
        return Ok(());
    }
    for r in list {
        let who: Vec<String> = r
            .participants
            .iter()
            .map(|p| {
                format!(
                    "{}{}",
                    p.aor.as_deref().unwrap_or("?"),
                    p.role
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        println!(
            "{}  {:<11} {}  {:>8}  {}  {}",
            r.id,
            r.state,
            r.started_at,
            r.duration_ms
                .map(|d| format!("{:.1}s", d as f64 / 1000.0))
                .unwrap_or_else(|| "-".into()),
            r.call_id,
            who.join(", ")
        );
    }
    Ok(())
}

/// Open the catalogue for reading: read-only (never migrating a live server's database), or,
/// when the file predates this build's schema, through the migrating open.
fn open(data_dir: &Path) -> anyhow::Result<Catalogue> {
    let path = catalogue_path(data_dir);
    if !path.exists() {
        bail!("no catalogue at {} (is --data-dir right?)", path.display());
    }
    match Catalogue::open_read_only(&path) {
        Ok(c) => Ok(c),
        Err(tapline_store::StoreError::SchemaOutdated { .. }) => {
            Catalogue::open(&path).with_context(|| format!("opening catalogue {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("opening catalogue {}", path.display())),
    }
}

/// A readable view of `recordings show` (the JSON has everything).
fn print_detail(v: &serde_json::Value) {
    let s = |v: &serde_json::Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    println!("recording  {}", s(&v["id"]));
    println!("call-id    {}", s(&v["call_id"]));
    println!("state      {} ({})", s(&v["state"]), s(&v["end_reason"]));
    println!("started    {}", s(&v["started_at"]));
    println!("ended      {}", s(&v["ended_at"]));
    println!("duration   {} ms", s(&v["duration_ms"]));
    println!("stereo     {}", s(&v["files"]["stereo"]));
    for p in v["participants"].as_array().into_iter().flatten() {
        println!(
            "participant {} {} role={} sends={}",
            s(&p["aor"]),
            s(&p["name"]),
            s(&p["role"]),
            p["sends"]
        );
    }
    for st in v["streams"].as_array().into_iter().flatten() {
        println!(
            "stream #{} m-line {} label {} {} codec={} received={} lost={} foreign={} file={}",
            s(&st["index"]),
            s(&st["mline"]),
            s(&st["label"]),
            s(&st["state"]),
            s(&st["codec"]),
            s(&st["packets_received"]),
            s(&st["packets_lost"]),
            s(&st["packets_foreign"]),
            s(&st["file"])
        );
    }
    for w in v["warnings"].as_array().into_iter().flatten() {
        match w["count"].as_u64() {
            Some(n) if n > 1 => println!("warning {} (x{n})", s(&w["text"])),
            _ => println!("warning {}", s(&w["text"])),
        }
    }
}

//! `tapline stats`: ask a running server for its receive counters over its Unix socket and
//! print them as JSON.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

/// `tapline stats`.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// Data directory of the running server; its socket is DIR/tapline.sock
    /// [default: ./tapline-data].
    #[arg(long, env = "TAPLINE_DATA_DIR", default_value = "./tapline-data")]
    pub(crate) data_dir: PathBuf,
    /// The server's stats socket (instead of the one in --data-dir).
    #[arg(long, value_name = "PATH")]
    pub(crate) socket: Option<PathBuf>,
}

/// Where a server with this data directory listens for `tapline stats`.
pub(crate) fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tapline.sock")
}

pub(crate) fn main(args: StatsArgs) -> anyhow::Result<()> {
    let path = args.socket.unwrap_or_else(|| socket_path(&args.data_dir));
    let mut conn = UnixStream::connect(&path)
        .with_context(|| format!("connecting to {} (is the server running?)", path.display()))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .context("setting a read timeout")?;
    let mut text = String::new();
    conn.read_to_string(&mut text)
        .with_context(|| format!("reading from {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).context("the server's answer is not JSON")?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

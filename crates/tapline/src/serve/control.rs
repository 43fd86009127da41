//! Operator commands on a Unix socket (`DATA_DIR/tapline-control.sock`), one line each:
//! `snapshot RECORDING_ID` asks that recording's SRC for a complete metadata snapshot (RFC 7866
//! 9.2) whatever `request_snapshots` says, since an operator asked. Answers one line: `ok ...`
//! or `error ...`.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use super::core::CoreMsg;

/// Where a server with this data directory takes operator commands.
pub(crate) fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tapline-control.sock")
}

/// Removes the socket file when the server stops.
pub(crate) struct ControlService {
    path: Option<PathBuf>,
}

impl Drop for ControlService {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Listen for operator commands; a socket that cannot be bound is logged, never fatal.
pub(crate) fn start(data_dir: &Path, core: mpsc::UnboundedSender<CoreMsg>) -> ControlService {
    let path = socket_path(data_dir);
    let _ = std::fs::remove_file(&path);
    match tokio::net::UnixListener::bind(&path) {
        Ok(listener) => {
            tokio::spawn(serve(listener, core));
            ControlService { path: Some(path) }
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "no operator control socket");
            ControlService { path: None }
        }
    }
}

async fn serve(listener: tokio::net::UnixListener, core: mpsc::UnboundedSender<CoreMsg>) {
    while let Ok((conn, _)) = listener.accept().await {
        let core = core.clone();
        tokio::spawn(async move {
            let (read, mut write) = conn.into_split();
            let mut line = String::new();
            let mut reader = BufReader::new(read.take(4096));
            if reader.read_line(&mut line).await.is_err() {
                return;
            }
            let answer = command(line.trim(), &core).await;
            let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        });
    }
}

async fn command(line: &str, core: &mpsc::UnboundedSender<CoreMsg>) -> String {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some("snapshot"), Some(id)) => {
            let (tx, rx) = oneshot::channel();
            if core
                .send(CoreMsg::OperatorSnapshot {
                    recording_id: id.to_owned(),
                    reply: tx,
                })
                .is_err()
            {
                return "error server stopping".into();
            }
            match rx.await {
                Ok(Ok(())) => format!("ok snapshot requested for {id}"),
                Ok(Err(e)) => format!("error {e}"),
                Err(_) => "error server stopping".into(),
            }
        }
        _ => "error unknown command (try: snapshot RECORDING_ID)".into(),
    }
}

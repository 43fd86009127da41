//! `tapline`: a SIPREC (RFC 7866) session recording server, its SRC simulator, a message
//! inspector and the recordings catalogue CLI.

mod call;
mod cli;
mod config;
mod inspect;
mod load;
mod logging;
mod recordings;
mod serve;
mod stats;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => exit(serve::main(args)),
        cli::Command::Call(args) => exit(call::main(args)),
        cli::Command::Inspect(args) => inspect::main(args),
        cli::Command::Recordings(args) => exit(recordings::main(args)),
        cli::Command::RtpSend(args) => exit(call::rtp_send(args)),
        cli::Command::Snapshot(args) => exit(snapshot_cmd(args)),
        cli::Command::Load(args) => exit(load::main(args)),
        cli::Command::Stats(args) => exit(stats::main(args)),
    }
}

fn exit(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tapline: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `tapline snapshot ID`: one command line to the server's control socket.
fn snapshot_cmd(args: cli::SnapshotArgs) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let path = args.data_dir.join("tapline-control.sock");
    let mut conn = std::os::unix::net::UnixStream::connect(&path).map_err(|e| {
        anyhow::anyhow!(
            "connecting to {} (is the server running?): {e}",
            path.display()
        )
    })?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    conn.write_all(format!("snapshot {}\n", args.id).as_bytes())?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    let answer = answer.trim();
    println!("{answer}");
    if answer.starts_with("ok") {
        Ok(())
    } else {
        anyhow::bail!("the server refused: {answer}")
    }
}

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

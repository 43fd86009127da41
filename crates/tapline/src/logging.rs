//! Structured logging through `tracing`. Logs go to stderr; `RUST_LOG` filters them.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Install the global subscriber: `format` is "text" or "json"-like key=value text.
pub(crate) fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests calling main twice) is harmless: ignore the error.
    if format == "json" {
        let _ = builder.with_ansi(false).with_level(true).try_init();
    } else {
        let _ = builder.try_init();
    }
}

//! Structured logging through `tracing`. Logs go to stderr; `RUST_LOG` filters them.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Install the global subscriber: `format` is "text" (key=value) or "json" (one object per line).
pub(crate) fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests calling main twice) is harmless: ignore the error.
    if format == "json" {
        // One JSON object per line, with the span fields (Call-ID, recording id) on each.
        let _ = builder.json().with_current_span(true).try_init();
    } else {
        let _ = builder.try_init();
    }
}

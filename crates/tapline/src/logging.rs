//! Structured logging through `tracing`. Logs go to stderr; `RUST_LOG` filters them.
//!
//! Call-IDs, labels, display names and reasons come from the network. In the text format
//! every field value and message (of events and spans alike) is written with its control
//! characters as visible escapes (`\r`, `\n`, `\t`, `\0`, `\x1b`, `\u{9b}`), so one event
//! is always one line and no data reaches the operator's terminal as a control sequence;
//! the formatter's own colours are written around the escaped text. The JSON format
//! escapes them through serde_json.

use std::fmt::{self, Write as _};
use std::io::{self, IsTerminal};

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, MakeWriter};
use tracing_subscriber::util::SubscriberInitExt;

/// Install the global subscriber: `format` is "text" (key=value) or "json" (one object per line).
pub(crate) fn init(format: &str) {
    let ansi = std::io::stderr().is_terminal();
    // A second init (tests calling main twice) is harmless: ignore the error.
    let _ = if format == "json" {
        json_subscriber(std::io::stderr, filter()).try_init()
    } else {
        text_subscriber(std::io::stderr, filter(), ansi).try_init()
    };
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// key=value lines, every field escaped by [`EscapedFields`].
fn text_subscriber<W>(writer: W, filter: EnvFilter, ansi: bool) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false)
        .with_ansi(ansi)
        .fmt_fields(EscapedFields)
        .finish()
}

/// One JSON object per line, with the span fields (Call-ID, recording id) on each.
fn json_subscriber<W>(writer: W, filter: EnvFilter) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(JsonControls(writer))
        .with_target(false)
        .with_ansi(false)
        .json()
        .with_current_span(true)
        .finish()
}

/// serde_json escapes C0 controls but leaves DEL and C1 (U+0080..U+009F, 8-bit CSI among
/// them) raw, as JSON allows: this writer turns them into `\u` escapes. They can only occur
/// inside JSON strings, where the escape means the same character.
struct JsonControls<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for JsonControls<M> {
    type Writer = JsonControlsWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        JsonControlsWriter(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        JsonControlsWriter(self.0.make_writer_for(meta))
    }
}

struct JsonControlsWriter<W>(W);

impl<W: io::Write> io::Write for JsonControlsWriter<W> {
    /// Takes the whole buffer (the formatter writes one event at once), so a two-byte
    /// C1 sequence is never split between calls.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Nearly every line has neither DEL nor a C1 lead byte: write it as it is.
        if !buf.iter().any(|b| *b == 0x7f || *b == 0xc2) {
            self.0.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut out = Vec::with_capacity(buf.len());
        let mut bytes = buf.iter().copied().peekable();
        while let Some(b) = bytes.next() {
            match (b, bytes.peek().copied()) {
                (0x7f, _) => out.extend_from_slice(b"\\u007f"),
                (0xc2, Some(c @ 0x80..=0x9f)) => {
                    bytes.next();
                    out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                }
                _ => out.push(b),
            }
        }
        self.0.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Write one character, a control character as a visible escape.
fn write_escaped_char(out: &mut dyn fmt::Write, c: char) -> fmt::Result {
    match c {
        '\r' => out.write_str("\\r"),
        '\n' => out.write_str("\\n"),
        '\t' => out.write_str("\\t"),
        '\0' => out.write_str("\\0"),
        c if c.is_ascii_control() => write!(out, "\\x{:02x}", u32::from(c)),
        c if c.is_control() => write!(out, "\\u{{{:x}}}", u32::from(c)),
        c => out.write_char(c),
    }
}

/// A string value in double quotes, `"` and `\\` backslashed, controls escaped.
fn write_quoted(out: &mut dyn fmt::Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in value.chars() {
        match c {
            '"' | '\\' => write!(out, "\\{c}")?,
            c => write_escaped_char(out, c)?,
        }
    }
    out.write_char('"')
}

/// A `fmt::Write` that escapes every control character passing through it.
struct Escaping<'a>(&'a mut dyn fmt::Write);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.chars().try_for_each(|c| write_escaped_char(self.0, c))
    }
}

/// Field formatter of the text format: like the default one (`name=value`, strings
/// quoted, the message bare) but with control characters escaped in every value.
pub(crate) struct EscapedFields;

impl<'w> FormatFields<'w> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = EscapingVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct EscapingVisitor<'w> {
    writer: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl EscapingVisitor<'_> {
    /// Separator and `name=` (italic name and dim `=` when colours are on), or nothing
    /// for the message. False for fields that are not written at all.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        let sep = if self.first { "" } else { " " };
        self.first = false;
        self.result = match (name, self.writer.has_ansi_escapes()) {
            ("message", _) => self.writer.write_str(sep),
            (name, true) => write!(self.writer, "{sep}\x1b[3m{name}\x1b[0m\x1b[2m=\x1b[0m"),
            (name, false) => write!(self.writer, "{sep}{name}="),
        };
        self.result.is_ok()
    }

    fn escaped(&mut self, args: fmt::Arguments<'_>) {
        if self.result.is_ok() {
            self.result = Escaping(&mut self.writer).write_fmt(args);
        }
    }
}

impl Visit for EscapingVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.start(field) {
            return;
        }
        if field.name() == "message" {
            return self.escaped(format_args!("{value}"));
        }
        self.result = write_quoted(&mut self.writer, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !self.start(field) {
            return;
        }
        self.escaped(format_args!("{value}"));
        let mut source = value.source();
        while let Some(cause) = source {
            self.escaped(format_args!(": {cause}"));
            source = cause.source();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.escaped(format_args!("{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Everything the subscriber writes, shared with the test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    const HOSTILE: &str = "a\rb\nc\x1b[31md\0e\x07f\x7fg\u{9b}h\ti";

    #[derive(Debug, thiserror::Error)]
    #[error("outer {0}")]
    struct Outer(String, #[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner {0}")]
    struct Inner(String);

    fn capture(ansi: Option<bool>) -> String {
        let sink = Sink::default();
        let out = sink.0.clone();
        let make = move || sink.clone();
        let filter = EnvFilter::new("info");
        let run = || {
            let span = tracing::info_span!("call", call_id = %HOSTILE, label = HOSTILE);
            let _enter = span.enter();
            tracing::info!(reason = %HOSTILE, name = HOSTILE, dbg = ?HOSTILE, "message {HOSTILE}");
            let err = Outer(HOSTILE.into(), Inner(HOSTILE.into()));
            let err: &(dyn std::error::Error + 'static) = &err;
            tracing::warn!(error = err, "failed");
            span.record("label", "later\r\x1b");
            tracing::info!("after record");
        };
        match ansi {
            Some(ansi) => {
                tracing::subscriber::with_default(text_subscriber(make, filter, ansi), run)
            }
            None => tracing::subscriber::with_default(json_subscriber(make, filter), run),
        }
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    /// The formatter's own colours: ESC `[`, digits and `;`, then `m`.
    fn strip_sgr(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('\x1b') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let body = after.strip_prefix('[').expect("ESC not starting an SGR");
            let end = body.find('m').expect("unterminated SGR");
            assert!(body[..end].chars().all(|c| c.is_ascii_digit() || c == ';'));
            rest = &body[end + 1..];
        }
        out + rest
    }

    fn assert_clean_lines(text: &str, events: usize) {
        assert!(text.ends_with('\n'), "{text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), events, "{text:?}");
        for line in lines {
            assert!(
                !line.chars().any(char::is_control),
                "raw control in {line:?}"
            );
        }
    }

    #[test]
    fn escape_writes_visible_forms() {
        let mut out = String::new();
        write!(Escaping(&mut out), "{HOSTILE}").unwrap();
        assert_eq!(out, "a\\rb\\nc\\x1b[31md\\0e\\x07f\\x7fg\\u{9b}h\\ti");
        let mut out = String::new();
        write!(Escaping(&mut out), "caf\u{e9} \"q\" \\").unwrap();
        assert_eq!(out, "caf\u{e9} \"q\" \\");
    }

    #[test]
    fn text_format_escapes_every_field_message_and_span() {
        let text = capture(Some(false));
        assert_clean_lines(&text, 3);
        let esc = "a\\rb\\nc\\x1b[31md\\0e\\x07f\\x7fg\\u{9b}h\\ti";
        let lines: Vec<&str> = text.lines().collect();
        let first = lines[0];
        assert!(
            first.contains(&format!("call{{call_id={esc} label=\"{esc}\"}}")),
            "{first}"
        );
        assert!(first.contains(&format!(" message {esc} reason={esc} name=\"{esc}\"")));
        assert!(first.contains("dbg=\"a\\rb\\nc\\u{1b}[31md"));
        assert!(lines[1].contains(&format!("error=outer {esc}: inner {esc}")));
        assert!(lines[2].contains("label=\"later\\r\\x1b\""), "{}", lines[2]);
        // An ordinary string keeps its usual form.
        assert!(!first.contains("\\\\"));
    }

    #[test]
    fn text_format_keeps_its_own_colours() {
        let text = capture(Some(true));
        assert!(
            text.contains("\x1b[3mreason\x1b[0m\x1b[2m=\x1b[0m"),
            "{text:?}"
        );
        let plain = strip_sgr(&text);
        assert_clean_lines(&plain, 3);
        assert!(plain.contains("reason=a\\rb\\nc\\x1b[31md"), "{plain}");
    }

    #[test]
    fn json_format_escapes_too() {
        let text = capture(None);
        assert_clean_lines(&text, 3);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v.get("fields").is_some(), "{line}");
        }
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["fields"]["reason"], HOSTILE);
        assert_eq!(first["span"]["call_id"], HOSTILE);
    }
}

//! Typed SDP errors.

use thiserror::Error;

/// Why a text could not be read as SDP.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    /// No `x=value` line at all: the text is not SDP.
    #[error("no SDP lines found")]
    NotSdp,
    /// An `m=` line without media, port and proto, or with a port that is not a number
    /// in 0..=65535 (RFC 4566 section 5.14). Such a stream cannot be answered.
    #[error("malformed media line {line:?}")]
    BadMediaLine {
        /// The value of the offending `m=` line.
        line: String,
    },
}

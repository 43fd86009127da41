//! tapline-body: MIME bodies of SIP messages (RFC 5621, RFC 3261 section 20.11, RFC 2046).
//!
//! Pure functions: split a SIP message body into parts, find the SDP and the
//! recording metadata of a SIPREC request (RFC 7866 section 9), and build
//! multipart bodies for the SRC simulator. Never panics on input bytes.

mod build;
mod classify;
mod error;
mod headers;
mod media_type;
mod multipart;

#[cfg(test)]
mod corpus_tests;

pub use build::{PartSpec, build_multipart};
pub use classify::{RecordingBody, classify};
pub use error::BodyError;
pub use media_type::{Disposition, MediaType};
pub use multipart::{Part, detect_boundary, split};

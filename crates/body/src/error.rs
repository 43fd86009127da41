//! Typed errors of body handling.

use thiserror::Error;

/// What went wrong while reading a message body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BodyError {
    /// A Content-Type value is not `type/subtype[; params]`.
    #[error("malformed media type {value:?}")]
    BadMediaType {
        /// The offending header value.
        value: String,
    },
    /// A Content-Disposition value has no disposition type.
    #[error("malformed content disposition {value:?}")]
    BadDisposition {
        /// The offending header value.
        value: String,
    },
    /// A multipart body has no boundary parameter and none could be detected.
    #[error("multipart body without boundary")]
    MissingBoundary,
    /// The boundary delimiter never appears in the multipart body.
    #[error("boundary {boundary:?} not found in multipart body")]
    BoundaryNotFound {
        /// The boundary that was searched for.
        boundary: String,
    },
    /// Multiparts nested deeper than we are willing to follow (hostile input).
    #[error("multipart nesting deeper than {max}")]
    NestingTooDeep {
        /// The depth limit.
        max: usize,
    },
    /// A non-empty body without a Content-Type (RFC 3261 section 20.15 requires one).
    #[error("non-empty body without Content-Type")]
    MissingContentType,
    /// No part of the body is usable; the server answers 415 (RFC 3261 section 21.4.13).
    #[error("unsupported body content type {content_type:?}")]
    Unsupported {
        /// The first content type that was not understood (empty if a part had none).
        content_type: String,
    },
}

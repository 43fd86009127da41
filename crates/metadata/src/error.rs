//! Errors (the document cannot be used) and warnings (it can, with caveats).

use std::fmt;

/// Why a metadata body was rejected. Each message is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// The body is empty or only whitespace.
    #[error("metadata body is empty")]
    Empty,
    /// The XML parser rejected the text; `reason` carries the position.
    #[error("metadata XML is not well-formed: {reason}")]
    Xml {
        /// Parser message including line:column.
        reason: String,
    },
    /// The document is an SRS snapshot request (RFC 7865 §7), not metadata.
    #[error("document is a snapshot request (<requestsnapshot>), not recording metadata")]
    SnapshotRequest,
    /// Well-formed XML whose root is not `recording` / `recording_metadata`.
    #[error("metadata root element <{root}> is not <recording> or <recording_metadata>")]
    UnknownRoot {
        /// Local name of the root element.
        root: String,
    },
    /// Root element in a namespace that is not a recording namespace.
    #[error("metadata root <{root}> is in unknown namespace {namespace}")]
    UnknownNamespace {
        /// Local name of the root element.
        root: String,
        /// Its namespace URI.
        namespace: String,
    },
    /// Root with text but no child elements: the markup was lost (BroadWorks mangled body).
    #[error(
        "metadata document has no participants/streams: <{root}> holds only text (inner tags lost?)"
    )]
    NoElements {
        /// Local name of the root element.
        root: String,
    },
}

/// Something odd but tolerated; meant for logs and `tapline inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl Warning {
    pub(crate) fn new(msg: impl Into<String>) -> Warning {
        Warning(msg.into())
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

//! tapline-metadata

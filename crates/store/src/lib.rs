//! tapline-store

//! tapline-body

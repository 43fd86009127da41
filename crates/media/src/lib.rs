//! tapline-media

//! tapline-sip

//! tapline-sdp

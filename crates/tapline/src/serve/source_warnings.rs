//! What a recording's warnings say about where its RTP came from (see
//! media_engine/source.rs): one line per stream that dropped datagrams from other sources, and
//! one per stream whose source was latched instead of the offer's address.

use super::media_engine::StreamReport;
use super::session::SessionStream;

/// The warnings for streams `streams` with their final `reports`.
pub(crate) fn source_warnings(streams: &[SessionStream], reports: &[StreamReport]) -> Vec<String> {
    let mut out = Vec::new();
    for (st, r) in streams.iter().zip(reports) {
        let s = &r.source;
        if let Some((offered, latched)) = s.latched_instead {
            out.push(format!(
                "stream {}: nothing came from the offer's address {offered}; recorded the only other source, {latched}",
                st.label
            ));
        }
        if s.foreign > 0 {
            let recorded = s.source.map_or("none".to_owned(), |a| a.to_string());
            let first = s.first_foreign.map_or("-".to_owned(), |a| a.to_string());
            out.push(format!(
                "stream {}: {} RTP datagrams from other sources than the stream's ({recorded}) dropped, the first from {first}",
                st.label, s.foreign
            ));
        }
    }
    out
}

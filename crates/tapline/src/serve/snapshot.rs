//! Asking the SRC for a complete metadata snapshot (RFC 7866 9.2, RFC 7865 7): an UPDATE whose
//! only body is a `requestsnapshot` document with `Content-Disposition: recording-session`.
//! Off by default (`request_snapshots = true` turns it on): many SRCs refuse UPDATE or the
//! metadata type (REQUIREMENTS A-75); a refusal is logged and never ends the recording.

use std::time::Instant;

use time::OffsetDateTime;

use tapline_sip::{ClientTxId, Method, Response};
use tapline_store::EventRow;

use super::core::{Core, new_tag};
use super::responses;

impl Core {
    /// Send a snapshot request on session `num` if the configuration allows automatic ones.
    pub(crate) fn request_snapshot(&mut self, num: u64, reason: &str) {
        if self.config.request_snapshots {
            self.send_snapshot_request(num, reason);
        }
    }

    /// Send a snapshot request on session `num` (once at a time).
    pub(crate) fn send_snapshot_request(&mut self, num: u64, reason: &str) {
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        if s.snapshot_tx.is_some() {
            return;
        }
        let sent_by = s.local.to_string();
        let branch = format!("z9hG4bK{}", new_tag());
        let mut update = s
            .dialog
            .request(Method::Update, s.peer.transport, &sent_by, &branch);
        update
            .headers
            .push("Contact", responses::contact(s.local, s.peer.transport));
        update.headers.push("Require", "siprec");
        update
            .headers
            .push("Content-Type", "application/rs-metadata+xml");
        update
            .headers
            .push("Content-Disposition", "recording-session");
        update.body = tapline_metadata::request_snapshot_xml(Some(reason)).into_bytes();
        let peer = s.dialog.peer();
        let rec = s.recording_id.clone();
        {
            let _e = s.span.enter();
            tracing::info!(%reason, "requesting a metadata snapshot");
        }
        let tx = self.endpoint.send_request(Instant::now(), peer, update);
        if let Some(s) = self.sessions.get_mut(&num) {
            s.snapshot_tx = Some(tx);
            s.client_txs.push(tx);
        }
        self.client_txs.insert(tx, num);
        let reason = reason.to_owned();
        self.store.run(move |c| {
            let e = EventRow {
                at: OffsetDateTime::now_utc(),
                kind: "snapshot_requested".into(),
                label: None,
                participant_id: None,
                details: Some(serde_json::json!({ "reason": reason })),
            };
            let _ = c.add_event(&rec, &e);
        });
    }

    /// A response (or time-out, `None`) to one of our requests.
    pub(crate) fn on_client_response(&mut self, tx: ClientTxId, response: Option<&Response>) {
        if response.is_some_and(|r| r.status < 200) {
            return;
        }
        let Some(num) = self.client_txs.remove(&tx) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        s.client_txs.retain(|t| *t != tx);
        let _e = s.span.enter();
        if s.snapshot_tx == Some(tx) {
            s.snapshot_tx = None;
            match response {
                Some(r) if (200..300).contains(&r.status) => {
                    tracing::info!("the SRC accepted the snapshot request");
                }
                Some(r) => {
                    tracing::warn!(status = r.status, reason = %r.reason, "the SRC refused the snapshot request; keeping the last good metadata")
                }
                None => tracing::warn!(
                    "no answer to the snapshot request; keeping the last good metadata"
                ),
            }
        } else {
            match response {
                Some(r) => tracing::debug!(status = r.status, "response to our in-dialog request"),
                None => tracing::debug!("our in-dialog request timed out"),
            }
        }
    }
}

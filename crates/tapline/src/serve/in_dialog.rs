//! Requests inside an established recording session: BYE ends it; re-INVITE and UPDATE are
//! answered with our current SDP (session refreshes); their metadata is stored.

use tapline_body::classify;
use tapline_sip::{DialogId, Method, Request, ServerTxId};
use time::OffsetDateTime;

use super::core::Core;
use super::responses;
use super::session::Phase;

impl Core {
    pub(crate) fn on_in_dialog(&mut self, tx: ServerTxId, req: Request) {
        let num = DialogId::for_uas_request(&req).and_then(|id| self.by_dialog.get(&id).copied());
        let tag = req.to_tag().unwrap_or_default().to_owned();
        let Some(num) = num else {
            let resp = responses::make(&req, 481, "Call/Transaction Does Not Exist", &tag);
            return self.respond(tx, &req, resp);
        };
        let Some(s) = self.sessions.get_mut(&num) else {
            let resp = responses::make(&req, 481, "Call/Transaction Does Not Exist", &tag);
            return self.respond(tx, &req, resp);
        };
        if let Err(reject) = s.dialog.check_remote_cseq(&req) {
            let resp = responses::make(&req, reject.status, &reject.reason, &tag);
            return self.respond(tx, &req, resp);
        }
        if s.phase == Phase::Ending && req.method != Method::Bye {
            let resp = responses::make(
                &req,
                481,
                "Call/Transaction Does Not Exist (recording ending)",
                &tag,
            );
            return self.respond(tx, &req, resp);
        }
        let span = s.span.clone();
        let _e = span.enter();
        // Keep every metadata document, whatever the method (RFC 7866 9; A-22: never reject a
        // BYE because of its body).
        let body = classify(
            req.header("Content-Type"),
            req.header("Content-Disposition"),
            &req.body,
        )
        .ok();
        if let Some(raw) = body.as_ref().and_then(|b| b.metadata.clone()) {
            let rec = s.recording_id.clone();
            let method = req.method.as_str().to_owned();
            let ct = body.as_ref().and_then(|b| b.metadata_content_type.clone());
            let parse_error = tapline_metadata::parse(&raw).err().map(|e| e.to_string());
            self.store.run(move |c| {
                if let Err(e) = c.add_metadata_document(
                    &rec,
                    OffsetDateTime::now_utc(),
                    &method,
                    ct.as_deref(),
                    &raw,
                    parse_error.as_deref(),
                ) {
                    tracing::error!(error = %e, "catalogue: storing metadata");
                }
            });
        }
        match req.method {
            Method::Bye => {
                let resp = responses::make(&req, 200, "OK", &tag);
                drop(_e);
                self.respond(tx, &req, resp);
                self.finalize(num, "BYE from the SRC", false);
            }
            Method::Invite | Method::Update => {
                let has_sdp = body.as_ref().is_some_and(|b| b.sdp.is_some());
                let mut resp = responses::make(&req, 200, "OK", &tag);
                resp.headers
                    .push("Contact", responses::contact(s.local, s.peer.transport));
                responses::add_capabilities(&mut resp);
                if req.method == Method::Invite || has_sdp {
                    // Mid-call media changes are applied in a later release: the streams keep
                    // their ports, and our answer stays what it was.
                    resp.headers.push("Content-Type", "application/sdp");
                    resp.body = s.answer_sdp.clone();
                    tracing::info!(
                        method = req.method.as_str(),
                        "session refresh answered with the current SDP"
                    );
                }
                drop(_e);
                self.respond(tx, &req, resp);
            }
            Method::Info | Method::Options => {
                let resp = responses::make(&req, 200, "OK", &tag);
                drop(_e);
                self.respond(tx, &req, resp);
            }
            _ => {
                let mut resp = responses::make(&req, 405, "Method Not Allowed", &tag);
                resp.headers.push("Allow", responses::ALLOW);
                drop(_e);
                self.respond(tx, &req, resp);
            }
        }
    }
}

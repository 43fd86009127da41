//! Requests inside an established recording session (RFC 3261 12.2.2): BYE ends it; re-INVITE and
//! UPDATE carry new offers (RFC 3264 8), metadata (RFC 7866 9) and session-timer refreshes
//! (RFC 4028); every metadata document is stored, even a BYE's.

use tapline_body::classify;
use tapline_sdp::SessionDescription;
use tapline_sip::{DialogId, Method, Request, ServerTxId};

use super::core::Core;
use super::responses;
use super::session::Phase;
use super::timers::{TimerAsk, add_timer_headers, timer_ask};

impl Core {
    pub(crate) fn on_in_dialog(&mut self, tx: ServerTxId, req: Request) {
        let num = DialogId::for_uas_request(&req).and_then(|id| self.by_dialog.get(&id).copied());
        let tag = req.to_tag().unwrap_or_default().to_owned();
        let Some(num) = num.filter(|n| self.sessions.contains_key(n)) else {
            let resp = responses::make(&req, 481, "Call/Transaction Does Not Exist", &tag);
            return self.respond(tx, &req, resp);
        };
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
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
        let body = match classify(
            req.header("Content-Type"),
            req.header("Content-Disposition"),
            &req.body,
        ) {
            Ok(b) => Some(b),
            // A BYE is never refused for its body.
            Err(_) if req.method == Method::Bye => None,
            Err(e) => {
                let resp =
                    responses::make(&req, 415, &format!("Unsupported Media Type ({e})"), &tag);
                return self.respond(tx, &req, resp);
            }
        };
        let offer_bytes = body.as_ref().and_then(|b| b.sdp.clone());
        let metadata = body.as_ref().and_then(|b| {
            b.metadata
                .clone()
                .map(|m| (m, b.metadata_content_type.clone()))
        });

        match req.method {
            Method::Bye => {
                if let Some((raw, ct)) = metadata {
                    self.apply_metadata(num, raw, ct, "BYE");
                }
                let resp = responses::make(&req, 200, "OK", &tag);
                self.respond(tx, &req, resp);
                self.finalize(num, "BYE from the SRC", false);
            }
            Method::Invite | Method::Update => {
                self.on_modify(num, tx, &req, &tag, offer_bytes, metadata)
            }
            Method::Info | Method::Options => {
                let resp = responses::make(&req, 200, "OK", &tag);
                self.respond(tx, &req, resp);
            }
            _ => {
                let mut resp = responses::make(&req, 405, "Method Not Allowed", &tag);
                resp.headers.push("Allow", responses::ALLOW);
                self.respond(tx, &req, resp);
            }
        }
    }

    /// re-INVITE or UPDATE.
    fn on_modify(
        &mut self,
        num: u64,
        tx: ServerTxId,
        req: &Request,
        tag: &str,
        offer_bytes: Option<Vec<u8>>,
        metadata: Option<(Vec<u8>, Option<String>)>,
    ) {
        let method = req.method.as_str().to_owned();
        let Some(s) = self.sessions.get_mut(&num) else {
            return;
        };
        // RFC 3311 5.2 / 3261 14.2: an offer while our own offer (the 200 to an offerless
        // INVITE) is unanswered is glare.
        if offer_bytes.is_some() && s.offerless && s.phase == Phase::Answered {
            let mut resp = responses::make(req, 491, "Request Pending", tag);
            resp.headers.push("Retry-After", "1");
            return self.respond(tx, req, resp);
        }
        let timer = timer_ask(req, self.config.min_se_secs);
        if let TimerAsk::TooSmall = timer {
            let mut resp = responses::make(req, 422, "Session Interval Too Small", tag);
            resp.headers
                .push("Min-SE", self.config.min_se_secs.to_string());
            return self.respond(tx, req, resp);
        }
        // Target refresh (RFC 3261 12.2.2): a new Contact is where our BYE goes.
        if req.headers.get("Contact").is_some() {
            s.dialog.refresh_target(req);
        }
        // The offer first: if it is refused, nothing of the request applies (3261 14.2).
        let mut answer: Option<Vec<u8>> = None;
        if let Some(bytes) = offer_bytes {
            let offer = match SessionDescription::parse(&String::from_utf8_lossy(&bytes)) {
                Ok(o) => o,
                Err(e) => {
                    let resp = responses::make(
                        req,
                        488,
                        &format!("Not Acceptable Here: malformed SDP ({e})"),
                        tag,
                    );
                    return self.respond(tx, req, resp);
                }
            };
            match self.apply_reoffer(num, &offer) {
                Ok(a) => answer = Some(a),
                Err(refused) => {
                    let resp = responses::make(req, refused.status, &refused.reason, tag);
                    return self.respond(tx, req, resp);
                }
            }
        } else if req.method == Method::Invite {
            // A re-INVITE without an offer asks for ours (3261 14.2): the current answer.
            answer = self.sessions.get(&num).map(|s| s.answer_sdp.clone());
        }
        if let Some((raw, ct)) = metadata {
            self.apply_metadata(num, raw, ct, &method);
        }
        let Some(s) = self.sessions.get(&num) else {
            return;
        };
        let mut resp = responses::make(req, 200, "OK", tag);
        resp.headers
            .push("Contact", responses::contact(s.local, s.peer.transport));
        responses::add_capabilities(&mut resp);
        let secs = match timer {
            TimerAsk::Expires(secs) => Some(secs),
            _ => None,
        };
        if let Some(secs) = secs {
            add_timer_headers(req, &mut resp, secs);
        }
        if let Some(a) = answer {
            resp.headers.push("Content-Type", "application/sdp");
            resp.body = a;
        }
        self.respond(tx, req, resp);
        match secs {
            Some(secs) => self.arm_timer(num, secs),
            None => {
                // A refresh without Session-Expires turns the timer off (RFC 4028 9).
                if let Some(s) = self.sessions.get_mut(&num) {
                    s.expires = None;
                    s.session_expires_secs = None;
                }
            }
        }
    }
}

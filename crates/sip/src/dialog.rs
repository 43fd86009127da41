//! Dialog state (RFC 3261 section 12).

use crate::message::{Request, Response};
use crate::method::Method;
use crate::name_addr::NameAddr;
use crate::peer::{Peer, Transport};

/// Dialog identifier (RFC 3261 12): Call-ID plus local and remote tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag (empty for an RFC 2543 peer without tags).
    pub remote_tag: String,
}

impl DialogId {
    /// For a request received by the UAS: local = To tag, remote = From tag. `None` when
    /// the request has no To tag (it is not in a dialog) or no Call-ID.
    pub fn for_uas_request(req: &Request) -> Option<DialogId> {
        Some(DialogId {
            call_id: req.call_id()?.to_string(),
            local_tag: req.to_tag()?,
            remote_tag: req.from_tag().unwrap_or_default(),
        })
    }

    /// For a response received by the UAC: local = From tag, remote = To tag.
    pub fn for_uac_response(resp: &Response) -> Option<DialogId> {
        Some(DialogId {
            call_id: resp.call_id()?.to_string(),
            local_tag: resp.from_tag()?,
            remote_tag: resp.to_tag()?,
        })
    }
}

/// Why a dialog could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// A header needed to build the dialog is missing or malformed.
    #[error("missing or malformed {0} header")]
    BadHeader(&'static str),
    /// The UAC side needs our From tag and the remote To tag.
    #[error("missing {0} tag")]
    MissingTag(&'static str),
}

/// An in-dialog request to reject, with the status to answer (RFC 3261 12.2.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {reason}")]
pub struct DialogReject {
    /// Status code to send.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
}

/// One dialog, UAS or UAC side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    local_uri: String,
    remote_uri: String,
    local_seq: u32,
    remote_seq: Option<u32>,
    invite_seq: u32,
    remote_target: String,
    route_set: Vec<String>,
    local_contact: String,
    peer: Peer,
}

fn contact_uri(h: Option<&str>) -> Result<String, DialogError> {
    let first = h
        .map(crate::headers::split_list)
        .and_then(|l| l.first().map(|s| s.to_string()));
    let na = first
        .and_then(|c| NameAddr::parse(&c).ok())
        .ok_or(DialogError::BadHeader("Contact"))?;
    Ok(na.uri)
}

impl Dialog {
    /// UAS side, from the INVITE and the To tag we chose (RFC 3261 12.1.1).
    /// `local_contact` is a full Contact value such as `<sip:srs@192.0.2.1:5060>;+sip.srs`.
    pub fn uas(
        invite: &Request,
        local_tag: &str,
        local_contact: &str,
        peer: Peer,
    ) -> Result<Dialog, DialogError> {
        let call_id = invite.call_id().ok_or(DialogError::BadHeader("Call-ID"))?;
        let from = invite.from().ok_or(DialogError::BadHeader("From"))?;
        let mut to = invite.to().ok_or(DialogError::BadHeader("To"))?;
        let cseq = invite.cseq().ok_or(DialogError::BadHeader("CSeq"))?;
        if to.tag().is_none() {
            to.set_param("tag", Some(local_tag));
        }
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag: to.tag().unwrap_or(local_tag).to_string(),
                remote_tag: from.tag().unwrap_or("").to_string(),
            },
            local_uri: to.to_string(),
            remote_uri: invite.header("From").unwrap_or("").to_string(),
            local_seq: 0,
            remote_seq: Some(cseq.seq),
            invite_seq: 0,
            remote_target: contact_uri(invite.header("Contact"))?,
            route_set: invite
                .headers
                .get_all("Record-Route")
                .into_iter()
                .map(str::to_string)
                .collect(),
            local_contact: local_contact.to_string(),
            peer,
        })
    }

    /// UAC side, from our INVITE and the 2xx (RFC 3261 12.1.2): route set is the
    /// Record-Route of the response in reverse order.
    pub fn uac(invite: &Request, response: &Response, peer: Peer) -> Result<Dialog, DialogError> {
        let call_id = invite.call_id().ok_or(DialogError::BadHeader("Call-ID"))?;
        let local_tag = invite.from_tag().ok_or(DialogError::MissingTag("From"))?;
        let remote_tag = response.to_tag().ok_or(DialogError::MissingTag("To"))?;
        let cseq = invite.cseq().ok_or(DialogError::BadHeader("CSeq"))?;
        let mut route_set: Vec<String> = response
            .headers
            .get_all("Record-Route")
            .into_iter()
            .map(str::to_string)
            .collect();
        route_set.reverse();
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag,
                remote_tag,
            },
            local_uri: invite.header("From").unwrap_or("").to_string(),
            remote_uri: response.header("To").unwrap_or("").to_string(),
            local_seq: cseq.seq,
            remote_seq: None,
            invite_seq: cseq.seq,
            remote_target: contact_uri(response.header("Contact"))?,
            route_set,
            local_contact: invite.header("Contact").unwrap_or("").to_string(),
            peer,
        })
    }

    /// The dialog id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Where in-dialog requests are sent.
    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Current remote target URI.
    pub fn remote_target(&self) -> &str {
        &self.remote_target
    }

    /// Route set in the order used for requests.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// Last remote CSeq seen, if any.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// Target refresh (re-INVITE, UPDATE; RFC 3261 12.2.2): take the new Contact if any.
    pub fn refresh_target(&mut self, req: &Request) {
        if let Ok(uri) = contact_uri(req.header("Contact")) {
            self.remote_target = uri;
        }
    }

    /// RFC 3261 12.2.2: a CSeq not above the last remote one is rejected with 500 (ACK and
    /// CANCEL reuse the INVITE's number and are exempt). Updates the remote CSeq.
    pub fn check_remote_cseq(&mut self, req: &Request) -> Result<(), DialogReject> {
        if matches!(req.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        let Some(cseq) = req.cseq() else {
            return Err(DialogReject {
                status: 400,
                reason: "Missing or Bad CSeq".into(),
            });
        };
        if self.remote_seq.is_some_and(|r| cseq.seq <= r) {
            return Err(DialogReject {
                status: 500,
                reason: "CSeq Out of Order".into(),
            });
        }
        self.remote_seq = Some(cseq.seq);
        Ok(())
    }

    /// Build an in-dialog request (RFC 3261 12.2.1.1): route set and remote target (loose or
    /// strict routing), From/To with tags, Call-ID, next local CSeq (ACK reuses the last
    /// INVITE's), Max-Forwards 70, a top Via from `via_sent_by` and `branch`, and our Contact
    /// on target-refresh and subscription methods.
    pub fn request(
        &mut self,
        method: Method,
        via_transport: Transport,
        via_sent_by: &str,
        branch: &str,
    ) -> Request {
        let seq = if method == Method::Ack {
            self.invite_seq
        } else {
            self.local_seq = self.local_seq.wrapping_add(1);
            if method == Method::Invite {
                self.invite_seq = self.local_seq;
            }
            self.local_seq
        };
        let first_loose = self
            .route_set
            .first()
            .and_then(|r| NameAddr::parse(r).ok())
            .map(|r| (r.uri_param("lr").is_some(), r.uri));
        let (uri, routes) = match first_loose {
            None if self.route_set.is_empty() => (self.remote_target.clone(), Vec::new()),
            Some((false, first)) => {
                // Strict routing (12.2.1.1): first route in the Request-URI, target last.
                let mut routes: Vec<String> = self.route_set.iter().skip(1).cloned().collect();
                routes.push(format!("<{}>", self.remote_target));
                (first, routes)
            }
            _ => (self.remote_target.clone(), self.route_set.clone()),
        };
        let mut req = Request::new(method.clone(), uri);
        let h = &mut req.headers;
        h.push(
            "Via",
            format!(
                "SIP/2.0/{} {via_sent_by};branch={branch}",
                via_transport.as_str()
            ),
        );
        for r in routes {
            h.push("Route", r);
        }
        h.push("Max-Forwards", "70");
        h.push("From", self.local_uri.clone());
        h.push("To", self.remote_uri.clone());
        h.push("Call-ID", self.id.call_id.clone());
        h.push("CSeq", format!("{seq} {method}"));
        let refresh = matches!(
            method,
            Method::Invite | Method::Update | Method::Refer | Method::Subscribe | Method::Notify
        );
        if refresh && !self.local_contact.is_empty() {
            h.push("Contact", self.local_contact.clone());
        }
        req
    }
}

#[cfg(test)]
#[path = "dialog_tests.rs"]
mod tests;

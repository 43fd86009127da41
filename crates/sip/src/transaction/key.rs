//! Transaction and 2xx-ACK matching keys (RFC 3261 17.1.3, 17.2.3, 13.3.1.4).

use crate::message::{Request, Response};
use crate::method::Method;

/// Server transaction key (RFC 3261 17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ServerKey {
    /// Branch with magic cookie: branch + sent-by + method (ACK counted as INVITE).
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: String,
    },
    /// RFC 2543 peers (no magic cookie): Request-URI, From tag, Call-ID, CSeq number, top
    /// Via and method. The To tag is left out: it is empty in the INVITE and ours in the
    /// ACK for a non-2xx, so leaving it out matches that ACK to its INVITE.
    Rfc2543 {
        uri: String,
        from_tag: String,
        call_id: String,
        cseq: u32,
        via: String,
        method: String,
    },
}

fn tx_method(m: &Method) -> String {
    match m {
        Method::Ack => Method::Invite.as_str().to_string(),
        other => other.as_str().to_string(),
    }
}

impl ServerKey {
    /// Key of `req`; `as_method` overrides the method (CANCEL looks up its INVITE).
    pub(crate) fn of(req: &Request, as_method: Option<&Method>) -> Option<ServerKey> {
        let via = req.top_via()?;
        let method = tx_method(as_method.unwrap_or(&req.method));
        if via.has_magic_cookie() {
            return Some(ServerKey::Rfc3261 {
                branch: via.branch()?.to_string(),
                sent_by: via.sent_by().to_ascii_lowercase(),
                method,
            });
        }
        Some(ServerKey::Rfc2543 {
            uri: req.uri.clone(),
            from_tag: req.from_tag().unwrap_or_default(),
            call_id: req.call_id()?.to_string(),
            cseq: req.cseq()?.seq,
            via: via.to_string().to_ascii_lowercase(),
            method,
        })
    }
}

/// Client transaction key (RFC 3261 17.1.3): top Via branch + CSeq method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey {
    pub(crate) branch: String,
    pub(crate) method: String,
}

impl ClientKey {
    pub(crate) fn of_request(req: &Request) -> Option<ClientKey> {
        Some(ClientKey {
            branch: req.top_via()?.branch()?.to_string(),
            method: req.method.as_str().to_string(),
        })
    }

    pub(crate) fn of_response(resp: &Response) -> Option<ClientKey> {
        Some(ClientKey {
            branch: resp.top_via()?.branch()?.to_string(),
            method: resp.cseq()?.method.as_str().to_string(),
        })
    }
}

/// Dialog-level key matching an ACK to the 2xx it acknowledges (RFC 3261 13.3.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AckKey {
    pub(crate) call_id: String,
    pub(crate) cseq: u32,
    pub(crate) from_tag: String,
    pub(crate) to_tag: String,
}

impl AckKey {
    pub(crate) fn of_ack(ack: &Request) -> Option<AckKey> {
        Some(AckKey {
            call_id: ack.call_id()?.to_string(),
            cseq: ack.cseq()?.seq,
            from_tag: ack.from_tag().unwrap_or_default(),
            to_tag: ack.to_tag()?,
        })
    }

    pub(crate) fn of_2xx(resp: &Response) -> Option<AckKey> {
        Some(AckKey {
            call_id: resp.call_id()?.to_string(),
            cseq: resp.cseq()?.seq,
            from_tag: resp.from_tag().unwrap_or_default(),
            to_tag: resp.to_tag()?,
        })
    }
}

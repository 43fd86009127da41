//! Participants of plain recording INVITEs, which carry no RFC 7865 metadata (REQUIREMENTS A-03,
//! Cisco network-based recording names them in `X-Cisco-Recording-Participant` headers
//! (with the m-line index they send on), CUCM built-in-bridge recording in the `x-nearendaddr` /
//! `x-farendaddr` parameters of From. Roles follow the order the SRC lists them in, and the
//! catalogue says so (`role_source`).

use tapline_sip::Request;
use tapline_store::ParticipantRow;

/// Participants found in the headers; `labels[i]` is the label of m-line `i`.
pub(crate) fn from_headers(req: &Request, labels: &[Option<String>]) -> Vec<ParticipantRow> {
    let mut out = Vec::new();
    for (n, value) in req
        .headers
        .get_all("X-Cisco-Recording-Participant")
        .into_iter()
        .enumerate()
    {
        let mut parts = value.split(';');
        let aor = parts
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches(['<', '>'])
            .to_owned();
        if aor.is_empty() {
            continue;
        }
        let index = parts
            .filter_map(|p| p.trim().strip_prefix("media-index="))
            .find_map(|v| v.trim_matches('"').parse::<usize>().ok());
        let sends = index
            .and_then(|i| labels.get(i).cloned().flatten())
            .into_iter()
            .collect();
        out.push(row(n, aor, sends, "header:X-Cisco-Recording-Participant"));
    }
    if out.is_empty() {
        if let Some(from) = req.headers.get("From") {
            let param = |name: &str| {
                from.split(';')
                    .filter_map(|p| p.trim().split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().trim_matches('"').to_owned())
            };
            for (n, name) in ["x-nearendaddr", "x-farendaddr"].iter().enumerate() {
                if let Some(addr) = param(name).filter(|a| !a.is_empty()) {
                    out.push(row(
                        n,
                        addr,
                        Vec::new(),
                        "header:From x-nearendaddr/x-farendaddr",
                    ));
                }
            }
        }
    }
    out
}

fn row(n: usize, aor: String, sends: Vec<String>, source: &str) -> ParticipantRow {
    ParticipantRow {
        participant_id: format!("header-{n}"),
        aor: Some(aor),
        name: None,
        role: match n {
            0 => Some("caller".to_owned()),
            1 => Some("callee".to_owned()),
            _ => None,
        },
        role_source: Some(format!("{source} (listed order)")),
        sends,
        receives: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapline_sip::{Method, Request};

    #[test]
    fn cisco_nbr_headers_name_participants_and_their_lines() {
        let mut req = Request::new(Method::Invite, "sip:8000@192.0.2.1");
        req.headers.push(
            "X-Cisco-Recording-Participant",
            "sip:2164485925@ccf.org;media-index=\"0\"",
        );
        req.headers.push(
            "X-Cisco-Recording-Participant",
            "sip:20053@10.144.106.41;media-index=\"1\"",
        );
        let p = from_headers(&req, &[Some("m0".into())]);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].aor.as_deref(), Some("sip:2164485925@ccf.org"));
        assert_eq!(p[0].sends, vec!["m0".to_owned()]);
        assert_eq!(p[0].role.as_deref(), Some("caller"));
        assert!(p[1].sends.is_empty());
        assert_eq!(p[1].role.as_deref(), Some("callee"));
    }

    #[test]
    fn cucm_bib_from_parameters() {
        let mut req = Request::new(Method::Invite, "sip:rec@192.0.2.1");
        req.headers.push(
            "From",
            "<sip:1001@cucm.example>;tag=1;x-nearend;x-refci=12;x-nearendaddr=1001;x-farendrefci=13;x-farendaddr=1002",
        );
        let p = from_headers(&req, &[]);
        assert_eq!(
            p.iter().map(|r| r.aor.clone().unwrap()).collect::<Vec<_>>(),
            vec!["1001", "1002"]
        );
    }

    #[test]
    fn nothing_when_no_hints() {
        let mut req = Request::new(Method::Invite, "sip:rec@192.0.2.1");
        req.headers.push("From", "<sip:src@192.0.2.9>;tag=1");
        assert!(from_headers(&req, &[]).is_empty());
    }
}

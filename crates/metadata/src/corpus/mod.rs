//! One test per metadata document of the shared corpus (RFC examples and vendor
//! captures): participants, AORs, names, the labels they send, datamode.

mod flows;
mod flows_mixing;
mod rfc;
mod vendor;
mod vendor_fields;

use crate::{DataMode, Parsed, Resolution, Role, parse, resolve, to_xml};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/siprec/corpus/"
);

/// Reads a corpus file; a missing file fails the test loudly.
pub(super) fn read(rel: &str) -> String {
    let path = format!("{CORPUS}{rel}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("corpus file {path} unreadable: {e}"))
}

/// Cuts the metadata document out of a SIP message / multipart body: from `<?xml`
/// (or the root start tag) to the end of the root's closing tag.
pub(super) fn extract(text: &str) -> &str {
    let root_start = |from: usize| {
        text.get(from..)?
            .match_indices('<')
            .map(|(i, _)| i + from)
            .find(|&i| {
                let rest = text.get(i + 1..).unwrap_or_default();
                let qname: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || "_:-.".contains(*c))
                    .collect();
                qname
                    .rsplit(':')
                    .next()
                    .is_some_and(|l| l.starts_with("recording") || l == "requestsnapshot")
            })
    };
    let decl = text.find("<?xml");
    let root = root_start(decl.unwrap_or(0)).expect("no metadata root in file");
    let rest = text.get(root + 1..).unwrap_or_default();
    let qname: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || "_:-.".contains(*c))
        .collect();
    let close = format!("</{qname}");
    let end_tag = text.rfind(&close).expect("no closing root tag");
    let end = end_tag
        + text
            .get(end_tag..)
            .and_then(|t| t.find('>'))
            .expect("unterminated closing tag")
        + 1;
    text.get(decl.unwrap_or(root)..end).expect("bad slice")
}

pub(super) fn load(rel: &str) -> (Parsed, Resolution) {
    let text = read(rel);
    let parsed = parse(extract(&text).as_bytes()).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let res = resolve(&parsed.metadata);
    (parsed, res)
}

/// Expected participant: (aor, name, labels sent).
pub(super) type Exp<'a> = (Option<&'a str>, Option<&'a str>, &'a [&'a str]);

pub(super) fn check(rel: &str, mode: DataMode, want: &[Exp<'_>]) -> (Parsed, Resolution) {
    let (p, r) = load(rel);
    assert_eq!(p.metadata.datamode, mode, "{rel}: datamode");
    let got: Vec<(Option<&str>, Option<&str>, Vec<&str>)> = r
        .participants
        .iter()
        .map(|x| {
            (
                x.aor.as_deref(),
                x.name.as_deref(),
                x.sends.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let want: Vec<(Option<&str>, Option<&str>, Vec<&str>)> =
        want.iter().map(|(a, n, s)| (*a, *n, s.to_vec())).collect();
    assert_eq!(got, want, "{rel}: participants");
    // Every corpus document survives a to_xml -> parse round trip with the same routing.
    crate::write::assert_schema_order(&to_xml(&p.metadata));
    let again = resolve(
        &parse(to_xml(&p.metadata).as_bytes())
            .expect("to_xml output parses")
            .metadata,
    );
    let strip = |r: &Resolution| {
        r.participants
            .iter()
            .map(|x| (x.aor.clone(), x.sends.clone(), x.receives.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&again), strip(&r), "{rel}: round trip");
    (p, r)
}

pub(super) fn roles(r: &Resolution) -> Vec<(Option<Role>, Option<&str>)> {
    r.participants
        .iter()
        .map(|p| (p.role, p.role_source.as_deref()))
        .collect()
}

pub(super) const C: DataMode = DataMode::Complete;
pub(super) const P: DataMode = DataMode::Partial;

/// Hostile input: every prefix of every corpus document, and byte flips, never panic.
#[test]
fn truncated_and_corrupted_documents_never_panic() {
    let files = [
        "rfc/rfc7865-8.1-complete.xml",
        "vendor/vendor-oracle-acme-multipart-body.txt",
        "vendor/vendor-ribbon-sonus-multipart-body.txt",
        "vendor/vendor-broadworks-invite.sipp.txt",
        "vendor/vendor-netsapiens-xfer-1-initial.xml",
    ];
    let mut parsed = 0;
    for f in files {
        let text = read(f);
        let doc = extract(&text).as_bytes();
        for cut in 0..doc.len() {
            let mut v = doc.get(..cut).unwrap_or_default().to_vec();
            if let Ok(p) = parse(&v) {
                parsed += 1;
                let _ = resolve(&p.metadata);
                let _ = to_xml(&p.metadata);
            }
            v.extend_from_slice(doc.get(cut..).unwrap_or_default());
            if let Some(b) = v.get_mut(cut) {
                *b ^= 0x5a;
            }
            if let Ok(p) = parse(&v) {
                let _ = resolve(&p.metadata);
            }
        }
    }
    // A document cut before the end of its root is never accepted.
    assert_eq!(parsed, 0);
}

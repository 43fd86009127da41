//! Small helpers over roxmltree nodes: lenient name matching, text, raw extensions.

use roxmltree::Node;

use crate::model::Extension;

/// Namespace URIs that mean "recording metadata" (REQUIREMENTS E-01, E-02).
pub(crate) const NS_RFC: &str = "urn:ietf:params:xml:ns:recording:1";
pub(crate) const NS_NO_VERSION: &str = "urn:ietf:params:xml:ns:recording";
pub(crate) const NS_DRAFT: &str = "urn:ietf:params:xml:ns:siprec";

/// Extension flattening limits, so hostile input cannot make `fields` explode.
const MAX_FIELD_DEPTH: usize = 16;
const MAX_FIELDS: usize = 256;

/// True for no namespace or one of the recording namespaces (URNs compare
/// case-insensitively in their `urn:ietf` part; we simply ignore case).
pub(crate) fn is_recording_ns(ns: Option<&str>) -> bool {
    match ns {
        None => true,
        Some(u) => [NS_RFC, NS_NO_VERSION, NS_DRAFT]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(u.trim())),
    }
}

/// Element or attribute name folded for lenient matching: ASCII lower case,
/// `-` and `_` dropped (`dataMode`/`datamode`, `stream_id`/`streamid`, `end-time`).
pub(crate) fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Folded local name of an element.
pub(crate) fn key(node: Node<'_, '_>) -> String {
    fold(node.tag_name().name())
}

/// Child elements of `node`.
pub(crate) fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(Node::is_element)
}

/// First un-namespaced attribute whose folded name is one of `names` (in priority order), trimmed.
pub(crate) fn attr(node: Node<'_, '_>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|want| {
        node.attributes()
            .find(|a| a.namespace().is_none() && fold(a.name()) == *want)
            .map(|a| a.value().trim().to_string())
    })
}

/// Concatenated direct text children (comments and child elements skipped).
pub(crate) fn text(node: Node<'_, '_>) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// Direct text, trimmed.
pub(crate) fn trimmed(node: Node<'_, '_>) -> String {
    text(node).trim().to_string()
}

/// Text with every whitespace character removed (ids folded over lines, AORs with spaces).
pub(crate) fn squeezed(node: Node<'_, '_>) -> String {
    text(node).chars().filter(|c| !c.is_whitespace()).collect()
}

/// True when `node` has non-whitespace character data directly inside it.
pub(crate) fn has_loose_text(node: Node<'_, '_>) -> bool {
    node.children()
        .filter(Node::is_text)
        .any(|n| n.text().is_some_and(|t| !t.trim().is_empty()))
}

/// Keeps an element as raw text plus flattened fields (REQUIREMENTS E-06).
pub(crate) fn extension(node: Node<'_, '_>, input: &str) -> Extension {
    let raw = input.get(node.range()).unwrap_or_default().to_string();
    let mut fields = Vec::new();
    push_attrs(node, "", &mut fields);
    flatten(node, "", 0, &mut fields);
    Extension {
        namespace: node.tag_name().namespace().map(str::to_string),
        name: node.tag_name().name().to_string(),
        raw,
        fields,
    }
}

fn push_attrs(node: Node<'_, '_>, path: &str, out: &mut Vec<(String, String)>) {
    for a in node.attributes() {
        if out.len() >= MAX_FIELDS {
            return;
        }
        let k = if path.is_empty() {
            format!("@{}", a.name())
        } else {
            format!("{path}/@{}", a.name())
        };
        out.push((k, a.value().trim().to_string()));
    }
}

fn flatten(node: Node<'_, '_>, path: &str, depth: usize, out: &mut Vec<(String, String)>) {
    if depth >= MAX_FIELD_DEPTH {
        return;
    }
    for child in elements(node) {
        if out.len() >= MAX_FIELDS {
            return;
        }
        let name = child.tag_name().name();
        let p = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}/{name}")
        };
        push_attrs(child, &p, out);
        if elements(child).next().is_none() {
            let t = trimmed(child);
            if !t.is_empty() {
                out.push((p, t));
            }
        } else {
            flatten(child, &p, depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_matches_vendor_spellings() {
        assert_eq!(fold("dataMode"), fold("datamode"));
        assert_eq!(fold("stream_id"), "streamid");
        assert_eq!(fold("end-time"), "endtime");
    }

    #[test]
    fn namespaces() {
        assert!(is_recording_ns(None));
        assert!(is_recording_ns(Some("urn:ietf:params:xml:ns:recording")));
        assert!(is_recording_ns(Some("URN:IETF:params:xml:ns:recording:1")));
        assert!(!is_recording_ns(Some("urn:ietf:params:xml:ns:callData")));
    }

    #[test]
    fn extension_fields_and_raw() {
        let x = "<r><e xmlns='u' a='1'><x><y>v</y><z k=' w '/></x><t> text </t></e></r>";
        let d = roxmltree::Document::parse(x).unwrap();
        let e = d.root_element().first_element_child().unwrap();
        let ext = extension(e, x);
        assert_eq!(
            ext.raw,
            "<e xmlns='u' a='1'><x><y>v</y><z k=' w '/></x><t> text </t></e>"
        );
        assert_eq!(ext.namespace.as_deref(), Some("u"));
        let f: Vec<(&str, &str)> = ext
            .fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            f,
            vec![("@a", "1"), ("x/y", "v"), ("x/z/@k", "w"), ("t", "text")]
        );
        assert_eq!(ext.values_ending_with("y").collect::<Vec<_>>(), vec!["v"]);
        assert_eq!(ext.values_ending_with("X/Y").collect::<Vec<_>>(), vec!["v"]);
        assert!(ext.values_ending_with("zy").next().is_none());
    }
}

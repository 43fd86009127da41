//! Ordered header list with case-insensitive lookup and compact-form expansion
//! (RFC 3261 sections 7.3.1 and 7.3.3).

/// Expand a compact header name (RFC 3261 7.3.3 and later registrations) to its full name.
/// Names that are not compact forms are returned unchanged.
pub fn expand_compact(name: &str) -> &str {
    if name.len() != 1 {
        return name;
    }
    match name.to_ascii_lowercase().as_str() {
        "i" => "Call-ID",
        "m" => "Contact",
        "f" => "From",
        "t" => "To",
        "v" => "Via",
        "l" => "Content-Length",
        "c" => "Content-Type",
        "k" => "Supported",
        "s" => "Subject",
        "e" => "Content-Encoding",
        "o" => "Event",
        "u" => "Allow-Events",
        "r" => "Refer-To",
        "x" => "Session-Expires",
        "a" => "Accept-Contact",
        "j" => "Reject-Contact",
        "d" => "Request-Disposition",
        "b" => "Referred-By",
        _ => name,
    }
}

/// Headers whose comma-separated values may be split into elements (RFC 3261 7.3.1).
/// Only these are split by [`Headers::get_all`]: others (e.g. Date, WWW-Authenticate) may
/// legitimately contain commas.
fn is_list_header(name: &str) -> bool {
    ["Via", "Route", "Record-Route", "Contact"]
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// Split a header value on commas that are outside quoted strings and `<...>`.
pub fn split_list(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut angle = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '<' => angle = true,
            '>' => angle = false,
            ',' if !angle => {
                out.push(value.get(start..i).unwrap_or("").trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value.get(start..).unwrap_or("").trim());
    out
}

/// Ordered list of `(name, value)` pairs. Names are stored with compact forms expanded;
/// lookups are case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    /// An empty header list.
    pub fn new() -> Self {
        Self::default()
    }

    fn matches(entry: &str, name: &str) -> bool {
        entry.eq_ignore_ascii_case(expand_compact(name))
    }

    /// First value of header `name` (whole line value, not split on commas).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| Self::matches(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of `name` in order. For Via, Route, Record-Route and Contact, comma-separated
    /// values are split into their elements (commas in quotes or `<>` are kept).
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let split = is_list_header(expand_compact(name));
        let mut out = Vec::new();
        for (n, v) in &self.entries {
            if Self::matches(n, name) {
                if split {
                    out.extend(split_list(v).into_iter().filter(|s| !s.is_empty()));
                } else {
                    out.push(v.as_str());
                }
            }
        }
        out
    }

    /// Number of header lines named `name`.
    pub fn count(&self, name: &str) -> usize {
        self.entries
            .iter()
            .filter(|(n, _)| Self::matches(n, name))
            .count()
    }

    /// Append a header line (compact names are expanded).
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.entries
            .push((expand_compact(name).to_string(), value.into()));
    }

    /// Insert a header line before all others (used for Via, RFC 3261 8.1.1.7).
    pub fn push_front(&mut self, name: &str, value: impl Into<String>) {
        self.entries
            .insert(0, (expand_compact(name).to_string(), value.into()));
    }

    /// Replace all lines named `name` by one line, keeping the position of the first.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .entries
            .iter()
            .position(|(n, _)| Self::matches(n, name))
        {
            Some(pos) => {
                if let Some(e) = self.entries.get_mut(pos) {
                    e.1 = value;
                }
                let mut i = 0;
                self.entries.retain(|(n, _)| {
                    let keep = i <= pos || !Self::matches(n, name);
                    i += 1;
                    keep
                });
            }
            None => self.push(name, value),
        }
    }

    /// Remove all lines named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(n, _)| !Self::matches(n, name));
        before - self.entries.len()
    }

    /// Replace the first element of list header `name` (e.g. the top Via), keeping the
    /// other elements of that line. Returns false when the header is absent.
    pub fn replace_first_element(&mut self, name: &str, element: &str) -> bool {
        let Some(entry) = self
            .entries
            .iter_mut()
            .find(|(n, _)| Self::matches(n, name))
        else {
            return false;
        };
        let parts = split_list(&entry.1);
        let rest: Vec<&str> = parts.into_iter().skip(1).collect();
        let mut value = element.to_string();
        for r in rest {
            value.push_str(", ");
            value.push_str(r);
        }
        entry.1 = value;
        true
    }

    /// Iterate over `(name, value)` in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compact_form_expands() {
        let pairs = [
            ("i", "Call-ID"),
            ("m", "Contact"),
            ("f", "From"),
            ("t", "To"),
            ("v", "Via"),
            ("l", "Content-Length"),
            ("c", "Content-Type"),
            ("k", "Supported"),
            ("s", "Subject"),
            ("e", "Content-Encoding"),
            ("o", "Event"),
            ("u", "Allow-Events"),
            ("r", "Refer-To"),
            ("x", "Session-Expires"),
            ("a", "Accept-Contact"),
            ("j", "Reject-Contact"),
            ("d", "Request-Disposition"),
            ("b", "Referred-By"),
        ];
        for (c, full) in pairs {
            assert_eq!(expand_compact(c), full);
            assert_eq!(expand_compact(&c.to_uppercase()), full);
        }
        assert_eq!(expand_compact("q"), "q");
        assert_eq!(expand_compact("Via"), "Via");
    }

    #[test]
    fn lookup_is_case_insensitive_and_compact_aware() {
        let mut h = Headers::new();
        h.push("i", "abc");
        h.push("X-Foo", "1");
        assert_eq!(h.get("call-id"), Some("abc"));
        assert_eq!(h.get("I"), Some("abc"));
        assert_eq!(h.get("x-foo"), Some("1"));
        assert_eq!(h.iter().next(), Some(("Call-ID", "abc")));
    }

    #[test]
    fn get_all_splits_only_list_headers_and_respects_quotes() {
        let mut h = Headers::new();
        h.push("Contact", "\"Doe, John\" <sip:a@b>;q=1, <sip:c@d;x=a,b>");
        h.push("Via", "SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2");
        h.push("Via", "SIP/2.0/TCP c");
        h.push("Date", "Sat, 13 Nov 2010 23:29:00 GMT");
        assert_eq!(
            h.get_all("contact"),
            vec!["\"Doe, John\" <sip:a@b>;q=1", "<sip:c@d;x=a,b>"]
        );
        assert_eq!(h.get_all("v").len(), 3);
        assert_eq!(h.get_all("Date"), vec!["Sat, 13 Nov 2010 23:29:00 GMT"]);
    }

    #[test]
    fn set_remove_and_replace_first_element() {
        let mut h = Headers::new();
        h.push("X-A", "1");
        h.push("X-B", "2");
        h.push("x-a", "3");
        h.set("X-A", "9");
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            vec![("X-A", "9"), ("X-B", "2")]
        );
        assert_eq!(h.remove("x-b"), 1);
        assert_eq!(h.len(), 1);
        h.push("Via", "x, y");
        assert!(h.replace_first_element("Via", "z"));
        assert_eq!(h.get("Via"), Some("z, y"));
        assert!(!h.replace_first_element("Route", "z"));
    }
}

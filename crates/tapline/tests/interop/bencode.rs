//! A tiny bencode encoder/decoder for rtpengine's ng control protocol (rtpengine
//! docs/ng_control_protocol.md: each UDP datagram is `COOKIE SPACE BENCODED-DICT`).

use std::collections::BTreeMap;

/// One bencoded value. Dictionaries keep their keys sorted (canonical bencode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bencode {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Bencode>),
    Dict(BTreeMap<Vec<u8>, Bencode>),
}

/// What was wrong with bencoded input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BencodeError {
    #[error("input ends inside a value at byte {0}")]
    Truncated(usize),
    #[error("unexpected byte {byte:#04x} at {at}")]
    Unexpected { byte: u8, at: usize },
    #[error("bad integer at byte {0}")]
    BadInt(usize),
    #[error("dictionary key at byte {0} is not a string")]
    KeyNotString(usize),
    #[error("{0} bytes left over after the value")]
    Trailing(usize),
}

impl Bencode {
    /// A byte string from text.
    pub fn str(s: &str) -> Bencode {
        Bencode::Bytes(s.as_bytes().to_vec())
    }

    /// A list of strings.
    pub fn strs(items: &[&str]) -> Bencode {
        Bencode::List(items.iter().map(|s| Bencode::str(s)).collect())
    }

    /// A dictionary from (key, value) pairs.
    pub fn dict(pairs: Vec<(&str, Bencode)>) -> Bencode {
        Bencode::Dict(
            pairs
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v))
                .collect(),
        )
    }

    /// The value under `key` of a dictionary.
    pub fn get(&self, key: &str) -> Option<&Bencode> {
        match self {
            Bencode::Dict(d) => d.get(key.as_bytes()),
            _ => None,
        }
    }

    /// A byte string as UTF-8 text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Bencode::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Bencode]> {
        match self {
            Bencode::List(l) => Some(l),
            _ => None,
        }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Bencode::Int(i) => out.extend_from_slice(format!("i{i}e").as_bytes()),
            Bencode::Bytes(b) => {
                out.extend_from_slice(format!("{}:", b.len()).as_bytes());
                out.extend_from_slice(b);
            }
            Bencode::List(l) => {
                out.push(b'l');
                l.iter().for_each(|v| v.encode_into(out));
                out.push(b'e');
            }
            Bencode::Dict(d) => {
                out.push(b'd');
                for (k, v) in d {
                    Bencode::Bytes(k.clone()).encode_into(out);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }

    /// Decode exactly one value spanning all of `input`.
    pub fn decode(input: &[u8]) -> Result<Bencode, BencodeError> {
        let (v, end) = parse(input, 0, 0)?;
        match input.len().checked_sub(end) {
            Some(0) => Ok(v),
            Some(n) => Err(BencodeError::Trailing(n)),
            None => Err(BencodeError::Truncated(end)),
        }
    }
}

/// Nesting limit: hostile input must not overflow the stack.
const MAX_DEPTH: usize = 64;

fn byte_at(input: &[u8], at: usize) -> Result<u8, BencodeError> {
    input.get(at).copied().ok_or(BencodeError::Truncated(at))
}

/// Digits (with an optional leading '-') from `at` up to `stop`; returns (value, index of stop).
fn number(input: &[u8], at: usize, stop: u8) -> Result<(i64, usize), BencodeError> {
    let len = input
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == stop))
        .ok_or(BencodeError::Truncated(at))?;
    let end = at + len;
    let text = std::str::from_utf8(&input[at..end]).map_err(|_| BencodeError::BadInt(at))?;
    let v = text.parse::<i64>().map_err(|_| BencodeError::BadInt(at))?;
    Ok((v, end))
}

fn parse(input: &[u8], at: usize, depth: usize) -> Result<(Bencode, usize), BencodeError> {
    if depth > MAX_DEPTH {
        return Err(BencodeError::Unexpected {
            byte: byte_at(input, at)?,
            at,
        });
    }
    match byte_at(input, at)? {
        b'i' => {
            let (v, end) = number(input, at + 1, b'e')?;
            Ok((Bencode::Int(v), end + 1))
        }
        b'l' => {
            let mut items = Vec::new();
            let mut pos = at + 1;
            while byte_at(input, pos)? != b'e' {
                let (v, next) = parse(input, pos, depth + 1)?;
                items.push(v);
                pos = next;
            }
            Ok((Bencode::List(items), pos + 1))
        }
        b'd' => {
            let mut map = BTreeMap::new();
            let mut pos = at + 1;
            while byte_at(input, pos)? != b'e' {
                let (key, after_key) = parse(input, pos, depth + 1)?;
                let Bencode::Bytes(key) = key else {
                    return Err(BencodeError::KeyNotString(pos));
                };
                let (v, next) = parse(input, after_key, depth + 1)?;
                map.insert(key, v);
                pos = next;
            }
            Ok((Bencode::Dict(map), pos + 1))
        }
        b'0'..=b'9' => {
            let (len, colon) = number(input, at, b':')?;
            let len = usize::try_from(len).map_err(|_| BencodeError::BadInt(at))?;
            let start = colon + 1;
            let end = start.checked_add(len).ok_or(BencodeError::BadInt(at))?;
            let bytes = input
                .get(start..end)
                .ok_or(BencodeError::Truncated(start))?;
            Ok((Bencode::Bytes(bytes.to_vec()), end))
        }
        byte => Err(BencodeError::Unexpected { byte, at }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_round_trip_matches_the_documented_bytes() {
        let ping = Bencode::dict(vec![("command", Bencode::str("ping"))]);
        assert_eq!(ping.encode(), b"d7:command4:pinge");
        let pong = Bencode::decode(b"d6:result4:ponge").unwrap();
        assert_eq!(pong.get("result").and_then(Bencode::as_str), Some("pong"));
    }

    #[test]
    fn nested_values_round_trip_with_sorted_keys() {
        let v = Bencode::dict(vec![
            ("z", Bencode::Int(-42)),
            ("a", Bencode::strs(&["all", "SIPREC"])),
            (
                "m",
                Bencode::dict(vec![("k", Bencode::Bytes(vec![0, 255]))]),
            ),
        ]);
        let bytes = v.encode();
        assert_eq!(
            bytes,
            b"d1:al3:all6:SIPRECe1:md1:k2:\x00\xffe1:zi-42ee".to_vec()
        );
        assert_eq!(Bencode::decode(&bytes).unwrap(), v);
    }

    #[test]
    fn broken_input_is_an_error_not_a_panic() {
        assert_eq!(Bencode::decode(b"d3:ab"), Err(BencodeError::Truncated(3)));
        assert_eq!(Bencode::decode(b"i12"), Err(BencodeError::Truncated(1)));
        assert_eq!(Bencode::decode(b"ixe"), Err(BencodeError::BadInt(1)));
        assert_eq!(
            Bencode::decode(b"di1ei2ee"),
            Err(BencodeError::KeyNotString(1))
        );
        assert_eq!(Bencode::decode(b"i1ei2e"), Err(BencodeError::Trailing(3)));
        assert!(matches!(
            Bencode::decode(b"99999999999999999999:x"),
            Err(BencodeError::BadInt(0))
        ));
        assert!(matches!(
            Bencode::decode(b"x"),
            Err(BencodeError::Unexpected { byte: b'x', at: 0 })
        ));
        let deep = "l".repeat(200) + &"e".repeat(200);
        assert!(Bencode::decode(deep.as_bytes()).is_err());
    }
}

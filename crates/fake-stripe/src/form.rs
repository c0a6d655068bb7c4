//! Stripe's request encoding: `application/x-www-form-urlencoded` bodies and
//! query strings with bracket notation (`line_items[0][price_data][currency]=usd`,
//! `metadata[payment_id]=42`, `created[gte]=1700000000`).
//!
//! [`Params`] turns the flat pairs into a tree and offers typed accessors that
//! fail with Stripe's own 400 errors, naming the parameter the way Stripe does.

use std::collections::BTreeMap;

use crate::error::ApiError;

/// A node of the parameter tree: a scalar value or a nested map.
/// Array elements (`a[0]`, `a[1]`, `a[]`) are map entries keyed by their index.
#[derive(Debug, Clone)]
enum Node {
    Value(String),
    Map(BTreeMap<String, Node>),
}

/// Decoded request parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    root: BTreeMap<String, Node>,
}

impl Params {
    /// Parses a form body or a query string; malformed input is a 400.
    pub(crate) fn parse(encoded: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(encoded)
            .map_err(|_| ApiError::invalid_request(None, None, "Invalid request body."))?;
        let mut params = Self::default();
        for (key, value) in pairs {
            params.insert(&key, value);
        }
        Ok(params)
    }

    fn insert(&mut self, key: &str, value: String) {
        let segments = split_key(key);
        let mut map = &mut self.root;
        let last = segments.len() - 1;
        for (i, segment) in segments.into_iter().enumerate() {
            let segment = if segment.is_empty() {
                // `a[]=x` appends.
                map.len().to_string()
            } else {
                segment
            };
            if i == last {
                map.insert(segment, Node::Value(value));
                return;
            }
            let node = map
                .entry(segment)
                .or_insert_with(|| Node::Map(BTreeMap::new()));
            if let Node::Value(_) = node {
                *node = Node::Map(BTreeMap::new());
            }
            let Node::Map(inner) = node else {
                return;
            };
            map = inner;
        }
    }

    fn node(&self, path: &str) -> Option<&Node> {
        let mut segments = split_key(path).into_iter();
        let mut node = self.root.get(&segments.next()?)?;
        for segment in segments {
            match node {
                Node::Map(map) => node = map.get(&segment)?,
                Node::Value(_) => return None,
            }
        }
        Some(node)
    }

    /// Whether the parameter (scalar or nested) was sent at all.
    pub(crate) fn has(&self, path: &str) -> bool {
        self.node(path).is_some()
    }

    /// A scalar parameter; empty strings count as absent, like Stripe's unset.
    pub(crate) fn str(&self, path: &str) -> Option<&str> {
        match self.node(path)? {
            Node::Value(v) if !v.is_empty() => Some(v.as_str()),
            _ => None,
        }
    }

    pub(crate) fn string(&self, path: &str) -> Option<String> {
        self.str(path).map(str::to_owned)
    }

    pub(crate) fn required_str(&self, path: &str) -> Result<&str, ApiError> {
        self.str(path).ok_or_else(|| ApiError::missing_param(path))
    }

    pub(crate) fn int(&self, path: &str) -> Result<Option<i64>, ApiError> {
        match self.str(path) {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid_integer(path, raw)),
        }
    }

    pub(crate) fn required_int(&self, path: &str) -> Result<i64, ApiError> {
        self.int(path)?.ok_or_else(|| ApiError::missing_param(path))
    }

    pub(crate) fn bool(&self, path: &str) -> Result<Option<bool>, ApiError> {
        match self.str(path) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(raw) => Err(ApiError::invalid_request(
                Some("parameter_invalid_boolean"),
                Some(path),
                &format!("Invalid boolean: {raw}"),
            )),
        }
    }

    /// A string→string map such as `metadata[...]`.
    pub(crate) fn string_map(&self, path: &str) -> BTreeMap<String, String> {
        match self.node(path) {
            Some(Node::Map(map)) => map
                .iter()
                .filter_map(|(k, v)| match v {
                    Node::Value(v) => Some((k.clone(), v.clone())),
                    Node::Map(_) => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// The number of elements of an array parameter (`line_items[0]`, `line_items[1]`, ...),
    /// i.e. the indices `0..n` callers can address as `line_items[{i}][...]`.
    pub(crate) fn array_len(&self, path: &str) -> usize {
        match self.node(path) {
            Some(Node::Map(map)) => (0..)
                .take_while(|i: &usize| map.contains_key(&i.to_string()))
                .count(),
            _ => 0,
        }
    }
}

/// `a[b][0][c]` → `["a", "b", "0", "c"]`.
fn split_key(key: &str) -> Vec<String> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let mut segments = vec![head.to_owned()];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                segments.push(stripped[..end].to_owned());
                rest = &stripped[end + 1..];
            }
            None => {
                segments.push(stripped.to_owned());
                break;
            }
        }
    }
    segments
}

/// A `created`-style timestamp filter: either `created=<ts>` or
/// `created[gt|gte|lt|lte]=<ts>`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Range {
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
    eq: Option<i64>,
}

impl Range {
    pub(crate) fn from_params(params: &Params, name: &str) -> Result<Self, ApiError> {
        Ok(Self {
            eq: params.int(name)?,
            gt: params.int(&format!("{name}[gt]"))?,
            gte: params.int(&format!("{name}[gte]"))?,
            lt: params.int(&format!("{name}[lt]"))?,
            lte: params.int(&format!("{name}[lte]"))?,
        })
    }

    pub(crate) fn contains(&self, value: i64) -> bool {
        self.eq.is_none_or(|v| value == v)
            && self.gt.is_none_or(|v| value > v)
            && self.gte.is_none_or(|v| value >= v)
            && self.lt.is_none_or(|v| value < v)
            && self.lte.is_none_or(|v| value <= v)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_bracket_notation() {
        let p = Params::parse(
            "mode=payment&line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=50000\
             &line_items[0][quantity]=1&line_items[1][quantity]=2&metadata[payment_id]=p1\
             &expand[]=a&expand[]=b&created[gte]=10",
        )
        .unwrap();
        assert_eq!(p.str("mode"), Some("payment"));
        assert_eq!(
            p.int("line_items[0][price_data][unit_amount]").unwrap(),
            Some(50000)
        );
        assert_eq!(p.array_len("line_items"), 2);
        assert_eq!(p.array_len("expand"), 2);
        assert_eq!(p.str("expand[1]"), Some("b"));
        assert_eq!(p.string_map("metadata")["payment_id"], "p1");
        let range = Range::from_params(&p, "created").unwrap();
        assert!(range.contains(10) && !range.contains(9));
    }

    #[test]
    fn rejects_bad_integers_with_the_param_name() {
        let p = Params::parse("amount=12x").unwrap();
        let err = p.int("amount").unwrap_err();
        assert_eq!(err.status, poem::http::StatusCode::BAD_REQUEST);
        assert_eq!(err.body["param"], "amount");
        assert_eq!(err.body["code"], "parameter_invalid_integer");
    }
}

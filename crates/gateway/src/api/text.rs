//! `Text`: a JSON string field that is only ever a string.
//!
//! poem-openapi's `String` quietly accepts `5` and `true` as "5" and "true"; a client that
//! sends a number where the spec says string has a bug we should tell it about. `Text` also
//! refuses NUL characters, which PostgreSQL cannot store in `text`.

use std::borrow::Cow;

use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Type for Text {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(&self.0))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) if s.contains('\0') => {
                Err(ParseError::custom("text must not contain NUL characters"))
            }
            Value::String(s) => Ok(Self(s)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_strings_without_nul_parse() {
        assert_eq!(
            Text::parse_from_json(Some(json!("ok"))).ok(),
            Some(Text("ok".into()))
        );
        for bad in [
            json!(5),
            json!(true),
            json!(null),
            json!(["x"]),
            json!("a\u{0}b"),
        ] {
            assert!(Text::parse_from_json(Some(bad.clone())).is_err(), "{bad}");
        }
    }
}

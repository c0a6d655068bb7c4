//! Stripe's cursor pagination: `limit`, `starting_after`, `ending_before`,
//! rendered as `{"object": "list", "data", "has_more", "url"}`.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::form::Params;
use crate::store::Record;

/// One page of `items` (already filtered, newest first) as a list object.
pub(crate) fn page<T: Record>(
    items: Vec<&T>,
    params: &Params,
    url: &str,
    render: impl Fn(&T) -> Value,
) -> Result<Value, ApiError> {
    let limit = params.int("limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_request(
            None,
            Some("limit"),
            "This value must be greater than or equal to 1 and less than or equal to 100.",
        ));
    }
    let limit = usize::try_from(limit).unwrap_or(10);
    let position = |param: &str, id: &str| {
        items
            .iter()
            .position(|item| item.id() == id)
            .ok_or_else(|| {
                ApiError::invalid_request(
                    Some("resource_missing"),
                    Some(param),
                    &format!("No such object: '{id}'"),
                )
            })
    };
    let (window, has_more) = if let Some(cursor) = params.str("starting_after") {
        let rest = &items[position("starting_after", cursor)? + 1..];
        (
            rest.iter().take(limit).copied().collect::<Vec<_>>(),
            rest.len() > limit,
        )
    } else if let Some(cursor) = params.str("ending_before") {
        let before = &items[..position("ending_before", cursor)?];
        let start = before.len().saturating_sub(limit);
        (before[start..].to_vec(), start > 0)
    } else {
        (
            items.iter().take(limit).copied().collect(),
            items.len() > limit,
        )
    };
    Ok(json!({
        "object": "list",
        "data": window.into_iter().map(render).collect::<Vec<_>>(),
        "has_more": has_more,
        "url": url,
    }))
}

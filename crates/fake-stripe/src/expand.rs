//! `expand[]`: replaces ids in a response with the objects they name, e.g.
//! `expand[]=payment_intent` on a Checkout Session or
//! `expand[]=data.latest_charge` on a PaymentIntent list.

use serde_json::Value;

use crate::form::Params;
use crate::payment_intents::charge_json;
use crate::store::{Store, find};

/// Applies every `expand[i]` path of `params` to `response`.
pub(crate) fn apply(store: &Store, scope: Option<&str>, params: &Params, response: &mut Value) {
    for i in 0..params.array_len("expand") {
        if let Some(path) = params.str(&format!("expand[{i}]")) {
            let segments: Vec<&str> = path.split('.').collect();
            expand_path(store, scope, response, &segments);
        }
    }
}

fn expand_path(store: &Store, scope: Option<&str>, value: &mut Value, segments: &[&str]) {
    let Some((field, rest)) = segments.split_first() else {
        return;
    };
    if *field == "data" && value["object"] == "list" {
        if let Some(items) = value["data"].as_array_mut() {
            for item in items {
                expand_path(store, scope, item, rest);
            }
        }
        return;
    }
    let Some(child) = value.get_mut(*field) else {
        return;
    };
    if let Some(object) = child.as_str().and_then(|id| lookup(store, scope, id)) {
        *child = object;
    }
    if !rest.is_empty() {
        expand_path(store, scope, child, rest);
    }
}

/// The object with `id` on `scope`, rendered, if it is of an expandable kind.
fn lookup(store: &Store, scope: Option<&str>, id: &str) -> Option<Value> {
    let (prefix, _) = id.split_once('_')?;
    match prefix {
        "pi" => find(&store.payment_intents, scope, id).map(|pi| pi.to_json()),
        "ch" => find(&store.charges, scope, id).map(|ch| charge_json(store, ch)),
        "cus" => find(&store.customers, scope, id).map(|c| c.to_json()),
        "pm" => find(&store.payment_methods, scope, id).map(|pm| pm.to_json()),
        "re" => find(&store.refunds, scope, id).map(|r| r.to_json()),
        "cs" => find(&store.sessions, scope, id).map(|s| s.to_json(&store.base_url)),
        "seti" => find(&store.setup_intents, scope, id).map(|s| s.to_json()),
        _ => None,
    }
}

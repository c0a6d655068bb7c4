//! What a manifest no longer says. Applying never deletes data on its own (a removed
//! subscriber keeps their ledger), so every field or item that disappeared since the last apply
//! is reported instead of being silently ignored.

use serde_json::Value;

/// Natural keys of list items, so `tariffs[2]` is reported as `tariffs.home-100`.
const ITEM_KEYS: &[&str] = &["code", "slug", "email", "account_number", "host"];

fn item_key(item: &Value) -> Option<String> {
    ITEM_KEYS
        .iter()
        .find_map(|k| item.get(*k).and_then(Value::as_str).map(str::to_owned))
}

/// Paths present in `before` and absent from `after`.
pub fn removed_paths(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(before, after, "", &mut out);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk(before: &Value, after: &Value, path: &str, out: &mut Vec<String>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (key, old) in b {
                if old.is_null() {
                    continue;
                }
                match a.get(key) {
                    None | Some(Value::Null) => out.push(join(path, key)),
                    Some(new) => walk(old, new, &join(path, key), out),
                }
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            for old in b {
                let Some(key) = item_key(old) else { continue };
                match a.iter().find(|n| item_key(n).as_deref() == Some(&key)) {
                    None => out.push(join(path, &key)),
                    Some(new) => walk(old, new, &join(path, &key), out),
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_removed_fields_and_items_by_natural_key() {
        let before = json!({
            "branding": {"logo": "a.svg", "primary_color": "#000000"},
            "tariffs": [{"code": "home"}, {"code": "gold", "name": "Gold"}],
            "time_zone": null
        });
        let after = json!({
            "branding": {"primary_color": "#000000"},
            "tariffs": [{"code": "home"}]
        });
        assert_eq!(
            removed_paths(&before, &after),
            vec!["branding.logo".to_owned(), "tariffs.gold".to_owned()]
        );
        assert!(removed_paths(&after, &after).is_empty());
    }
}

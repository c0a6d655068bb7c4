//! The `Allow` header of a 405 (RFC 9110 §15.5.6), derived from the OpenAPI document so it can
//! never disagree with the routes.

use std::sync::LazyLock;

struct Route {
    segments: Vec<String>,
    allow: String,
}

static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(|| {
    let spec: serde_json::Value = serde_json::from_str(&crate::openapi_json()).unwrap_or_default();
    let Some(paths) = spec["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<String> = item
                .as_object()
                .map(|ops| {
                    ops.keys()
                        .filter(|m| ["get", "put", "post", "delete", "patch"].contains(&m.as_str()))
                        .map(|m| m.to_ascii_uppercase())
                        .collect()
                })
                .unwrap_or_default();
            if methods.iter().any(|m| m == "GET") {
                methods.push("HEAD".into());
            }
            Route {
                segments: format!("/api/v1{path}")
                    .split('/')
                    .map(str::to_owned)
                    .collect(),
                allow: methods.join(", "),
            }
        })
        .collect()
});

/// The methods served at `path`, if it is an API path.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    let parts: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .find(|route| {
            route.segments.len() == parts.len()
                && route
                    .segments
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
        })
        .map(|route| route.allow.as_str())
}

#[cfg(test)]
mod tests {
    use super::allowed_methods;

    #[test]
    fn allow_lists_the_methods_of_the_matching_path() {
        assert_eq!(allowed_methods("/api/v1/site"), Some("GET, HEAD"));
        let tickets = allowed_methods("/api/v1/me/tickets").expect("route");
        assert!(
            tickets.contains("GET") && tickets.contains("POST"),
            "{tickets}"
        );
        assert_eq!(
            allowed_methods("/api/v1/console/tickets/0193/replies"),
            Some("POST")
        );
        assert_eq!(allowed_methods("/api/v1/nope"), None);
    }
}

//! GraphiQL, served by the app itself so that it works with no internet access.
//!
//! * `GET /graphiql` — the page. It talks to `/graphql` on the same origin, runs subscriptions
//!   over graphql-ws on `ws(s)://<host>/graphql/ws` (computed from `window.location`), has the
//!   headers editor on (for `Authorization` / API keys) and opens with a query on the providers.
//! * `GET /graphiql/assets/{file}` — the JS/CSS bundles, embedded in the binary at build time,
//!   `cache-control: public, max-age=86400`; any other file name is a 404.
//!
//! The bundles are graphiql 3.8 (its UMD build, which already contains the `graphql-ws` client
//! that `GraphiQL.createFetcher({ subscriptionUrl })` uses) and React 18's UMD production
//! files, pinned npm packages embedded at build time (see `assets`; without them the page
//! loads the same pinned files from a CDN, with their integrity hashes).
//!
//! The router is stateless; merge it into the app's router (after `with_state`, if any).

use axum::Router;
use axum::extract::Path;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::assets::{self, Asset, CSS, JS};

/// Pinned versions; a test checks them against `web/package.json`.
const GRAPHIQL_VERSION: &str = "3.8.3";
const REACT_VERSION: &str = "18.3.1";

/// The tabs the editor opens with (the user's own tabs, kept in localStorage, win): the
/// README's first steps, one named operation each, with its variables to fill in.
fn default_tabs() -> serde_json::Value {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## First steps in GraphiQL")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    let tabs: Vec<serde_json::Value> = section
        .split("```graphql\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .map(|query| {
            // `$name: Type` in the operation's head → `"name": ""` to fill in.
            let head = query.split('{').next().unwrap_or_default();
            let names: Vec<String> = head
                .split('$')
                .skip(1)
                .filter_map(|v| v.split(':').next())
                .map(|n| format!("  \"{}\": \"\"", n.trim()))
                .collect();
            let variables = if names.is_empty() {
                String::new()
            } else {
                format!("{{\n{}\n}}", names.join(",\n"))
            };
            serde_json::json!({ "query": query, "variables": variables })
        })
        .collect();
    serde_json::Value::Array(tabs)
}

/// Keep in sync with `FILES` in `build.rs` and the versions above.
const ASSETS: [Asset; 4] = [
    Asset {
        name: "graphiql.min.css",
        content_type: CSS,
        version: GRAPHIQL_VERSION,
        cdn: "https://unpkg.com/graphiql@3.8.3/graphiql.min.css",
        integrity: "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    },
    Asset {
        name: "react.production.min.js",
        content_type: JS,
        version: REACT_VERSION,
        cdn: "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
        integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JS,
        version: REACT_VERSION,
        cdn: "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
        integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    },
    Asset {
        name: "graphiql.min.js",
        content_type: JS,
        version: GRAPHIQL_VERSION,
        cdn: "https://unpkg.com/graphiql@3.8.3/graphiql.min.js",
        integrity: "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    },
];

/// `GET /graphiql` and `GET /graphiql/assets/{file}`.
pub fn router() -> Router {
    Router::new()
        .route("/graphiql", get(page))
        .route("/graphiql/assets/{file}", get(asset))
}

async fn page() -> Response {
    (
        assets::page_headers(content_security_policy()),
        Html(page_html()),
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    assets::serve(&ASSETS, &file)
}

/// The page's one inline script: a fetcher per set of headers from the headers editor, so
/// the same `Authorization` goes with queries over HTTP and, as the `connection_init`
/// payload, with subscriptions over graphql-ws.
fn inline_script() -> String {
    let default_tabs = default_tabs().to_string().replace('<', "\\u003c");
    format!(
        r#"
    (function () {{
      var wsScheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      var subscriptionUrl = wsScheme + "//" + window.location.host + "/graphql/ws";
      var fetchers = {{}};
      function fetcherFor(headers) {{
        var key = JSON.stringify(headers || {{}});
        if (!fetchers[key]) {{
          fetchers[key] = GraphiQL.createFetcher({{
            url: "/graphql",
            subscriptionUrl: subscriptionUrl,
            wsConnectionParams: headers || {{}}
          }});
        }}
        return fetchers[key];
      }}
      var fetcher = function (params, opts) {{
        return fetcherFor(opts && opts.headers)(params, opts);
      }};
      var root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(
        React.createElement(GraphiQL, {{
          fetcher: fetcher,
          defaultTabs: {default_tabs},
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: false,
          defaultEditorToolsVisibility: true
        }})
      );
    }})();
  "#
    )
}

/// The page's Content-Security-Policy: its scripts from here (or the pinned CDN files when
/// not bundled) plus the one inline script by its hash; connections to this origin only; no
/// framing, no forms, no plugins.
fn content_security_policy() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD
        .encode(sha2::Sha256::digest(inline_script().as_bytes()));
    let cdn = assets::cdn_source();
    format!(
        "default-src 'none'; script-src 'self' 'sha256-{hash}'{cdn}; style-src 'self' 'unsafe-inline'{cdn}; \
         img-src 'self' data:; font-src 'self' data:{cdn}; connect-src 'self' ws: wss:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
}

fn page_html() -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>orderhub · GraphiQL</title>
  <link rel="icon" href="data:," />
  <style>
    html, body {{ height: 100%; margin: 0; overflow: hidden; }}
    #graphiql {{ height: 100vh; }}
    #graphiql > .loading {{ font: 16px system-ui, sans-serif; padding: 2rem; color: #555; }}
  </style>
{tags}</head>
<body>
  <div id="graphiql"><div class="loading">Loading GraphiQL…</div></div>
  <script>{script}</script>
</body>
</html>
"#,
        tags = assets::tags(&ASSETS, "/graphiql/assets/"),
        script = inline_script(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    async fn fetch(uri: &str) -> (StatusCode, Option<String>, Option<String>, Vec<u8>) {
        let response = router()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let header_value = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let content_type = header_value(header::CONTENT_TYPE);
        let cache_control = header_value(header::CACHE_CONTROL);
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        (status, content_type, cache_control, body)
    }

    #[tokio::test]
    async fn page_is_html_and_points_at_the_api() {
        let (status, content_type, _, body) = fetch("/graphiql").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
        let html = String::from_utf8(body).unwrap();
        assert!(html.contains(r#"url: "/graphql""#), "{html}");
        assert!(
            html.contains(r#""//" + window.location.host + "/graphql/ws""#),
            "{html}"
        );
        assert!(html.contains("isHeadersEditorEnabled: true"));
        // The README's first steps as tabs, with the variables they take.
        assert!(html.contains("defaultTabs: [{"), "{html}");
        assert!(html.contains("query Catalogue {"), "{html}");
        assert!(html.contains(r#"\"shopId\": \"\""#), "{html}");
        for a in &ASSETS {
            if assets::BUNDLED {
                assert!(
                    html.contains(&format!("/graphiql/assets/{}?v=", a.name)),
                    "{html}"
                );
                assert!(
                    !html.contains("https://"),
                    "a bundled page must not need the internet"
                );
            } else {
                assert!(html.contains(a.cdn) && html.contains(a.integrity), "{html}");
            }
        }
    }

    #[tokio::test]
    async fn unknown_assets_are_404() {
        for uri in [
            "/graphiql/assets/nope.js",
            "/graphiql/assets/graphiql.min.js.map",
            "/graphiql/assets/..%2FCargo.toml",
        ] {
            let (status, ..) = fetch(uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        }
    }

    #[cfg(assets_bundled)]
    #[tokio::test]
    async fn every_asset_is_served_with_its_content_type() {
        for a in &ASSETS {
            let (status, content_type, cache_control, body) =
                fetch(&format!("/graphiql/assets/{}?v=1", a.name)).await;
            assert_eq!(status, StatusCode::OK, "{}", a.name);
            assert_eq!(content_type.as_deref(), Some(a.content_type), "{}", a.name);
            assert_eq!(
                cache_control.as_deref(),
                Some("public, max-age=86400"),
                "{}",
                a.name
            );
            assert!(body.len() > 1000, "{} is suspiciously small", a.name);
        }
    }

    /// The CDN fallback loads exactly the files the bundled build embeds, at the versions
    /// `web/package.json` pins.
    #[test]
    fn cdn_files_are_the_pinned_ones() {
        assets::checks::integrity_matches(&ASSETS);
        assets::checks::pinned("graphiql", GRAPHIQL_VERSION);
        assets::checks::pinned("react", REACT_VERSION);
        assets::checks::pinned("react-dom", REACT_VERSION);
    }
}

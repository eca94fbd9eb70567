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
//! files, pinned by `web/package.json` + `web/package-lock.json`. `build.rs` runs `npm ci` when
//! needed, copies them into `$OUT_DIR/graphiql/` and sets `cfg(graphiql_bundled)`. Without that
//! cfg (no npm at build time) there are no assets and the page loads the same pinned versions
//! from a CDN, with subresource integrity hashes of the very same files.
//!
//! The router is stateless; merge it into the app's router (after `with_state`, if any).

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

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

/// One front-end file: its name under `/graphiql/assets/`, content type, CDN address of the same
/// pinned file and its SRI hash (`sha384` of the npm package's file, which the CDN serves as is).
struct Asset {
    name: &'static str,
    content_type: &'static str,
    cdn: &'static str,
    integrity: &'static str,
}

impl Asset {
    fn version(&self) -> &'static str {
        if self.name.starts_with("graphiql") {
            GRAPHIQL_VERSION
        } else {
            REACT_VERSION
        }
    }
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Keep in sync with `FILES` in `build.rs` and the versions above.
const ASSETS: [Asset; 4] = [
    Asset {
        name: "graphiql.min.css",
        content_type: CSS,
        cdn: "https://unpkg.com/graphiql@3.8.3/graphiql.min.css",
        integrity: "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    },
    Asset {
        name: "react.production.min.js",
        content_type: JS,
        cdn: "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
        integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JS,
        cdn: "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
        integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    },
    Asset {
        name: "graphiql.min.js",
        content_type: JS,
        cdn: "https://unpkg.com/graphiql@3.8.3/graphiql.min.js",
        integrity: "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    },
];

/// The embedded bytes of an asset, by name.
#[cfg(graphiql_bundled)]
fn bundled(name: &str) -> Option<&'static [u8]> {
    macro_rules! out {
        ($file:literal) => {
            include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/", $file)).as_slice()
        };
    }
    Some(match name {
        "graphiql.min.css" => out!("graphiql.min.css"),
        "react.production.min.js" => out!("react.production.min.js"),
        "react-dom.production.min.js" => out!("react-dom.production.min.js"),
        "graphiql.min.js" => out!("graphiql.min.js"),
        _ => return None,
    })
}

#[cfg(not(graphiql_bundled))]
fn bundled(_name: &str) -> Option<&'static [u8]> {
    None
}

/// Whether the assets are embedded in this build (else the page uses the CDN).
pub const BUNDLED: bool = cfg!(graphiql_bundled);

/// `GET /graphiql` and `GET /graphiql/assets/{file}`.
pub fn router() -> Router {
    Router::new()
        .route("/graphiql", get(page))
        .route("/graphiql/assets/{file}", get(asset))
}

async fn page() -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-cache".to_owned()),
            (header::CONTENT_SECURITY_POLICY, content_security_policy()),
            (header::X_FRAME_OPTIONS, "DENY".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
        Html(page_html()),
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    let found = ASSETS
        .iter()
        .find(|a| a.name == file)
        .and_then(|a| Some((a, bundled(a.name)?)));
    match found {
        Some((a, bytes)) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset\n").into_response(),
    }
}

/// `<link>`/`<script>` tags for the assets: local (versioned query string to bust the day-long
/// cache on upgrades) when bundled, else the pinned CDN files with their integrity hashes.
fn asset_tags() -> String {
    let mut tags = String::new();
    for a in &ASSETS {
        let (src, extra) = if BUNDLED {
            (
                format!("/graphiql/assets/{}?v={}", a.name, a.version()),
                String::new(),
            )
        } else {
            (
                a.cdn.to_owned(),
                format!(r#" integrity="{}" crossorigin="anonymous""#, a.integrity),
            )
        };
        if a.content_type == CSS {
            tags.push_str(&format!(
                "  <link rel=\"stylesheet\" href=\"{src}\"{extra} />\n"
            ));
        } else {
            tags.push_str(&format!("  <script src=\"{src}\"{extra}></script>\n"));
        }
    }
    tags
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
    let cdn = if BUNDLED { "" } else { " https://unpkg.com" };
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
        tags = asset_tags(),
        script = inline_script(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
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
            if BUNDLED {
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

    #[cfg(graphiql_bundled)]
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

    /// The CDN fallback loads exactly the files the bundled build embeds.
    #[cfg(graphiql_bundled)]
    #[test]
    fn cdn_integrity_hashes_match_the_bundled_files() {
        use base64::Engine as _;
        use sha2::{Digest, Sha384};
        for a in &ASSETS {
            let digest = Sha384::digest(bundled(a.name).unwrap());
            let sri = format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            );
            assert_eq!(
                a.integrity, sri,
                "{}: update its integrity (and cdn URL) after an upgrade",
                a.name
            );
        }
    }

    #[test]
    fn pinned_versions_match_web_package_json() {
        let package: serde_json::Value =
            serde_json::from_str(include_str!("../../web/package.json")).unwrap();
        let deps = &package["dependencies"];
        assert_eq!(deps["graphiql"], GRAPHIQL_VERSION);
        assert_eq!(deps["react"], REACT_VERSION);
        assert_eq!(deps["react-dom"], REACT_VERSION);
        for a in &ASSETS {
            assert!(a.cdn.contains(&format!("@{}/", a.version())), "{}", a.cdn);
        }
    }
}

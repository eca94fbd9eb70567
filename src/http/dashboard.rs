//! The read-only dashboard at `/dashboard`: orders and delivery fees per day per provider, and
//! the courier scorecard, charted with Chart.js from the same GraphQL queries an analyst runs
//! (`orderStats` by DAY × PROVIDER, `courierScorecard`), posted to `/graphql` with the API key
//! typed into the page (kept in the tab's session storage only). The page holds no data of its
//! own: what it shows, the key's scope (`orders:read`) and shops decide, as for any client.
//!
//! * `GET /dashboard` — the page (no inline script: its CSP allows scripts from here only).
//! * `GET /dashboard/app.js`, `GET /dashboard/app.css` — the page's own code (`web/dashboard/`),
//!   embedded in the binary.
//! * `GET /dashboard/assets/{file}` — Chart.js, a pinned npm package embedded at build time
//!   (see `assets`; from the pinned CDN file with its integrity hash when not bundled).

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::assets::{self, Asset, JS};

/// Pinned; a test checks it against `web/package.json`.
const CHART_VERSION: &str = "4.6.1";

const ASSETS: [Asset; 1] = [Asset {
    name: "chart.umd.min.js",
    content_type: JS,
    version: CHART_VERSION,
    cdn: "https://unpkg.com/chart.js@4.6.1/dist/chart.umd.min.js",
    integrity: "sha384-Emf5ZVIUiarAdhkgtqK+5/Z5qIvM6QoVrS+qAVtfyZVuD5lIHrac0me485+Antp0",
}];

const APP_JS: &str = include_str!("../../web/dashboard/dashboard.js");
const APP_CSS: &str = include_str!("../../web/dashboard/dashboard.css");

/// `GET /dashboard` and its files.
pub fn router() -> Router {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/app.js", get(app_js))
        .route("/dashboard/app.css", get(app_css))
        .route("/dashboard/assets/{file}", get(asset))
}

async fn page() -> Response {
    (
        assets::page_headers(content_security_policy()),
        Html(page_html()),
    )
        .into_response()
}

async fn app_js() -> Response {
    own_file(JS, APP_JS)
}

async fn app_css() -> Response {
    own_file(assets::CSS, APP_CSS)
}

fn own_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    assets::serve(&ASSETS, &file)
}

/// Scripts and styles from here (or the pinned CDN file), requests to this origin only, no
/// inline code, no framing, no forms.
fn content_security_policy() -> String {
    let cdn = assets::cdn_source();
    format!(
        "default-src 'none'; script-src 'self'{cdn}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
}

fn page_html() -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>orderhub · dashboard</title>
  <link rel="icon" href="data:," />
  <link rel="stylesheet" href="/dashboard/app.css" />
{tags}  <script src="/dashboard/app.js" defer></script>
</head>
<body data-state="idle">
  <header>
    <h1>orderhub · dashboard</h1>
    <form id="controls">
      <label>API key <input id="key" type="password" autocomplete="off" placeholder="a key with orders:read" /></label>
      <label>Last <select id="days">
        <option value="7">7 days</option>
        <option value="30" selected>30 days</option>
        <option value="90">90 days</option>
        <option value="365">365 days</option>
      </select></label>
      <button type="submit">Show</button>
    </form>
    <p id="status" role="status"></p>
  </header>
  <main>
    <section>
      <h2>Orders per day, by provider</h2>
      <div class="chart"><canvas id="orders-chart"></canvas></div>
    </section>
    <section>
      <h2>Delivery fees per day (yuan), by provider</h2>
      <div class="chart"><canvas id="fees-chart"></canvas></div>
    </section>
    <section>
      <h2>Courier scorecard</h2>
      <div class="chart"><canvas id="scorecard-chart"></canvas></div>
      <table id="scorecard">
        <thead><tr><th>Network</th><th>Company</th><th>City</th><th>Deliveries</th>
          <th>Accepted</th><th>Median to accept</th><th>Cancelled by merchant</th>
          <th>Cancelled by platform</th><th>Average fee</th><th>Fee per km</th><th>Penalties</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </main>
  <footer>Days are China days (UTC+08:00). Data: <code>orderStats</code> and <code>courierScorecard</code> (try them in <a href="/graphiql">GraphiQL</a>).</footer>
</body>
</html>
"#,
        tags = assets::tags(&ASSETS, "/dashboard/assets/"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn fetch(uri: &str) -> (StatusCode, String, String) {
        let response = router()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let csp = response
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, csp, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn page_loads_its_own_script_and_chart_js_with_no_inline_code() {
        let (status, csp, html) = fetch("/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(html.contains(r#"<script src="/dashboard/app.js" defer></script>"#));
        assert!(!html.contains("<script>"), "no inline script");
        if assets::BUNDLED {
            assert!(
                html.contains("/dashboard/assets/chart.umd.min.js?v=4.6.1"),
                "{html}"
            );
            assert!(
                !html.contains("https://"),
                "a bundled page must not need the internet"
            );
        }
        let (status, _, js) = fetch("/dashboard/app.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(js.contains("courierScorecard") && js.contains("orderStats"));
        let (status, ..) = fetch("/dashboard/assets/nope.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn chart_js_is_the_pinned_file() {
        assets::checks::integrity_matches(&ASSETS);
        assets::checks::pinned("chart.js", CHART_VERSION);
    }
}

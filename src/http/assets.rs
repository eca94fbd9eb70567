//! The front-end files of the pages the binary serves (GraphiQL, the dashboard): npm
//! packages pinned by `web/package.json` + `web/package-lock.json`, embedded in the binary at
//! build time so the pages work with no internet access.
//!
//! `build.rs` runs `npm ci` when needed, copies the files into `$OUT_DIR/assets/` and sets
//! `cfg(assets_bundled)`. Without it (no npm at build time) nothing is embedded and each page
//! loads the same pinned files from a CDN, with subresource integrity hashes of the very same
//! bytes (a test checks them against the embedded files).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub const JS: &str = "text/javascript; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";

/// One pinned front-end file: its name under the page's `assets/`, content type, version (for
/// the cache-busting query string), the CDN address of the same file and its SRI hash
/// (`sha384` of the npm package's file, which the CDN serves as is).
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub version: &'static str,
    pub cdn: &'static str,
    pub integrity: &'static str,
}

/// The embedded bytes of a file, by name. Keep in sync with `FILES` in `build.rs`.
#[cfg(assets_bundled)]
pub fn bundled(name: &str) -> Option<&'static [u8]> {
    macro_rules! out {
        ($file:literal) => {
            include_bytes!(concat!(env!("OUT_DIR"), "/assets/", $file)).as_slice()
        };
    }
    Some(match name {
        "graphiql.min.css" => out!("graphiql.min.css"),
        "react.production.min.js" => out!("react.production.min.js"),
        "react-dom.production.min.js" => out!("react-dom.production.min.js"),
        "graphiql.min.js" => out!("graphiql.min.js"),
        "chart.umd.min.js" => out!("chart.umd.min.js"),
        _ => return None,
    })
}

#[cfg(not(assets_bundled))]
pub fn bundled(_name: &str) -> Option<&'static [u8]> {
    None
}

/// Whether the files are embedded in this build (else the pages use the CDN).
pub const BUNDLED: bool = cfg!(assets_bundled);

/// `file` of `list`, as embedded: a day-long cache (the pages ask with a versioned query
/// string); any other name is a 404.
pub fn serve(list: &[Asset], file: &str) -> Response {
    let found = list
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
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

/// `<link>`/`<script>` tags for `list`: local under `prefix` when bundled, else the pinned CDN
/// files with their integrity hashes.
pub fn tags(list: &[Asset], prefix: &str) -> String {
    let mut tags = String::new();
    for a in list {
        let (src, extra) = if BUNDLED {
            (format!("{prefix}{}?v={}", a.name, a.version), String::new())
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

/// The CDN's origin in a page's Content-Security-Policy, when the files come from it.
pub fn cdn_source() -> &'static str {
    if BUNDLED { "" } else { " https://unpkg.com" }
}

/// Security headers every page carries, with its own Content-Security-Policy.
pub fn page_headers(csp: String) -> [(header::HeaderName, String); 5] {
    [
        (header::CACHE_CONTROL, "no-cache".to_owned()),
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, "DENY".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::REFERRER_POLICY, "no-referrer".to_owned()),
    ]
}

#[cfg(test)]
pub mod checks {
    use super::*;

    /// Every file of `list` has the SRI hash of its embedded bytes, and its CDN address names
    /// its version.
    pub fn integrity_matches(list: &[Asset]) {
        use base64::Engine as _;
        use sha2::{Digest, Sha384};
        for a in list {
            assert!(a.cdn.contains(&format!("@{}/", a.version)), "{}", a.cdn);
            let Some(bytes) = bundled(a.name) else {
                continue;
            };
            let sri = format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
            );
            assert_eq!(
                a.integrity, sri,
                "{}: update its integrity (and cdn URL) after an upgrade",
                a.name
            );
        }
    }

    /// The version each file names is the one `web/package.json` pins for `package`.
    pub fn pinned(package: &str, version: &str) {
        let manifest: serde_json::Value =
            serde_json::from_str(include_str!("../../web/package.json")).unwrap();
        assert_eq!(manifest["dependencies"][package], version, "{package}");
    }
}

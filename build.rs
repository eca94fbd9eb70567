//! Build script of the `orderhub` package: bundles the front-end files of GraphiQL and the
//! dashboard so that `/graphiql` and `/dashboard` work with no internet access.
//!
//! The JS/CSS come from npm packages pinned by `web/package.json` + `web/package-lock.json`
//! (never committed: `web/node_modules` is gitignored). When the files are missing and `npm` is
//! on `PATH`, this script runs `npm ci` in `web/`; it then copies the files into
//! `$OUT_DIR/assets/` and sets `cfg(assets_bundled)`, which makes `src/http/assets.rs`
//! embed them in the binary. When they can't be had (no npm, no registry, npm failed, or
//! `ORDERHUB_NO_NPM` is set), it warns and the page loads the same pinned versions from a CDN:
//! the build never fails because of the front-end.
//!
//! Std only, and cheap: Cargo reruns it only when one of the `rerun-if-changed` paths changes.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The npm packages whose files are copied; web/package.json pins each to an exact version.
const PINNED: &[&str] = &["graphiql", "react", "react-dom", "chart.js"];

/// `(path under web/node_modules, file name under $OUT_DIR/assets)`.
/// Keep in sync with `bundled` in `src/http/assets.rs`.
const FILES: &[(&str, &str)] = &[
    ("graphiql/graphiql.min.js", "graphiql.min.js"),
    ("graphiql/graphiql.min.css", "graphiql.min.css"),
    (
        "react/umd/react.production.min.js",
        "react.production.min.js",
    ),
    (
        "react-dom/umd/react-dom.production.min.js",
        "react-dom.production.min.js",
    ),
    ("chart.js/dist/chart.umd.min.js", "chart.umd.min.js"),
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(assets_bundled)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=web/package.json");
    println!("cargo::rerun-if-changed=web/package-lock.json");
    println!("cargo::rerun-if-env-changed=ORDERHUB_NO_NPM");

    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let web = manifest_dir.join("web");
    let node_modules = web.join("node_modules");

    let mut bundled = up_to_date(&web);
    if !bundled {
        match npm_ci(&web) {
            Ok(()) => {
                bundled = up_to_date(&web);
                if bundled {
                    backdate_watched_files(&web);
                } else {
                    warn("`npm ci` in web/ did not produce the pinned GraphiQL/React files");
                }
            }
            Err(why) => warn(&why),
        }
        if !bundled {
            warn(
                "front-end assets are not bundled: /graphiql and /dashboard will load them from a CDN",
            );
            warn("to bundle them: install Node.js/npm, run `npm ci` in web/, then rebuild");
        }
    }

    // Watch what decides bundled vs CDN without making Cargo rerun us on every build (a missing
    // watched path counts as changed, so only watch paths that exist).
    if bundled {
        for (src, _) in FILES {
            println!("cargo::rerun-if-changed=web/node_modules/{src}");
        }
    } else {
        // Without node_modules this is just package.json and package-lock.json (cheap to scan);
        // a later manual `npm ci` changes it, so the next build bundles the assets.
        println!("cargo::rerun-if-changed=web");
    }
    if !bundled {
        return;
    }
    let dest = out_dir.join("assets");
    if let Err(e) = copy_all(&node_modules, &dest) {
        warn(&format!(
            "could not copy front-end assets into {}: {e}; the pages will load them from a CDN",
            dest.display()
        ));
        return;
    }
    println!("cargo::rustc-cfg=assets_bundled");
}

/// The files are all there, and the packages in node_modules have the versions that
/// web/package.json pins (it pins exact versions; after a version bump node_modules is stale).
fn up_to_date(web: &Path) -> bool {
    let node_modules = web.join("node_modules");
    if !FILES
        .iter()
        .all(|(src, _)| node_modules.join(src).is_file())
    {
        return false;
    }
    let Ok(manifest) = fs::read_to_string(web.join("package.json")) else {
        return false;
    };
    PINNED.iter().all(|pkg| {
        let installed = fs::read_to_string(node_modules.join(pkg).join("package.json"));
        match (json_str(&manifest, pkg), installed) {
            (Some(wanted), Ok(installed)) => json_str(&installed, "version") == Some(wanted),
            _ => false,
        }
    })
}

/// The string value of the first `"key": "value"` in `text`: enough for npm's package.json
/// files without a JSON parser (std only).
fn json_str<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\"");
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        rest = &rest[i + needle.len()..];
        if let Some(value) = rest.trim_start().strip_prefix(':')
            && let Some(value) = value.trim_start().strip_prefix('"')
        {
            return value.split('"').next();
        }
    }
    None
}

/// Files that `npm ci` wrote during this run are newer than the run's start, so Cargo would
/// run this script once more on the next build; give them the lockfile's (older) mtime.
fn backdate_watched_files(web: &Path) {
    let Ok(when) = fs::metadata(web.join("package-lock.json")).and_then(|m| m.modified()) else {
        return;
    };
    for (src, _) in FILES {
        let path = web.join("node_modules").join(src);
        if let Ok(file) = fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(when);
        }
    }
}

fn copy_all(node_modules: &Path, dest: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dest)?;
    for (src, name) in FILES {
        fs::copy(node_modules.join(src), dest.join(name))?;
    }
    Ok(())
}

/// Runs `npm ci` in `web/`. `Err` carries a one-line reason for the warning.
fn npm_ci(web: &Path) -> Result<(), String> {
    if env::var_os("ORDERHUB_NO_NPM").is_some_and(|v| !v.is_empty() && v != "0") {
        return Err("ORDERHUB_NO_NPM is set: not running `npm ci`".into());
    }
    if !web.join("package-lock.json").is_file() {
        return Err("web/package-lock.json is missing".into());
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    match Command::new(npm).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Err("npm is not on PATH: cannot fetch the GraphiQL assets".into()),
    }
    let out = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(web)
        .output()
        .map_err(|e| format!("could not run `npm ci`: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    // Show the end of npm's complaint, one warning per line (a warning is a single line).
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("Unknown user config"))
        .collect();
    for line in &lines[lines.len().saturating_sub(8)..] {
        warn(&format!("npm: {line}"));
    }
    Err(format!("`npm ci` in web/ failed with {}", out.status))
}

fn warn(msg: &str) {
    println!("cargo::warning={}", msg.replace(['\n', '\r'], " "));
}

//! The import rule of ARCHITECTURE.md, checked on the source: every `crate::…` path (in `use`
//! lines, grouped uses and inline paths) of a top-level module must point to a module of a
//! lower layer, providers and the GraphQL layer stay off the database, the sandbox crate
//! never names the application, and only the start-up's sandbox module names the sandboxes.
//! Test code (`#[cfg(test)]` modules and `*tests.rs` files) is not held to the rule.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Layers, highest first; a module may import only modules of a strictly lower layer, or
/// a same-layer module named in `SIDEWAYS`.
const LAYERS: &[&[&str]] = &[
    &["main"],
    &["app"],
    &["http"],
    &["graphql", "callbacks"],
    &["orders", "catalog", "access"],
    &["refusal"],
    &["providers", "outbox", "events", "db"],
    &["config"],
    &["domain"],
];

/// Allowed edges within one layer: the order service reads the catalogue.
const SIDEWAYS: &[(&str, &str)] = &[("orders", "catalog")];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file without its test code: `*tests.rs` files are skipped entirely, and a
/// `#[cfg(test)]` item is cut from its attribute to the end of the file (test modules stand
/// last in this code base).
fn production_code(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with("tests.rs") {
        return None;
    }
    let text = fs::read_to_string(path).ok()?;
    let cut = text
        .find("#[cfg(test)]")
        .or_else(|| text.find("#[cfg(all(test"))
        .unwrap_or(text.len());
    let code: String = text[..cut]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    Some(code)
}

/// The top-level modules a piece of code names through `crate::`.
fn crate_targets(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the first segment of each top-level entry.
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(ch);
                }
            }
            out.insert(first_segment(&item));
        } else {
            out.insert(first_segment(rest));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn first_segment(s: &str) -> String {
    s.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Top-level module of a file under src/.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(root().join("src")).unwrap_or(path);
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn imports_point_down_the_layers() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in &files {
        let module = module_of(f);
        if module == "lib" {
            continue;
        }
        let Some(code) = production_code(f) else {
            continue;
        };
        let Some(from) = layer(&module) else {
            problems.push(format!("{}: module `{module}` is in no layer", f.display()));
            continue;
        };
        for target in crate_targets(&code) {
            if target == module || matches!(target.as_str(), "Config" | "Application") {
                continue;
            }
            edges
                .entry(module.clone())
                .or_default()
                .insert(target.clone());
            let ok = match layer(&target) {
                Some(to) => to > from || SIDEWAYS.contains(&(module.as_str(), target.as_str())),
                None => false,
            };
            if !ok {
                problems.push(format!(
                    "{}: `{module}` imports `crate::{target}`",
                    f.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "import rule broken:\n{}",
        problems.join("\n")
    );
    // Sanity: the scan sees the edges it should.
    assert!(
        edges.get("orders").is_some_and(|e| e.contains("providers")),
        "{edges:?}"
    );
    assert!(
        edges.get("graphql").is_some_and(|e| e.contains("orders")),
        "{edges:?}"
    );
}

/// Words a file must not contain (outside its test code), per folder.
fn forbid(dir: &str, words: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root().join(dir), &mut files);
    assert!(!files.is_empty(), "{dir} has no sources");
    let mut found = Vec::new();
    for f in files {
        let Some(code) = production_code(&f) else {
            continue;
        };
        for w in words {
            if code.contains(w) {
                found.push(format!("{} names `{w}`", f.display()));
            }
        }
    }
    found
}

#[test]
fn providers_verify_parse_sign_and_call_only() {
    let found = forbid(
        "src/providers",
        &[
            "entity::",
            "sea_orm",
            "axum",
            "AppState",
            "orderhub_sandbox",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn graphql_runs_no_queries() {
    let found = forbid("src/graphql", &["entity::", "sea_orm", "AppState"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn outbox_and_events_know_no_service() {
    let mut found = forbid("src/outbox", &["OrderService", "CatalogService"]);
    found.extend(forbid("src/events", &["OrderService", "CatalogService"]));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn sandboxes_stand_apart() {
    // The simulators never name the application (they share no code with the adapters).
    let found = forbid("sandbox/src", &["orderhub::", "crate::providers"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
    // Only the start-up's sandbox module (behind the `sandbox` feature) and the config's
    // feature-gated sandbox section name the simulators.
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for f in files {
        let Some(code) = production_code(&f) else {
            continue;
        };
        let rel = f
            .strip_prefix(root())
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        if code.contains("orderhub_sandbox") {
            assert!(
                rel == "src/app/sandbox.rs" || rel == "src/config.rs",
                "{rel} names the sandbox crate"
            );
        }
    }
}

#[test]
fn no_source_file_over_600_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    rust_files(&root().join("sandbox/src"), &mut files);
    let long: Vec<String> = files
        .into_iter()
        .filter(|f| {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            // Test files and the simulators' seed data are exempt.
            !name.ends_with("tests.rs") && name != "seed.rs"
        })
        .filter_map(|f| {
            let n = fs::read_to_string(&f).ok()?.lines().count();
            (n > 600).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}

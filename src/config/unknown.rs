//! An unknown key still stops start-up (a misspelt setting would otherwise be ignored in
//! silence), but the error names the key as written, where it came from (the variable or the
//! file) and the closest key that exists there. The candidates are the field names serde's
//! unknown-field error lists, i.e. the config structs' own.

use figment::error::Kind;

/// Below this Jaro–Winkler similarity no key is suggested (the valid ones are listed
/// instead): `prot` finds `port` and `publicurl` finds `public_url`; `database` finds
/// nothing among the server's keys. Jaro–Winkler favours a shared beginning, which is how
/// setting names are usually misspelt.
const SIMILAR_ENOUGH: f64 = 0.8;

/// Where the offending key came from.
pub(super) enum Origin {
    /// An `ORDERHUB_*` variable: its name, and the dotted key it sets (which may reach
    /// below the unknown key, as `servr.port` does below `servr`).
    Variable {
        name: String,
        key: String,
    },
    /// A file, by path.
    File(String),
    Unknown,
}

/// The message for an unknown-field error, or `None` for any other error.
pub(super) fn message(e: &figment::Error, origin: impl FnOnce(&str) -> Origin) -> Option<String> {
    let Kind::UnknownField(found, expected) = &e.kind else {
        return None;
    };
    // The path ends with the unknown key itself (figment prefixes the map key it failed on).
    let mut path = e.path.clone();
    if path.last() != Some(found) {
        path.push(found.clone());
    }
    let key = path.join(".");
    let parent = &path[..path.len() - 1];
    let mut text = format!("unknown key {key}");
    // What the variable sets below the unknown key, kept in the suggestion.
    let mut below = None;
    match origin(&key) {
        Origin::Variable { name, key: set } => {
            below = set.strip_prefix(&format!("{key}.")).map(str::to_owned);
            text.push_str(&format!(" ({name})"));
        }
        Origin::File(file) => text.push_str(&format!(" in {file}")),
        Origin::Unknown => {}
    }
    match closest(found, expected) {
        Some(best) => {
            // `server_port` for `server.port` (one `_` where `__` separates sections).
            let inside = found
                .strip_prefix(best)
                .and_then(|rest| rest.strip_prefix('_'))
                .filter(|rest| !rest.is_empty());
            let suggestion = parent
                .iter()
                .map(String::as_str)
                .chain([best])
                .chain(inside)
                .chain(below.as_deref())
                .collect::<Vec<_>>()
                .join(".");
            text.push_str(&format!("; did you mean {suggestion}?"));
        }
        None if expected.is_empty() => text.push_str("; this section takes no keys"),
        None => text.push_str(&format!("; the keys here are: {}", expected.join(", "))),
    }
    Some(text)
}

/// The expected name most like `found`, if any is like it enough. Case and `-` for `_` are
/// forgiven before comparing.
pub(super) fn closest(found: &str, expected: &[&'static str]) -> Option<&'static str> {
    let norm = found.to_ascii_lowercase().replace('-', "_");
    expected
        .iter()
        .map(|&e| (e, strsim::jaro_winkler(&norm, e)))
        .filter(|&(_, score)| score >= SIMILAR_ENOUGH)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(e, _)| e)
}

//! Real platform or sandbox: the rule every provider's settings are resolved by. A platform
//! whose `base_url` is configured is the real one, and every credential must then come from
//! configuration; one without a `base_url` talks to its in-process sandbox, whose settings
//! the start-up hands in (and which configuration may still override where the platform's
//! own settings say so); neither is a configuration error that names what is missing.

/// Where a platform's settings come from.
pub enum Source<S> {
    /// The real platform at this base URL.
    Real(String),
    /// The in-process sandbox, with its settings.
    Sandbox(S),
}

/// Picks the source for config section `section` (`dada`, `wechat`, …).
pub fn source<S>(
    section: &str,
    base_url: &Option<String>,
    sandbox: Option<S>,
) -> Result<Source<S>, String> {
    match (base_url, sandbox) {
        (Some(url), _) => Ok(Source::Real(url.clone())),
        (None, Some(sb)) => Ok(Source::Sandbox(sb)),
        (None, None) => Err(format!(
            "{section}.base_url is required when the sandbox is off (or set {section}.enabled = false)"
        )),
    }
}

/// A credential the real platform needs: present, or an error naming its setting.
pub fn need<T>(value: Option<T>, section: &str, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("{section}.{name} is required for the real platform"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_decides_and_errors_name_the_setting() {
        let real = source("dada", &Some("https://x".into()), Some(1));
        assert!(matches!(real, Ok(Source::Real(u)) if u == "https://x"));
        assert!(matches!(
            source("dada", &None, Some(1)),
            Ok(Source::Sandbox(1))
        ));
        let err = source::<()>("dada", &None, None).err().unwrap_or_default();
        assert!(err.contains("dada.base_url is required"), "{err}");
        let err = need::<()>(None, "wechat", "secret")
            .err()
            .unwrap_or_default();
        assert_eq!(err, "wechat.secret is required for the real platform");
    }
}

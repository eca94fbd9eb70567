//! Real platform or sandbox: the rule every provider's settings are resolved by. A platform
//! whose `base_url` is configured is the real one, and every credential must then come from
//! configuration; one without a `base_url` talks to its in-process sandbox, whose settings
//! the start-up hands in (and which configuration may still override where the platform's
//! own settings say so); neither is a configuration error that names what is missing.

/// Where a platform's settings come from: the real platform at a base URL, or the
/// in-process sandbox with its settings.
pub struct Source<S> {
    section: &'static str,
    real: Option<String>,
    sandbox: Option<S>,
}

/// Picks the source for config section `section` (`dada`, `wechat`, …).
pub fn source<S>(
    section: &'static str,
    base_url: &Option<String>,
    sandbox: Option<S>,
) -> Result<Source<S>, String> {
    match (base_url, sandbox) {
        (Some(url), _) => Ok(Source {
            section,
            real: Some(url.clone()),
            sandbox: None,
        }),
        (None, Some(sb)) => Ok(Source {
            section,
            real: None,
            sandbox: Some(sb),
        }),
        (None, None) => Err(format!(
            "{section}.base_url is required when the sandbox is off (or set {section}.enabled = false)"
        )),
    }
}

impl<S> Source<S> {
    /// Whether the settings are the sandbox's.
    pub fn is_sandbox(&self) -> bool {
        self.real.is_none()
    }

    /// The sandbox's own settings when it is the source, else the real platform's source back.
    pub fn into_sandbox(self) -> Result<S, Self> {
        match (self.real, self.sandbox) {
            (None, Some(sb)) => Ok(sb),
            (real, sandbox) => Err(Source {
                section: self.section,
                real,
                sandbox,
            }),
        }
    }

    /// The base URL: the configured one, or the sandbox's (`of_sandbox`).
    pub fn base_url(&self, of_sandbox: impl FnOnce(&S) -> String) -> String {
        match (&self.real, &self.sandbox) {
            (Some(url), _) => url.clone(),
            (None, Some(sb)) => of_sandbox(sb),
            (None, None) => String::new(),
        }
    }

    /// A credential the real platform needs: present, or an error naming its setting.
    pub fn need<T: Clone>(&self, configured: &Option<T>, name: &str) -> Result<T, String> {
        configured
            .clone()
            .ok_or_else(|| format!("{}.{name} is required for the real platform", self.section))
    }

    /// A credential: the configured value; else, with the sandbox, the sandbox's own
    /// (`of_sandbox`); the real platform requires it configured.
    pub fn credential<T: Clone>(
        &self,
        configured: &Option<T>,
        name: &str,
        of_sandbox: impl FnOnce(&S) -> T,
    ) -> Result<T, String> {
        match (configured, &self.sandbox) {
            (None, Some(sb)) => Ok(of_sandbox(sb)),
            _ => self.need(configured, name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_decides_and_errors_name_the_setting() {
        let real = source("dada", &Some("https://x".into()), Some(1)).unwrap();
        assert!(!real.is_sandbox());
        assert_eq!(real.base_url(|_| "sandbox".into()), "https://x");
        let err = real.credential(&None::<u8>, "app_key", |_| 7).unwrap_err();
        assert_eq!(err, "dada.app_key is required for the real platform");
        assert_eq!(real.credential(&Some(3), "app_key", |_| 7), Ok(3));

        let sandboxed = source("wechat", &None, Some(1)).unwrap();
        assert!(sandboxed.is_sandbox());
        assert_eq!(sandboxed.credential(&None, "secret", |sb| sb + 1), Ok(2));
        assert_eq!(sandboxed.credential(&Some(5), "secret", |sb| sb + 1), Ok(5));
        let err = sandboxed.need(&None::<u8>, "secret").unwrap_err();
        assert_eq!(err, "wechat.secret is required for the real platform");

        assert!(matches!(sandboxed.into_sandbox(), Ok(1)));
        assert!(real.into_sandbox().is_err());

        let err = source::<()>("dada", &None, None).err().unwrap_or_default();
        assert!(err.contains("dada.base_url is required"), "{err}");
    }
}

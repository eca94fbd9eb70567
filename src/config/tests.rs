//! Loading through figment with real environment variables and files (`figment::Jail`
//! isolates both and serialises the tests that use it).

// `Jail` takes closures returning `figment::Result`, whose error is large; not ours to shrink.
#![allow(clippy::result_large_err)]

use figment::Jail;
use secrecy::ExposeSecret;

use super::*;

/// `Config::load` inside the jail, its error as the operator sees it.
fn load(file: Option<&Path>) -> Result<Config, String> {
    Config::load(file).map_err(|e| e.to_string())
}

#[test]
fn numeric_ids_in_variables_stay_text() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        // As the README shows them.
        jail.set_env("ORDERHUB_DADA__SOURCE_ID", "73753");
        jail.set_env("ORDERHUB_DAOJIA58__SERVICE_KEY", "2801209652");
        // A secret, a leading zero, a phone-number user name, a boolean-looking word.
        jail.set_env("ORDERHUB_DAOWAY__PASSWORD", "123456");
        jail.set_env("ORDERHUB_DAOWAY__CHANNEL", "007");
        jail.set_env("ORDERHUB_DAOWAY__USER_NAME", "13800138000");
        jail.set_env("ORDERHUB_WECHAT__OPENID", "true");
        jail.set_env("ORDERHUB_DADA__APP_KEY", "1.50");
        jail.set_env("ORDERHUB_DADA__IMPORT_SHOPS", r#"[11047059, "0042"]"#);
        // Numbers and booleans still read as such where the setting is one.
        jail.set_env("ORDERHUB_SERVER__PORT", "9000");
        jail.set_env("ORDERHUB_LIMITS__INTROSPECTION", "false");
        jail.set_env("ORDERHUB_DADA__ENABLED", "no");
        jail.set_env("ORDERHUB_OUTBOX__MAX_ATTEMPTS", "-1");
        // The test suite's own variables are not settings.
        jail.set_env("ORDERHUB_TEST_DATABASE_URL", "postgres://x");

        let c = load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.dada.source_id.as_deref(), Some("73753"));
        assert_eq!(c.daojia58.service_key.as_deref(), Some("2801209652"));
        assert_eq!(
            c.daoway.password.as_ref().map(|p| p.expose_secret()),
            Some("123456")
        );
        assert_eq!(c.daoway.channel.as_deref(), Some("007"));
        assert_eq!(c.daoway.user_name.as_deref(), Some("13800138000"));
        assert_eq!(c.wechat.openid.as_deref(), Some("true"));
        assert_eq!(c.dada.app_key.as_deref(), Some("1.50"));
        assert_eq!(
            c.dada.import_shops,
            Some(vec!["11047059".to_owned(), "0042".to_owned()])
        );
        assert_eq!(c.server.port, 9000);
        assert!(!c.limits.introspection);
        assert!(!c.dada.enabled);
        assert_eq!(c.outbox.max_attempts, -1);
        Ok(())
    });
}

#[cfg(feature = "sandbox")]
#[test]
fn sandbox_settings_from_variables() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("ORDERHUB_SANDBOX__DADA__SOURCE_ID", "73753");
        jail.set_env("ORDERHUB_SANDBOX__DADA__OUT_OF_ORDER_RATE", "0.25");
        jail.set_env("ORDERHUB_SANDBOX__DADA__ACCEPT_AFTER_SECS", "5");
        let c = load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.sandbox.dada.source_id, "73753");
        assert_eq!(c.sandbox.dada.out_of_order_rate, 0.25);
        assert_eq!(c.sandbox.dada.accept_after_secs, Some(5));
        Ok(())
    });
}

#[test]
fn numbers_in_the_file_are_taken_as_text() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file(
            "orderhub.toml",
            r#"
            [server]
            port = 9100

            [dada]
            source_id = 73753
            app_key = "dada_key"
            app_secret = 123456
            import_shops = [11047059, "0042"]

            [daojia58]
            service_key = 2801209652

            [[wechat.companies]]
            delivery_id = "SFTC"
            shopid = 1234567
            app_secret = 89
            free_cancel_secs = 60

            [[wechat.stores]]
            shop_no = 1001
            name = "静安店"
            city = "上海"
            address = "南京西路1号"
            address_detail = 1201
            phone = 13800138000
            lng = 121.4737
            lat = 31.2304
            "#,
        )?;
        let c = load(None).map_err(|e| e.to_string())?;
        assert_eq!(c.server.port, 9100);
        assert_eq!(c.dada.source_id.as_deref(), Some("73753"));
        assert_eq!(c.dada.app_key.as_deref(), Some("dada_key"));
        assert_eq!(
            c.dada.app_secret.as_ref().map(|s| s.expose_secret()),
            Some("123456")
        );
        assert_eq!(
            c.dada.import_shops,
            Some(vec!["11047059".to_owned(), "0042".to_owned()])
        );
        assert_eq!(c.daojia58.service_key.as_deref(), Some("2801209652"));
        let company = &c.wechat.companies[0];
        assert_eq!(company.shopid, "1234567");
        assert_eq!(company.app_secret.expose_secret(), "89");
        assert_eq!(company.free_cancel_secs, Some(60));
        let store = &c.wechat.stores[0];
        assert_eq!(
            (
                store.shop_no.as_str(),
                store.address_detail.as_str(),
                store.phone.as_str()
            ),
            ("1001", "1201", "13800138000")
        );

        // A float is not an id: its text would not be the one written.
        jail.create_file("orderhub.toml", "[dada]\nsource_id = 737.53\n")?;
        let err = load(None).unwrap_err();
        assert!(err.contains("source_id") && err.contains("string"), "{err}");
        Ok(())
    });
}

#[test]
fn unknown_variable_names_the_closest_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.set_env("ORDERHUB_SERVER__PROT", "9000");
        assert_eq!(
            load(None).unwrap_err(),
            "configuration: unknown key server.prot (ORDERHUB_SERVER__PROT); did you mean server.port?"
        );

        // A misspelt section: the rest of the variable's key is kept in the suggestion.
        jail.clear_env();
        jail.set_env("ORDERHUB_SERVR__PORT", "9000");
        assert_eq!(
            load(None).unwrap_err(),
            "configuration: unknown key servr (ORDERHUB_SERVR__PORT); did you mean server.port?"
        );

        // One `_` where `__` was meant.
        jail.clear_env();
        jail.set_env("ORDERHUB_SERVER_PUBLIC_URL", "https://x");
        assert_eq!(
            load(None).unwrap_err(),
            "configuration: unknown key server_public_url (ORDERHUB_SERVER_PUBLIC_URL); did you mean server.public_url?"
        );

        jail.clear_env();
        jail.set_env("ORDERHUB_DADA__SOURCEID", "73753");
        assert_eq!(
            load(None).unwrap_err(),
            "configuration: unknown key dada.sourceid (ORDERHUB_DADA__SOURCEID); did you mean dada.source_id?"
        );

        // Other errors name the variable too.
        jail.clear_env();
        jail.set_env("ORDERHUB_SERVER__PORT", "abc");
        let err = load(None).unwrap_err();
        assert!(err.contains("ORDERHUB_SERVER__PORT"), "{err}");

        // Nothing close: the valid keys of the section are listed.
        jail.clear_env();
        jail.set_env("ORDERHUB_AUTH__ZZZ", "1");
        assert_eq!(
            load(None).unwrap_err(),
            "configuration: unknown key auth.zzz (ORDERHUB_AUTH__ZZZ); the keys here are: anonymous"
        );
        Ok(())
    });
}

#[test]
fn unknown_key_in_the_file_names_the_file_and_the_closest_key() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("custom.toml", "[server]\nprot = 9000\n")?;
        let path = jail.directory().join("custom.toml");
        assert_eq!(
            load(Some(&path)).unwrap_err(),
            format!(
                "configuration: unknown key server.prot in {}; did you mean server.port?",
                path.display()
            )
        );

        // Inside an array of tables.
        jail.create_file(
            "custom.toml",
            "[[wechat.companies]]\ndelivery_id = \"SFTC\"\nshop_id = \"x\"\napp_secret = \"y\"\n",
        )?;
        let err = load(Some(&path)).unwrap_err();
        assert!(
            err.starts_with("configuration: unknown key wechat.companies.0.shop_id in ")
                && err.ends_with("; did you mean wechat.companies.0.shopid?"),
            "{err}"
        );
        Ok(())
    });
}

#[test]
fn closest_forgives_case_and_dashes_and_refuses_strangers() {
    let fields = &["host", "port", "public_url", "shutdown_grace_secs"];
    assert_eq!(unknown::closest("prot", fields), Some("port"));
    assert_eq!(unknown::closest("PUBLIC-URL", fields), Some("public_url"));
    assert_eq!(unknown::closest("publicurl", fields), Some("public_url"));
    assert_eq!(
        unknown::closest("shutdown_grace", fields),
        Some("shutdown_grace_secs")
    );
    assert_eq!(unknown::closest("zzz", fields), None);
    assert_eq!(unknown::closest("database", fields), None);
}

//! 58到家's MD5 signature, written from `platforms/daojia58.md` alone.
//!
//! This is the sandbox's own implementation: the adapter in the main crate has its own, and the
//! two only ever meet on the wire. The rule (from 58's SDK test file): take every system
//! parameter except `sign`, sort them by key (byte order, so `accessToken` < `daojiaJson` <
//! `format` < `serviceKey` < `timestamp`), write each as key then value with no separator, wrap
//! the whole in the service secret on both ends, MD5 over the UTF-8 bytes, upper-case hex.
//! Values are signed exactly as sent — `daojiaJson` is never re-serialised, since any change of
//! spacing or key order would change the digest.
//!
//! The same rule signs the pushes the sandbox sends (`nonce`, `timestamp`, `daojiaJson`,
//! `funId`, `serviceKey`); that use is an assumption, named in the module doc of `daojia58`.

use md5::{Digest, Md5};

/// The name of the signature parameter; it never takes part in its own digest.
pub const SIGN: &str = "sign";

/// The exact string that is hashed, exposed so tests can compare it with the one the platform
/// notes print. `sign` is skipped wherever it appears in `params`.
pub fn sign_string(secret: &str, params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .copied()
        .filter(|(key, _)| *key != SIGN)
        .collect();
    // Stable, and by key only: two parameters of the same name cannot reach here (the parser
    // refuses them), so the order of values never decides anything.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let len = pairs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let mut out = String::with_capacity(2 * secret.len() + len);
    out.push_str(secret);
    for (key, value) in pairs {
        out.push_str(key);
        out.push_str(value);
    }
    out.push_str(secret);
    out
}

/// Upper-case hex MD5 of [`sign_string`].
pub fn sign(secret: &str, params: &[(&str, &str)]) -> String {
    hex::encode_upper(Md5::digest(sign_string(secret, params).as_bytes()))
}

/// Whether `signature` is the signature of `params`. Exact comparison: the rule says upper-case,
/// and accepting lower-case here would hide a caller that sends it.
pub fn verify(secret: &str, params: &[(&str, &str)], signature: &str) -> bool {
    sign(secret, params) == signature
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_all_aaa() {
        let params = [
            ("accessToken", "aaa"),
            ("serviceKey", "aaa"),
            ("format", "aaa"),
            ("timestamp", "aaa"),
            ("daojiaJson", "aaa"),
        ];
        assert_eq!(
            sign_string("aaa", &params),
            "aaaaccessTokenaaadaojiaJsonaaaformataaaserviceKeyaaatimestampaaaaaa"
        );
        assert_eq!(sign("aaa", &params), "1790EE5FB7D9D4A62A114B1CAE2386DA");
    }

    #[test]
    fn vector_update_order_detail() {
        let params = [
            ("accessToken", "64256A615F66CC8FBE38AFCFD26EA744"),
            ("serviceKey", "2801209652"),
            ("format", "json"),
            ("timestamp", "2016-01-10 10:00:00"),
            (
                "daojiaJson",
                r#"{"orderId":31421593368511488,"orderStatus":20}"#,
            ),
        ];
        assert_eq!(
            sign("test_secret", &params),
            "A3E2565C710431CE4C9E808B070DA45E"
        );
        assert!(verify(
            "test_secret",
            &params,
            "A3E2565C710431CE4C9E808B070DA45E"
        ));
        assert!(!verify(
            "test_secret",
            &params,
            "a3e2565c710431ce4c9e808b070da45e"
        ));
    }

    #[test]
    fn sign_itself_and_input_order_do_not_matter() {
        let params = [
            ("daojiaJson", "aaa"),
            ("sign", "WHATEVER"),
            ("timestamp", "aaa"),
            ("format", "aaa"),
            ("serviceKey", "aaa"),
            ("accessToken", "aaa"),
        ];
        assert_eq!(sign("aaa", &params), "1790EE5FB7D9D4A62A114B1CAE2386DA");
    }

    #[test]
    fn utf8_values_are_hashed_as_bytes() {
        let a = sign("s", &[("daojiaJson", r#"{"remark":"家里有猫"}"#)]);
        let b = sign("s", &[("daojiaJson", r#"{"remark":"家里有狗"}"#)]);
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }
}

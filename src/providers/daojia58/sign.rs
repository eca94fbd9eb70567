//! 58 Daojia's MD5 signature (from a 58 SDK's test file; the notes' "sdk" rule): sort every
//! system parameter but `sign` by key, concatenate key + value with no separators, wrap the
//! result in the service secret on both ends, MD5, upper-case hex. The same rule checks the
//! orders 58 pushes to us (their field name and algorithm are not public: see
//! [`super::ASSUMPTIONS`]).

use std::collections::BTreeMap;

use md5::{Digest, Md5};

/// The signature of `params` (any `sign` entry is left out).
pub fn sign(params: &BTreeMap<String, String>, secret: &str) -> String {
    let mut h = Md5::new();
    h.update(secret.as_bytes());
    for (k, v) in params.iter().filter(|(k, _)| k.as_str() != "sign") {
        h.update(k.as_bytes());
        h.update(v.as_bytes());
    }
    h.update(secret.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02X}")).collect()
}

/// Whether `given` is the signature of `params`, compared without early exit.
pub fn verify(params: &BTreeMap<String, String>, secret: &str, given: &str) -> bool {
    let want = sign(params, secret);
    let given = given.trim().to_ascii_uppercase();
    want.len() == given.len()
        && want
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_notes_vectors() {
        let all_a = params(&[
            ("accessToken", "aaa"),
            ("daojiaJson", "aaa"),
            ("format", "aaa"),
            ("serviceKey", "aaa"),
            ("timestamp", "aaa"),
        ]);
        assert_eq!(sign(&all_a, "aaa"), "1790EE5FB7D9D4A62A114B1CAE2386DA");

        let real = params(&[
            ("accessToken", "64256A615F66CC8FBE38AFCFD26EA744"),
            ("serviceKey", "2801209652"),
            ("format", "json"),
            ("timestamp", "2016-01-10 10:00:00"),
            (
                "daojiaJson",
                r#"{"orderId":31421593368511488,"orderStatus":20}"#,
            ),
        ]);
        assert_eq!(
            sign(&real, "test_secret"),
            "A3E2565C710431CE4C9E808B070DA45E"
        );
    }

    #[test]
    fn sign_is_left_out_and_verify_is_case_insensitive() {
        let mut p = params(&[("a", "1"), ("b", "2")]);
        let s = sign(&p, "k");
        p.insert("sign".into(), "whatever".into());
        assert_eq!(sign(&p, "k"), s);
        assert!(verify(&p, "k", &s.to_lowercase()));
        assert!(!verify(&p, "k", "00"));
        assert!(!verify(&p, "other", &s));
    }
}

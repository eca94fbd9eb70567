//! Dada's two signatures, written from `platforms/dada.md` alone.
//!
//! This is the sandbox's own implementation: the adapter in the main crate has its own, and the
//! two only ever meet on the wire. Both are pinned by every vector the platform notes publish.
//!
//! - **Request signature** (merchant → Dada): the envelope's `app_key`, `body`, `format`,
//!   `source_id`, `timestamp` and `v`, sorted by key, each written as key then value with no
//!   separator, the whole wrapped in `app_secret` on both ends, MD5 over the UTF-8 bytes,
//!   upper-case hex. `signature` itself is not signed. `body` is signed exactly as received — the
//!   server never re-serialises it, since any change of spacing or key order would change the
//!   digest.
//! - **Callback signature** (Dada → merchant): the values of `client_id`, `order_id` and
//!   `update_time` as strings, sorted as strings, joined with nothing, MD5, lower-case hex. No
//!   secret is involved, so it proves integrity only.
//!
//! An empty `source_id` (merchant registration sends `""`) is signed as `source_id` followed by
//! nothing, which is what Dada's official demo does; one third-party SDK leaves the key out
//! instead, and such a request fails here with 2003.

use md5::{Digest, Md5};

/// The envelope fields that take part in the request signature, as the strings that were sent.
/// `timestamp` and `source_id` may arrive as JSON numbers; they are signed in their decimal form.
#[derive(Clone, Copy, Debug)]
pub struct SignedFields<'a> {
    pub app_key: &'a str,
    pub body: &'a str,
    pub format: &'a str,
    pub source_id: &'a str,
    pub timestamp: &'a str,
    pub v: &'a str,
}

/// The exact string that is hashed for a request signature; exposed so tests can compare it with
/// the string the platform notes print.
pub fn request_sign_string(app_secret: &str, fields: &SignedFields<'_>) -> String {
    let mut pairs = [
        ("app_key", fields.app_key),
        ("body", fields.body),
        ("format", fields.format),
        ("source_id", fields.source_id),
        ("timestamp", fields.timestamp),
        ("v", fields.v),
    ];
    // The keys happen to be listed in order already; sorting anyway keeps the rule visible and
    // safe against someone reordering the list above.
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(2 * app_secret.len() + 64 + fields.body.len());
    out.push_str(app_secret);
    for (key, value) in pairs {
        out.push_str(key);
        out.push_str(value);
    }
    out.push_str(app_secret);
    out
}

/// Upper-case hex MD5 request signature.
pub fn request_signature(app_secret: &str, fields: &SignedFields<'_>) -> String {
    hex::encode_upper(md5(request_sign_string(app_secret, fields).as_bytes()))
}

/// Whether `signature` is the request signature of `fields`. The comparison is exact: the
/// document says upper-case, and accepting lower-case here would hide an adapter that sends it.
pub fn verify_request_signature(
    app_secret: &str,
    fields: &SignedFields<'_>,
    signature: &str,
) -> bool {
    request_signature(app_secret, fields) == signature
}

/// Lower-case hex MD5 callback signature over `client_id`, `order_id`, `update_time`.
pub fn callback_signature(client_id: &str, order_id: &str, update_time: &str) -> String {
    let mut values = [client_id, order_id, update_time];
    // Sorted as strings, not numbers: "1653876860" sorts before "Cu…" and after "", whatever
    // their numeric values would say.
    values.sort_unstable();
    hex::encode(md5(values.concat().as_bytes()))
}

fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(
        app_key: &'a str,
        body: &'a str,
        source_id: &'a str,
        timestamp: &'a str,
    ) -> SignedFields<'a> {
        SignedFields {
            app_key,
            body,
            format: "json",
            source_id,
            timestamp,
            v: "1.0",
        }
    }

    #[test]
    fn request_vector_with_printed_string() {
        let f = fields(
            "123456",
            r#"{"order_id":"20170301000001"}"#,
            "73753",
            "1488363493",
        );
        assert_eq!(
            request_sign_string("abcdefg123", &f),
            r#"abcdefg123app_key123456body{"order_id":"20170301000001"}formatjsonsource_id73753timestamp1488363493v1.0abcdefg123"#
        );
        assert_eq!(
            request_signature("abcdefg123", &f),
            "71CEE2D6544277940D8C72979E71D0E1"
        );
        assert!(verify_request_signature(
            "abcdefg123",
            &f,
            "71CEE2D6544277940D8C72979E71D0E1"
        ));
        assert!(!verify_request_signature(
            "abcdefg123",
            &f,
            "71cee2d6544277940d8c72979e71d0e1"
        ));
    }

    #[test]
    fn request_vector_app_key_app_secret() {
        let f = fields(
            "app_key",
            r#"{"order_id":"20170301000001"}"#,
            "73753",
            "1488363493",
        );
        assert_eq!(
            request_signature("appSecret", &f),
            "B3C14758F4AF52AE8AA0D4CD1493B137"
        );
    }

    #[test]
    fn request_vector_empty_body() {
        let f = fields("dada_test_key", "", "73753", "1700000000");
        assert_eq!(
            request_signature("test_secret", &f),
            "253F84CD5E35E7A547280E553638537B"
        );
    }

    #[test]
    fn request_vector_empty_source_id_is_signed_as_key_only() {
        let f = fields(
            "dada_test_key",
            r#"{"mobile":"13800000000"}"#,
            "",
            "1700000000",
        );
        assert!(request_sign_string("test_secret", &f).contains("source_idtimestamp1700000000"));
        assert_eq!(
            request_signature("test_secret", &f),
            "3CC6A601C5680C7E178C85CA8C8B8BAA"
        );
    }

    #[test]
    fn request_vector_raw_utf8_body() {
        let f = fields(
            "dada_test_key",
            r#"{"order_id":"T1","cancel_reason_id":10000,"cancel_reason":"顾客取消"}"#,
            "73753",
            "1700000000",
        );
        assert_eq!(
            request_signature("test_secret", &f),
            "D3A2472936511FFC90836ED0B3C3942F"
        );
    }

    #[test]
    fn callback_vectors() {
        assert_eq!(
            callback_signature("", "12321", "1482220973"),
            "7a177ae4b1cf63d13261580e4f721cb9"
        );
        assert_eq!(
            callback_signature(
                "1357061741749469184",
                "Cu16538768403935339353",
                "1653876860"
            ),
            "2b3aa825562bcea9471fe860b3f8a8fa"
        );
        assert_eq!(
            callback_signature("", "ORDER-1", "1700000000123"),
            "0f31f9cc14c43cf8687b51bdff85f90e"
        );
    }

    #[test]
    fn callback_signature_ignores_argument_order() {
        assert_eq!(
            callback_signature(
                "1653876860",
                "1357061741749469184",
                "Cu16538768403935339353"
            ),
            "2b3aa825562bcea9471fe860b3f8a8fa"
        );
    }
}

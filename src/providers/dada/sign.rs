//! Dada's two signatures, and nothing else: the request signature every call carries and the
//! signature on the status callbacks Dada posts to us. Every vector `platforms/dada.md`
//! publishes is a test below, so a change that breaks the algorithm cannot go unnoticed — the
//! sandbox has its own implementation, and this one must agree with the published values, not
//! with it.

use md5::{Digest, Md5};

/// The envelope fields the request signature covers, as the exact strings that go on the wire.
/// `body` in particular must be the very string sent: Dada hashes what it received and never
/// re-serialises it.
#[derive(Clone, Copy, Debug)]
pub struct RequestFields<'a> {
    pub app_key: &'a str,
    pub body: &'a str,
    pub format: &'a str,
    pub source_id: &'a str,
    pub timestamp: &'a str,
    pub v: &'a str,
}

/// What is hashed: `secret` + the fields sorted by key as `key` + `value` + `secret`. An empty
/// `source_id` still contributes its key (the official demo's behaviour for merchant
/// registration).
fn request_plaintext(app_secret: &str, f: &RequestFields<'_>) -> String {
    let mut pairs = [
        ("v", f.v),
        ("timestamp", f.timestamp),
        ("source_id", f.source_id),
        ("format", f.format),
        ("body", f.body),
        ("app_key", f.app_key),
    ];
    // Sorted here rather than written in order, so the rule ("sorted by key") is what the code
    // says.
    pairs.sort_unstable_by_key(|(key, _)| *key);
    let mut text = String::with_capacity(app_secret.len() * 2 + f.body.len() + 80);
    text.push_str(app_secret);
    for (key, value) in pairs {
        text.push_str(key);
        text.push_str(value);
    }
    text.push_str(app_secret);
    text
}

/// The `signature` of a request: MD5 of the plaintext above, upper-case hex.
pub fn request_signature(app_secret: &str, fields: &RequestFields<'_>) -> String {
    md5_hex(request_plaintext(app_secret, fields).as_bytes(), true)
}

/// The `signature` of a status callback: the values of `client_id`, `order_id` and
/// `update_time` as received, sorted as strings (so `"1653876860"` sorts before `"Cu…"` and
/// `""` first), joined, MD5, lower-case hex. There is no secret in it: it proves the fields
/// were not changed, not who sent them.
pub fn callback_signature(client_id: &str, order_id: &str, update_time: &str) -> String {
    let mut values = [client_id, order_id, update_time];
    values.sort_unstable();
    md5_hex(values.concat().as_bytes(), false)
}

/// Whether `signature` is the callback signature of these values. Hex case is ignored: the
/// digest is the same either way, and the check protects integrity, not a secret.
pub fn verify_callback(
    client_id: &str,
    order_id: &str,
    update_time: &str,
    signature: &str,
) -> bool {
    callback_signature(client_id, order_id, update_time).eq_ignore_ascii_case(signature.trim())
}

fn md5_hex(bytes: &[u8], upper: bool) -> String {
    let digest = Md5::digest(bytes);
    if upper {
        hex::encode_upper(digest)
    } else {
        hex::encode(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(
        app_key: &'a str,
        body: &'a str,
        source_id: &'a str,
        timestamp: &'a str,
    ) -> RequestFields<'a> {
        RequestFields {
            app_key,
            body,
            format: "json",
            source_id,
            timestamp,
            v: "1.0",
        }
    }

    #[test]
    fn published_plaintext_and_signature() {
        let f = fields(
            "123456",
            r#"{"order_id":"20170301000001"}"#,
            "73753",
            "1488363493",
        );
        assert_eq!(
            request_plaintext("abcdefg123", &f),
            r#"abcdefg123app_key123456body{"order_id":"20170301000001"}formatjsonsource_id73753timestamp1488363493v1.0abcdefg123"#
        );
        assert_eq!(
            request_signature("abcdefg123", &f),
            "71CEE2D6544277940D8C72979E71D0E1"
        );
    }

    #[test]
    fn published_signature_with_other_key() {
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
    fn empty_body() {
        let f = fields("dada_test_key", "", "73753", "1700000000");
        assert_eq!(
            request_signature("test_secret", &f),
            "253F84CD5E35E7A547280E553638537B"
        );
    }

    #[test]
    fn empty_source_id_is_signed_as_its_key_alone() {
        let f = fields(
            "dada_test_key",
            r#"{"mobile":"13800000000"}"#,
            "",
            "1700000000",
        );
        assert!(request_plaintext("test_secret", &f).contains("source_idtimestamp"));
        assert_eq!(
            request_signature("test_secret", &f),
            "3CC6A601C5680C7E178C85CA8C8B8BAA"
        );
    }

    #[test]
    fn utf8_body_is_hashed_raw() {
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
    fn published_callback_signatures() {
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
    fn callback_values_sort_as_strings_whatever_order_they_come_in() {
        assert_eq!(
            callback_signature("12321", "", "1482220973"),
            callback_signature("", "12321", "1482220973")
        );
        assert!(verify_callback(
            "",
            "12321",
            "1482220973",
            "7A177AE4B1CF63D13261580E4F721CB9"
        ));
        assert!(!verify_callback(
            "",
            "12322",
            "1482220973",
            "7a177ae4b1cf63d13261580e4f721cb9"
        ));
    }
}

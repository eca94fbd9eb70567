//! WeChat's SHA-1 signatures, written from `platforms/wechat.md` alone.
//!
//! This is the sandbox's own implementation: the adapter in the main crate has its own, and the
//! two only ever meet on the wire. Every vector the platform notes publish is a unit test here.
//!
//! - **delivery_sign** (merchant → courier company, carried through WeChat):
//!   `SHA1(shopid + shop_order_id + AppSecret)` when the request has `shop_order_id`, else
//!   `SHA1(shopid + AppSecret)`, lower-case hex. `shopid` is the company's appkey.
//! - **signature** (WeChat → merchant, on the URL check and on every push):
//!   `SHA1` of `[Token, timestamp, nonce]` sorted as strings and joined with nothing.
//! - **msg_signature** (safe mode, both directions): the same over
//!   `[Token, timestamp, nonce, Encrypt]`.
//!
//! Comparisons are exact: the notes say lower-case hex, and accepting upper-case here would hide
//! an adapter that sends it.

use sha1::{Digest, Sha1};

/// `delivery_sign` for a request; `shop_order_id` is `None` when the request has no such field.
pub fn delivery_sign(shopid: &str, shop_order_id: Option<&str>, app_secret: &str) -> String {
    let mut text = String::with_capacity(shopid.len() + app_secret.len() + 64);
    text.push_str(shopid);
    if let Some(id) = shop_order_id {
        text.push_str(id);
    }
    text.push_str(app_secret);
    sha1_hex(text.as_bytes())
}

/// Whether `sign` is the `delivery_sign` of the request.
pub fn verify_delivery_sign(
    shopid: &str,
    shop_order_id: Option<&str>,
    app_secret: &str,
    sign: &str,
) -> bool {
    delivery_sign(shopid, shop_order_id, app_secret) == sign
}

/// `signature` of the URL check and of a push's query string.
pub fn signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sorted_sha1(&mut [token, timestamp, nonce])
}

/// `msg_signature` of a safe-mode push, and `MsgSignature` of its encrypted reply.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sorted_sha1(&mut [token, timestamp, nonce, encrypt])
}

fn sorted_sha1(parts: &mut [&str]) -> String {
    // Sorted as strings, byte by byte, as the documents' reference code does.
    parts.sort_unstable();
    sha1_hex(parts.concat().as_bytes())
}

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_sign_official_vector() {
        assert_eq!(
            delivery_sign(
                "test_shop_id",
                Some("test_shop_order_id"),
                "test_app_secrect"
            ),
            "a93d8d6bae9a9483c1b1d4e8670e7f6226ec94cb"
        );
        assert!(verify_delivery_sign(
            "test_shop_id",
            Some("test_shop_order_id"),
            "test_app_secrect",
            "a93d8d6bae9a9483c1b1d4e8670e7f6226ec94cb"
        ));
        assert!(!verify_delivery_sign(
            "test_shop_id",
            Some("test_shop_order_id"),
            "test_app_secrect",
            "A93D8D6BAE9A9483C1B1D4E8670E7F6226EC94CB"
        ));
    }

    #[test]
    fn delivery_sign_without_order_id() {
        assert_eq!(
            delivery_sign("test_shop_id", None, "test_app_secrect"),
            "9930e1dbf1665bba7e4a88059d872aad8194d21d"
        );
    }

    #[test]
    fn delivery_sign_with_the_secret_spelled_right_differs() {
        assert_eq!(
            delivery_sign(
                "test_shop_id",
                Some("test_shop_order_id"),
                "test_app_secret"
            ),
            "6702fe535e0f98d384fc2afc3b61d77c44d4eca5"
        );
    }

    #[test]
    fn url_check_signature_vector() {
        assert_eq!(
            signature("AAAAA", "1714036504", "1514711492"),
            "f464b24fc39322e44b38aa78f5edd27bd1441696"
        );
    }

    #[test]
    fn plain_post_signature_vector() {
        assert_eq!(
            signature("AAAAA", "1714037059", "486452656"),
            "899cf89e464efb63f54ddac96b0a0a235f53aa78"
        );
    }

    #[test]
    fn msg_signature_vectors() {
        let encrypt = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
        assert_eq!(
            msg_signature("AAAAA", "1714112445", "415670741", encrypt),
            "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
        );
        let reply = "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==";
        assert_eq!(
            msg_signature("AAAAA", "1713424427", "415670741", reply),
            "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
        );
    }

    #[test]
    fn argument_order_does_not_matter() {
        assert_eq!(
            signature("1514711492", "AAAAA", "1714036504"),
            "f464b24fc39322e44b38aa78f5edd27bd1441696"
        );
    }
}

//! WeChat's two kinds of signature, and nothing else:
//!
//! - `delivery_sign`, which every order call carries to prove to the delivery company that we
//!   hold its AppSecret: `SHA1(shopid + shop_order_id + AppSecret)`, or `SHA1(shopid +
//!   AppSecret)` when the request names no order; lower-case hex. `shopid` is the company's
//!   appkey, not any WeChat id.
//! - the message-push signatures WeChat puts on what it posts to us: the URL check's
//!   `signature = SHA1(sorted [Token, timestamp, nonce] joined)` and, in safe mode,
//!   `msg_signature = SHA1(sorted [Token, timestamp, nonce, Encrypt] joined)`.
//!
//! Every vector `platforms/wechat.md` publishes is a test below; the sandbox has its own
//! implementation, and this one must agree with the published values, not with it.

use sha1::{Digest, Sha1};

/// `delivery_sign` of a request; `shop_order_id` is `None` for requests without one.
pub fn delivery_sign(shopid: &str, shop_order_id: Option<&str>, app_secret: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(shopid.as_bytes());
    if let Some(id) = shop_order_id {
        hasher.update(id.as_bytes());
    }
    hasher.update(app_secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// SHA1 of the parts sorted as byte strings (WeChat's "字典序") and joined without separator.
pub fn sorted_sha1(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut hasher = Sha1::new();
    for part in sorted {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The URL check's (and a plain-mode push's) `signature`.
pub fn url_signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sorted_sha1(&[token, timestamp, nonce])
}

/// A safe-mode push's (and our encrypted reply's) `msg_signature` over the `Encrypt` field.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sorted_sha1(&[token, timestamp, nonce, encrypt])
}

/// Whether `received` is `expected` (hex, case ignored), compared in constant time so a
/// forger learns nothing from how long a refusal takes.
pub fn signature_matches(expected: &str, received: &str) -> bool {
    let received = received.trim();
    if expected.len() != received.len() {
        return false;
    }
    expected
        .bytes()
        .zip(received.bytes())
        .fold(0u8, |acc, (a, b)| {
            acc | (a.to_ascii_lowercase() ^ b.to_ascii_lowercase())
        })
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_delivery_sign_with_order() {
        // The official example, with its "secrect" spelling.
        assert_eq!(
            delivery_sign(
                "test_shop_id",
                Some("test_shop_order_id"),
                "test_app_secrect"
            ),
            "a93d8d6bae9a9483c1b1d4e8670e7f6226ec94cb"
        );
    }

    #[test]
    fn delivery_sign_without_order() {
        assert_eq!(
            delivery_sign("test_shop_id", None, "test_app_secrect"),
            "9930e1dbf1665bba7e4a88059d872aad8194d21d"
        );
    }

    #[test]
    fn delivery_sign_with_the_other_spelling_of_the_secret() {
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
    fn official_url_check() {
        assert_eq!(
            url_signature("AAAAA", "1714036504", "1514711492"),
            "f464b24fc39322e44b38aa78f5edd27bd1441696"
        );
    }

    #[test]
    fn official_plain_push() {
        assert_eq!(
            url_signature("AAAAA", "1714037059", "486452656"),
            "899cf89e464efb63f54ddac96b0a0a235f53aa78"
        );
    }

    #[test]
    fn official_safe_mode_push_and_reply() {
        let encrypt = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
        assert_eq!(
            msg_signature("AAAAA", "1714112445", "415670741", encrypt),
            "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
        );
        assert_eq!(
            msg_signature(
                "AAAAA",
                "1713424427",
                "415670741",
                "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="
            ),
            "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
        );
    }

    #[test]
    fn order_of_the_parts_does_not_matter() {
        assert_eq!(
            sorted_sha1(&["1514711492", "AAAAA", "1714036504"]),
            url_signature("AAAAA", "1714036504", "1514711492")
        );
    }

    #[test]
    fn comparison() {
        let s = "f464b24fc39322e44b38aa78f5edd27bd1441696";
        assert!(signature_matches(s, s));
        assert!(signature_matches(s, &s.to_uppercase()));
        assert!(signature_matches(s, &format!(" {s}\n")));
        assert!(!signature_matches(
            s,
            "f464b24fc39322e44b38aa78f5edd27bd1441697"
        ));
        assert!(!signature_matches(s, ""));
        assert!(!signature_matches(s, &s[1..]));
    }
}

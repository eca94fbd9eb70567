//! WeChat's safe-mode message encryption, written from `platforms/wechat.md` alone.
//!
//! Pushes in safe mode carry `Encrypt`, and the merchant must answer with an encrypted reply;
//! both use the same scheme, implemented here on its own so the sandbox can check the adapter's
//! replies without trusting the adapter's code:
//!
//! - AES key: Base64 of `EncodingAESKey + "="` (43 characters in, 32 bytes out);
//! - AES-256-CBC, IV = the first 16 bytes of the key, no cipher-level padding;
//! - plaintext: 16 random bytes, the message length as 4 bytes big-endian, the message, the
//!   appid; PKCS#7-padded to a multiple of **32** bytes (not AES's 16: WeChat's reference code
//!   pads to 32, so 1–32 bytes of padding);
//! - `Encrypt` is the Base64 of the ciphertext.
//!
//! Base64 is read leniently on the non-data bits (trailing bits, padding), since WeChat's own
//! examples are produced by a variety of encoders; the decoded bytes are checked strictly.

use aes::Aes256;
use base64::{
    Engine as _, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::STANDARD},
};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};

/// WeChat pads to this block size, twice AES's.
const PAD_BLOCK: usize = 32;
/// Bytes of the random prefix.
const RANDOM_LEN: usize = 16;
/// Characters of an EncodingAESKey.
const KEY_CHARS: usize = 43;

/// What can go wrong reading a key or an `Encrypt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 Base64 characters decoding to 32 bytes.
    BadKey,
    /// `Encrypt` is not Base64.
    BadBase64,
    /// The ciphertext is not a whole number of AES blocks, or too short to hold a message.
    BadLength,
    /// The padding byte is outside 1–32 or longer than the plaintext.
    BadPadding,
    /// The length field points beyond the plaintext, or the appid is not UTF-8.
    BadFrame,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CryptoError::BadKey => "EncodingAESKey must be 43 Base64 characters",
            CryptoError::BadBase64 => "Encrypt is not Base64",
            CryptoError::BadLength => "ciphertext length is not a multiple of 16 bytes",
            CryptoError::BadPadding => "bad PKCS#7 padding",
            CryptoError::BadFrame => "bad plaintext frame (length or appid)",
        })
    }
}

impl std::error::Error for CryptoError {}

/// A decrypted message with the parts of its frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decrypted {
    pub random: [u8; RANDOM_LEN],
    pub message: Vec<u8>,
    pub appid: String,
}

/// The AES key of one EncodingAESKey.
#[derive(Clone)]
pub struct MessageCrypto {
    key: [u8; 32],
}

impl std::fmt::Debug for MessageCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret; never print it.
        f.write_str("MessageCrypto { .. }")
    }
}

fn lenient() -> GeneralPurpose {
    GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

impl MessageCrypto {
    /// Reads an EncodingAESKey (43 characters, without the `=` WeChat leaves off).
    pub fn new(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != KEY_CHARS {
            return Err(CryptoError::BadKey);
        }
        let bytes = lenient()
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(MessageCrypto { key })
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// `Encrypt` for `message` with the given random prefix.
    pub fn encrypt(&self, random: &[u8; RANDOM_LEN], message: &[u8], appid: &str) -> String {
        let mut plain = Vec::with_capacity(RANDOM_LEN + 4 + message.len() + appid.len() + 32);
        plain.extend_from_slice(random);
        // Messages beyond 4 GiB cannot be framed; nothing the sandbox sends comes close.
        let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(message);
        plain.extend_from_slice(appid.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        // `pad` is 1..=32, so it fits a byte.
        plain.resize(plain.len() + pad, pad as u8);
        let len = plain.len();
        let cipher = cbc::Encryptor::<Aes256>::new(&self.key.into(), &self.iv().into());
        // The buffer is a whole number of blocks, which is all NoPadding asks for.
        match cipher.encrypt_padded_mut::<NoPadding>(&mut plain, len) {
            Ok(ciphertext) => STANDARD.encode(ciphertext),
            Err(_) => String::new(),
        }
    }

    /// Decrypts an `Encrypt` and splits its frame.
    pub fn decrypt(&self, encrypt: &str) -> Result<Decrypted, CryptoError> {
        let mut bytes = lenient()
            .decode(encrypt.trim())
            .map_err(|_| CryptoError::BadBase64)?;
        if bytes.is_empty() || bytes.len() % 16 != 0 {
            return Err(CryptoError::BadLength);
        }
        let cipher = cbc::Decryptor::<Aes256>::new(&self.key.into(), &self.iv().into());
        let plain = cipher
            .decrypt_padded_mut::<NoPadding>(&mut bytes)
            .map_err(|_| CryptoError::BadLength)?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::BadLength)?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CryptoError::BadPadding);
        }
        let body = &plain[..plain.len() - pad];
        if body.len() < RANDOM_LEN + 4 {
            return Err(CryptoError::BadFrame);
        }
        let mut random = [0u8; RANDOM_LEN];
        random.copy_from_slice(&body[..RANDOM_LEN]);
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&body[RANDOM_LEN..RANDOM_LEN + 4]);
        let len =
            usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| CryptoError::BadFrame)?;
        let rest = &body[RANDOM_LEN + 4..];
        if len > rest.len() {
            return Err(CryptoError::BadFrame);
        }
        let (message, appid) = rest.split_at(len);
        let appid = String::from_utf8(appid.to_vec()).map_err(|_| CryptoError::BadFrame)?;
        Ok(Decrypted {
            random,
            message: message.to_vec(),
            appid,
        })
    }
}

/// 16 random bytes for a frame. WeChat's reference code uses printable characters; so does the
/// sandbox, which keeps captured frames readable.
pub fn random_prefix() -> [u8; RANDOM_LEN] {
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = [0u8; RANDOM_LEN];
    for b in &mut out {
        *b = CHARS[rand::random_range(0..CHARS.len())];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::sign::msg_signature;

    const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const APPID: &str = "wxba5fad812f8e6fb9";
    const OFFICIAL_ENCRYPT: &str = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
    const OFFICIAL_MESSAGE: &str = r#"{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}"#;
    const REPLY_ENCRYPT: &str =
        "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==";

    fn crypto() -> MessageCrypto {
        MessageCrypto::new(KEY).unwrap_or_else(|e| panic!("official key rejected: {e}"))
    }

    #[test]
    fn key_of_43_a_is_all_zero() {
        assert_eq!(crypto().key, [0u8; 32]);
        assert_eq!(MessageCrypto::new("AAAA").err(), Some(CryptoError::BadKey));
        assert_eq!(
            MessageCrypto::new(&"!".repeat(43)).err(),
            Some(CryptoError::BadKey)
        );
        assert!(MessageCrypto::new("b3JkZXJodWItd2VjaGF0LXNhbmRib3gtYWVzLWtleSE").is_ok());
    }

    #[test]
    fn decrypts_the_official_push() {
        let decrypted = crypto()
            .decrypt(OFFICIAL_ENCRYPT)
            .unwrap_or_else(|e| panic!("official Encrypt rejected: {e}"));
        assert_eq!(&decrypted.random, b"a8eedb185eb2fecf");
        assert_eq!(decrypted.message.len(), 167);
        assert_eq!(decrypted.message, OFFICIAL_MESSAGE.as_bytes());
        assert_eq!(decrypted.appid, APPID);
        assert_eq!(
            msg_signature("AAAAA", "1714112445", "415670741", OFFICIAL_ENCRYPT),
            "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
        );
    }

    #[test]
    fn encrypts_the_official_reply_exactly() {
        let encrypt = crypto().encrypt(b"707722b803182950", br#"{"demo_resp":"good luck"}"#, APPID);
        assert_eq!(encrypt, REPLY_ENCRYPT);
        assert_eq!(
            msg_signature("AAAAA", "1713424427", "415670741", &encrypt),
            "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
        );
    }

    #[test]
    fn reencrypting_the_official_push_gives_it_back() {
        let encrypt = crypto().encrypt(b"a8eedb185eb2fecf", OFFICIAL_MESSAGE.as_bytes(), APPID);
        assert_eq!(encrypt, OFFICIAL_ENCRYPT);
    }

    #[test]
    fn round_trip_pads_to_32() {
        let c = crypto();
        for len in [0usize, 1, 11, 12, 13, 44, 100] {
            let message = vec![b'x'; len];
            let encrypt = c.encrypt(&random_prefix(), &message, "wx123");
            let raw = STANDARD.decode(&encrypt).unwrap_or_default();
            assert_eq!(raw.len() % PAD_BLOCK, 0, "len {len}");
            let back = c.decrypt(&encrypt).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back.message, message);
            assert_eq!(back.appid, "wx123");
        }
    }

    #[test]
    fn garbage_is_refused_not_panicked() {
        let c = crypto();
        assert_eq!(c.decrypt("%%%").err(), Some(CryptoError::BadBase64));
        assert_eq!(c.decrypt("AAAA").err(), Some(CryptoError::BadLength));
        assert_eq!(c.decrypt("").err(), Some(CryptoError::BadLength));
        // Sixteen zero bytes decrypt to noise whose last byte is almost surely no valid frame.
        let noise = STANDARD.encode([0u8; 32]);
        assert!(c.decrypt(&noise).is_err());
    }
}

//! The message-push cipher of WeChat's safe mode (安全模式), which the instant-delivery pushes
//! require: AES-256-CBC with the key `Base64(EncodingAESKey + "=")` (32 bytes) and the key's
//! first 16 bytes as IV, over `16 random bytes ‖ 4-byte big-endian length ‖ message ‖ appid`,
//! padded PKCS#7-style to a multiple of **32** bytes (not the cipher's 16), then Base64.
//!
//! Decryption is strict — whole blocks, padding 1..=32 with every pad byte equal, a length that
//! fits — and never panics on what it is given: every failure is a [`CryptoError`]. Whether the
//! appid that comes out is ours is the caller's check.

use aes::Aes256;
use base64::{
    Engine as _, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::STANDARD},
};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};

/// WeChat pads to multiples of this, whatever AES's own block size.
const PAD_BLOCK: usize = 32;
/// The random prefix and the length field.
const HEADER: usize = 16 + 4;
/// Length of an EncodingAESKey.
pub const ENCODING_AES_KEY_LEN: usize = 43;

/// An EncodingAESKey is 43 Base64 characters whose last one carries 2 spare bits that WeChat
/// does not zero; a strict decoder would refuse about three keys in four.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 Base64 characters decoding to 32 bytes.
    #[error("EncodingAESKey is not 43 Base64 characters")]
    BadKey,
    #[error("ciphertext is not Base64")]
    NotBase64,
    #[error("ciphertext is not a whole number of AES blocks")]
    BadLength,
    #[error("padding is not PKCS#7 to 32 bytes")]
    BadPadding,
    /// The plaintext's length field points outside it.
    #[error("message length does not fit the plaintext")]
    BadMessageLength,
    #[error("plaintext is not UTF-8")]
    NotUtf8,
    /// The message does not fit the 4-byte length field.
    #[error("message too long to encrypt")]
    TooLong,
}

/// The AES key of an EncodingAESKey.
#[derive(Clone)]
pub struct AesKey([u8; 32]);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey([REDACTED])")
    }
}

impl AesKey {
    /// `Base64(EncodingAESKey + "=")`.
    pub fn from_encoding_key(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        let key = encoding_aes_key.trim();
        if key.len() != ENCODING_AES_KEY_LEN {
            return Err(CryptoError::BadKey);
        }
        let bytes = KEY_ENGINE
            .decode(format!("{key}="))
            .map_err(|_| CryptoError::BadKey)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map(Self)
            .map_err(|_| CryptoError::BadKey)
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

/// Decrypts a Base64 `Encrypt` field into the message and the appid that follows it.
pub fn decrypt(encrypt_b64: &str, key: &AesKey) -> Result<(String, String), CryptoError> {
    let mut buf = STANDARD
        .decode(encrypt_b64.trim())
        .map_err(|_| CryptoError::NotBase64)?;
    // WeChat always pads to 32; anything else was not made by it.
    if buf.is_empty() || buf.len() % PAD_BLOCK != 0 {
        return Err(CryptoError::BadLength);
    }
    let plain = cbc::Decryptor::<Aes256>::new(&key.0.into(), &key.iv().into())
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .map_err(|_| CryptoError::BadLength)?;
    let pad = usize::from(*plain.last().ok_or(CryptoError::BadLength)?);
    if !(1..=PAD_BLOCK).contains(&pad) || pad > plain.len() {
        return Err(CryptoError::BadPadding);
    }
    let (content, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|b| usize::from(*b) != pad) {
        return Err(CryptoError::BadPadding);
    }
    let length_field = content
        .get(16..HEADER)
        .ok_or(CryptoError::BadMessageLength)?;
    let mut length = [0u8; 4];
    length.copy_from_slice(length_field);
    let msg_len =
        usize::try_from(u32::from_be_bytes(length)).map_err(|_| CryptoError::BadMessageLength)?;
    let msg_end = HEADER
        .checked_add(msg_len)
        .filter(|end| *end <= content.len())
        .ok_or(CryptoError::BadMessageLength)?;
    let message =
        std::str::from_utf8(&content[HEADER..msg_end]).map_err(|_| CryptoError::NotUtf8)?;
    let appid = std::str::from_utf8(&content[msg_end..]).map_err(|_| CryptoError::NotUtf8)?;
    Ok((message.to_owned(), appid.to_owned()))
}

/// Encrypts `msg` for `appid` with the given 16-byte random prefix; Base64 out.
pub fn encrypt(
    msg: &str,
    appid: &str,
    key: &AesKey,
    random16: &[u8; 16],
) -> Result<String, CryptoError> {
    let msg_len = u32::try_from(msg.len()).map_err(|_| CryptoError::TooLong)?;
    let content_len = HEADER + msg.len() + appid.len();
    // 1..=32: a content that is already a multiple of 32 gets a whole block of padding.
    let pad = PAD_BLOCK - content_len % PAD_BLOCK;
    let mut buf = Vec::with_capacity(content_len + pad);
    buf.extend_from_slice(random16);
    buf.extend_from_slice(&msg_len.to_be_bytes());
    buf.extend_from_slice(msg.as_bytes());
    buf.extend_from_slice(appid.as_bytes());
    // `pad` is at most 32, so it fits a byte.
    buf.resize(content_len + pad, pad as u8);
    let total = buf.len();
    let cipher = cbc::Encryptor::<Aes256>::new(&key.0.into(), &key.iv().into())
        .encrypt_padded_mut::<NoPadding>(&mut buf, total)
        .map_err(|_| CryptoError::BadLength)?;
    Ok(STANDARD.encode(cipher))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICIAL_ENCRYPT: &str = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=";
    const OFFICIAL_MESSAGE: &str = r#"{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}"#;
    const REPLY_ENCRYPT: &str =
        "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==";

    fn official_key() -> AesKey {
        AesKey::from_encoding_key(&"A".repeat(43)).unwrap()
    }

    #[test]
    fn official_vector_decrypts() {
        let (msg, appid) = decrypt(OFFICIAL_ENCRYPT, &official_key()).unwrap();
        assert_eq!(msg, OFFICIAL_MESSAGE);
        assert_eq!(msg.len(), 167);
        assert_eq!(appid, "wxba5fad812f8e6fb9");
    }

    #[test]
    fn official_vector_reencrypts_with_its_random_prefix() {
        let out = encrypt(
            OFFICIAL_MESSAGE,
            "wxba5fad812f8e6fb9",
            &official_key(),
            b"a8eedb185eb2fecf",
        )
        .unwrap();
        assert_eq!(out, OFFICIAL_ENCRYPT);
    }

    #[test]
    fn reply_vector_encrypts() {
        let out = encrypt(
            r#"{"demo_resp":"good luck"}"#,
            "wxba5fad812f8e6fb9",
            &official_key(),
            b"707722b803182950",
        )
        .unwrap();
        assert_eq!(out, REPLY_ENCRYPT);
        let (msg, appid) = decrypt(&out, &official_key()).unwrap();
        assert_eq!(msg, r#"{"demo_resp":"good luck"}"#);
        assert_eq!(appid, "wxba5fad812f8e6fb9");
    }

    #[test]
    fn round_trip_with_chinese_and_block_sized_content() {
        let key = AesKey::from_encoding_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        for msg in [
            "",
            "配送中",
            &"x".repeat(32 - HEADER - 2),
            &"y".repeat(1000),
        ] {
            let out = encrypt(msg, "wx", &key, &[7u8; 16]).unwrap();
            assert_eq!(
                decrypt(&out, &key).unwrap(),
                (msg.to_owned(), "wx".to_owned())
            );
        }
    }

    #[test]
    fn keys_with_spare_bits_are_accepted_and_bad_keys_refused() {
        // The last character 'G' carries non-zero spare bits.
        assert!(AesKey::from_encoding_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").is_ok());
        assert_eq!(
            AesKey::from_encoding_key(&"A".repeat(42)).err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(
            AesKey::from_encoding_key(&"A".repeat(44)).err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(
            AesKey::from_encoding_key(&format!("{}!", "A".repeat(42))).err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(format!("{:?}", official_key()), "AesKey([REDACTED])");
    }

    #[test]
    fn tampered_ciphertext_is_refused() {
        let key = official_key();
        // Flip a byte of the last block: its padding no longer reads.
        let mut raw = STANDARD.decode(OFFICIAL_ENCRYPT).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 0x01;
        assert!(decrypt(&STANDARD.encode(&raw), &key).is_err());
        // Flip a byte of the first block: the random prefix and length garble.
        let mut raw = STANDARD.decode(OFFICIAL_ENCRYPT).unwrap();
        raw[20] ^= 0x80;
        let garbled = decrypt(&STANDARD.encode(&raw), &key);
        assert_ne!(
            garbled,
            Ok((OFFICIAL_MESSAGE.to_owned(), "wxba5fad812f8e6fb9".to_owned()))
        );
        // Cut short by one AES block: no longer a multiple of 32.
        assert_eq!(
            decrypt(&STANDARD.encode(&raw[..raw.len() - 16]), &key),
            Err(CryptoError::BadLength)
        );
        assert_eq!(decrypt("", &key), Err(CryptoError::BadLength));
        assert_eq!(decrypt("not base64!", &key), Err(CryptoError::NotBase64));
    }

    #[test]
    fn wrong_key_is_refused() {
        let other = AesKey::from_encoding_key(&"B".repeat(43)).unwrap();
        assert!(decrypt(OFFICIAL_ENCRYPT, &other).is_err());
    }

    /// Encrypts raw plaintext blocks with the official key, to build broken plaintexts.
    fn raw_encrypt(plain: &[u8]) -> String {
        let key = official_key();
        let mut buf = plain.to_vec();
        let n = buf.len();
        let out = cbc::Encryptor::<Aes256>::new(&key.0.into(), &key.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, n)
            .unwrap()
            .to_vec();
        STANDARD.encode(out)
    }

    #[test]
    fn bad_padding_and_lengths_are_refused() {
        let key = official_key();
        // Pad byte 0, and pad byte 33: both outside 1..=32.
        let mut zero = vec![b'r'; 64];
        zero[63] = 0;
        assert_eq!(
            decrypt(&raw_encrypt(&zero), &key),
            Err(CryptoError::BadPadding)
        );
        let mut big = vec![b'r'; 64];
        big[63] = 33;
        assert_eq!(
            decrypt(&raw_encrypt(&big), &key),
            Err(CryptoError::BadPadding)
        );
        // Pad 4, but the pad bytes are not all 4.
        let mut uneven = vec![0u8; 32];
        uneven[28..].copy_from_slice(&[4, 3, 4, 4]);
        assert_eq!(
            decrypt(&raw_encrypt(&uneven), &key),
            Err(CryptoError::BadPadding)
        );
        // A length field larger than the content.
        let mut long = vec![0u8; 32];
        long[16..20].copy_from_slice(&1000u32.to_be_bytes());
        long[31] = 1;
        assert_eq!(
            decrypt(&raw_encrypt(&long), &key),
            Err(CryptoError::BadMessageLength)
        );
        // A length field that overflows any addition.
        let mut huge = vec![0u8; 32];
        huge[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        huge[31] = 1;
        assert_eq!(
            decrypt(&raw_encrypt(&huge), &key),
            Err(CryptoError::BadMessageLength)
        );
        // Too short for the header once unpadded.
        let mut short = vec![16u8; 32];
        short[..16].copy_from_slice(&[1u8; 16]);
        assert_eq!(
            decrypt(&raw_encrypt(&short), &key),
            Err(CryptoError::BadMessageLength)
        );
        // A whole block of padding is fine: 32 × 32 after a 32-byte content.
        let mut whole = vec![0u8; 64];
        whole[16..20].copy_from_slice(&12u32.to_be_bytes());
        whole[20..32].copy_from_slice(b"hello world!");
        whole[32..].fill(32);
        assert_eq!(
            decrypt(&raw_encrypt(&whole), &key),
            Ok(("hello world!".to_owned(), String::new()))
        );
    }
}

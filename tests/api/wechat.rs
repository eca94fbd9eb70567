//! WeChat instant delivery over HTTP (written next).

//! Dada deliveries over HTTP (written next).

//! Dada platform rules over HTTP (written next).

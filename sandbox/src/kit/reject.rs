//! A platform refusal: a code from the platform's table and the message the caller sees.
//!
//! The code table, its messages and the envelope the refusal is answered in belong to each
//! platform ([`CodeTable`]); the struct and its constructors are the same everywhere, so they
//! live here once.

use std::{fmt, marker::PhantomData};

/// A platform's refusal codes: the message it gives for each.
pub trait CodeTable {
    /// The code's usual message, in the platform's wording.
    fn default_msg(code: i32) -> &'static str;
}

/// A refusal of platform `T`: the code and the message the caller sees.
pub struct Reject<T> {
    pub code: i32,
    pub msg: String,
    table: PhantomData<fn() -> T>,
}

impl<T: CodeTable> Reject<T> {
    /// A refusal with the code's usual message.
    pub fn of(code: i32) -> Self {
        Self::with(code, T::default_msg(code))
    }
}

impl<T> Reject<T> {
    /// A refusal with a message naming what was wrong.
    pub fn with(code: i32, msg: impl Into<String>) -> Self {
        Reject {
            code,
            msg: msg.into(),
            table: PhantomData,
        }
    }
}

// Written out rather than derived: a derive would ask the marker type for the same traits.
impl<T> Clone for Reject<T> {
    fn clone(&self) -> Self {
        Self::with(self.code, self.msg.clone())
    }
}

impl<T> fmt::Debug for Reject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reject")
            .field("code", &self.code)
            .field("msg", &self.msg)
            .finish()
    }
}

impl<T> PartialEq for Reject<T> {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.msg == other.msg
    }
}

impl<T> Eq for Reject<T> {}

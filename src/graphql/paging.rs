//! Relay cursor paging: the `first`/`after`/`last`/`before` arguments of a connection read
//! into one window, the page size bounds, and what a page costs in the complexity budget.

use async_graphql::{Context, Result, connection::CursorType};

use super::{MaxPageSize, errors::invalid};

/// The page size when neither `first` nor `last` is given.
const DEFAULT_PAGE: usize = 20;

/// Which end of the list (narrowed by the cursors) a page is taken from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Take {
    /// `first`: the items right after `after` (or from the list's start).
    First,
    /// `last`: the items right before `before` (or up to the list's end).
    Last,
}

/// A connection's paging arguments, checked: the items strictly between `after` and
/// `before`, `n` of them from one end.
pub(super) struct Window<C> {
    pub after: Option<C>,
    pub before: Option<C>,
    pub take: Take,
    pub n: usize,
}

impl<C> Window<C> {
    /// `pageInfo` of a page taken from this window: `more` says whether items lie beyond the
    /// end the page was taken from; the other side has items when its cursor was given (the
    /// cursor's own item is there), as Relay allows when it cannot be known cheaply.
    pub fn page_info(&self, more: bool) -> (bool, bool) {
        match self.take {
            Take::First => (self.after.is_some(), more),
            Take::Last => (more, self.before.is_some()),
        }
    }
}

/// Reads and checks a connection's paging arguments: at most one of `first` and `last`,
/// each between 1 and the configured maximum; cursors of this list.
pub(super) fn window<C: CursorType>(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<Window<C>> {
    let MaxPageSize(max) = *ctx.data::<MaxPageSize>()?;
    let size = |name: &str, n: i32| match usize::try_from(n) {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(invalid(format!("{name} must be between 1 and {max}"))),
    };
    let (take, n) = match (first, last) {
        (Some(_), Some(_)) => return Err(invalid("give first or last, not both")),
        (Some(n), None) => (Take::First, size("first", n)?),
        (None, Some(n)) => (Take::Last, size("last", n)?),
        (None, None) => (Take::First, DEFAULT_PAGE.min(max)),
    };
    let cursor = |name: &str, c: Option<String>| match c {
        Some(c) => C::decode_cursor(&c)
            .map(Some)
            .map_err(|_| invalid(format!("{name} is not a cursor of this list"))),
        None => Ok(None),
    };
    Ok(Window {
        after: cursor("after", after)?,
        before: cursor("before", before)?,
        take,
        n,
    })
}

/// A page's cost: what one item costs, times the items asked for (`first: 100` of a costly
/// field costs 100 times it). An out-of-range size is costed at its bound and then refused
/// by [`window`].
pub(super) fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let asked = first.max(last).unwrap_or(DEFAULT_PAGE as i32);
    let items = usize::try_from(asked.clamp(1, 1_000)).unwrap_or(DEFAULT_PAGE);
    items.saturating_mul(child_complexity).max(1)
}

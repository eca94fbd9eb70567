//! The per-request budget of fields that call a platform (`courierPosition`, `trackUrl`).
//! Complexity already weighs them; this caps the calls themselves, so that no request (a page
//! of 100 orders, or aliases of one field) makes more than `limits.platform_calls_per_request`
//! calls to a platform's quota-limited API. Past it, such a field answers
//! `PLATFORM_CALL_BUDGET` beside the rest of the data.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use async_graphql::{Context, ErrorExtensions};

use super::errors::codes;

/// What is left of one request's budget (request data, added by [`grant`]).
pub struct Remaining {
    left: AtomicU32,
    of: u32,
}

/// A fresh budget of `per_request` platform calls for one request.
pub fn grant(per_request: u32) -> Arc<Remaining> {
    Arc::new(Remaining {
        left: AtomicU32::new(per_request),
        of: per_request,
    })
}

/// Takes one platform call from the request's budget, or refuses the field.
pub fn platform_call(ctx: &Context<'_>) -> async_graphql::Result<()> {
    let Some(budget) = ctx.data_opt::<Arc<Remaining>>() else {
        return Ok(());
    };
    let took = budget
        .left
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    match took {
        Ok(_) => Ok(()),
        Err(_) => {
            metrics::counter!("orderhub_platform_call_budget_refusals_total").increment(1);
            Err(async_graphql::Error::new(format!(
                "this request already made its {} platform calls (limits.platform_calls_per_request); ask for fewer orders' courierPosition/trackUrl at once",
                budget.of
            ))
            .extend_with(|_, ext| ext.set("code", codes::PLATFORM_CALL_BUDGET)))
        }
    }
}

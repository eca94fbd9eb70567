//! Deliveries through courier networks (Dada, WeChat): the delivery side of `Order`, quotes,
//! our stores and the merchant account, and the mutations that dispatch and manage
//! deliveries. Same conventions as the rest: one `input`, a payload with `userErrors`, every
//! platform refusal kept with its own code in `platformCode`.

mod inputs;
mod mutation;
mod objects;
mod plan;
mod policy;
mod query;

pub use self::{
    inputs::*,
    mutation::DeliveryMutation,
    objects::*,
    plan::{DispatchMode, DispatchPlan},
    policy::{PolicyMutation, PolicyQuery},
    query::DeliveryQuery,
};

//! sea-orm entities of orderhub. They mirror the tables in `migration/` and nothing else:
//! the public GraphQL types live in the app crate, so the database can change without
//! changing the API.

pub mod api_key;
pub mod audit_log;
pub mod category;
pub mod delivery_quote;
pub mod dispatch_plan;
pub mod dispatch_policy;
pub mod idempotency_key;
pub mod inbound_callback;
pub mod lease;
pub mod order_event;
pub mod order_item;
pub mod orders;
pub mod outbox;
pub mod price;
pub mod shop;
pub mod technician;

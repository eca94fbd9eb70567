//! Access at the GraphQL layer: the scope guard every field that reads or changes anything
//! carries, the shop check of restricted keys, the admin fields (keys, audit log), and the
//! extension that writes every mutation to the audit log.

use std::sync::{Arc, Mutex};

use async_graphql::{
    Context, Enum, ErrorExtensions, Guard, ID, InputObject, Object, Result, ServerResult,
    SimpleObject, Value,
    extensions::{ExtensionContext, NextResolve, ResolveInfo},
};
use chrono::{DateTime, Utc};

use super::{
    errors::{UserError, codes},
    ids::{self, Kind},
    resolve::{all, answer, bad_id, services, settle},
};
use crate::access::{self, AccessService, Caller, Outcome, Scope};

/// What a key may do (see the README's access section). `ADMIN` holds every other scope.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "crate::access::Scope", name = "Scope")]
pub enum ScopeGql {
    /// Providers, categories, shops and prices.
    CatalogRead,
    /// Orders, their timelines and the order stream.
    OrdersRead,
    /// Placing and cancelling orders.
    OrdersWrite,
    /// Courier dispatch: quotes, dispatch, tips, courier actions.
    Dispatch,
    /// Working orders pushed to us (58 Daojia).
    Inbound,
    /// Keys, the audit log, bound accounts, merchant and store registration, outbox retry.
    Admin,
}

/// The caller of this request (set by the HTTP layer for every request and socket).
pub(super) fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Caller> {
    ctx.data_opt::<Caller>()
        .ok_or_else(|| unauthenticated("an API key is required"))
}

pub fn unauthenticated(message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", codes::UNAUTHENTICATED))
}

pub fn forbidden(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message.into())
        .extend_with(|_, ext| ext.set("code", codes::FORBIDDEN))
}

/// The guard of a field: the caller must hold the scope.
pub(super) struct Need(pub Scope);

impl Guard for Need {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        note_target(ctx);
        let caller = caller(ctx)?;
        if caller.allows(self.0) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "this key lacks the {} scope",
                async_graphql::InputType::to_value(&ScopeGql::from(self.0))
            )))
        }
    }
}

/// Refuses a shop (or an order of a shop) the caller's key is not restricted to; the same
/// answer as for a shop that does not exist would leak its existence, so it is `FORBIDDEN`.
pub(super) fn check_shop(ctx: &Context<'_>, shop_id: Option<i64>) -> Result<()> {
    if caller(ctx)?.sees_shop(shop_id) {
        Ok(())
    } else {
        Err(forbidden("this key is restricted to other shops"))
    }
}

/// Refuses an order outside the caller's shops (`FORBIDDEN`); an unknown order passes, for
/// the service to answer as it always does.
pub(super) async fn check_order(ctx: &Context<'_>, order_id: i64) -> Result<()> {
    check_shop_of(ctx, async |s: &super::Services| {
        s.orders.get(order_id).await.map(|o| o.map(|o| o.shop_id))
    })
    .await
}

/// Refuses a quote of a shop outside the caller's shops.
pub(super) async fn check_quote(ctx: &Context<'_>, quote_id: i64) -> Result<()> {
    check_shop_of(ctx, async |s: &super::Services| {
        s.orders
            .quote(quote_id)
            .await
            .map(|q| q.map(|q| Some(q.shop_id)))
    })
    .await
}

/// The shop check of something the caller names by id: its shop is looked up (`shop_of`,
/// None when it does not exist) only for a key restricted to some shops.
async fn check_shop_of<E: std::fmt::Display>(
    ctx: &Context<'_>,
    shop_of: impl AsyncFnOnce(&super::Services) -> Result<Option<Option<i64>>, E>,
) -> Result<()> {
    if caller(ctx)?.shops.is_none() {
        return Ok(());
    }
    match shop_of(services(ctx)?)
        .await
        .map_err(super::errors::internal)?
    {
        Some(shop_id) => check_shop(ctx, shop_id),
        None => Ok(()),
    }
}

/// An API key as admins see it; never its secret.
#[derive(SimpleObject)]
pub struct ApiKey {
    /// The key's global id (what `revokeApiKey` takes).
    #[graphql(owned)]
    pub id: ID,
    /// The name it was created with, to tell keys apart.
    pub name: String,
    /// The first characters of the secret (`oh_live_…` or `oh_sandbox_…`).
    pub prefix: String,
    /// True for a key of a live deployment (`oh_live_…`), false for a sandbox key
    /// (`oh_sandbox_…`, refused by live deployments).
    pub live: bool,
    /// What the key may do.
    pub scopes: Vec<ScopeGql>,
    /// The shops the key is restricted to; null = every shop.
    pub shop_ids: Option<Vec<ID>>,
    /// When the key was made.
    pub created_at: DateTime<Utc>,
    /// When the key was revoked; null while it is valid.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the key was last used (noted at most once a minute); null if never.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<access::KeyRow> for ApiKey {
    fn from(k: access::KeyRow) -> Self {
        ApiKey {
            id: ids::encode(Kind::ApiKey, k.id),
            scopes: access::scopes_of(&k).into_iter().map(Into::into).collect(),
            shop_ids: access::shops_of(&k).map(|s| {
                s.into_iter()
                    .map(|id| ids::encode(Kind::Shop, id))
                    .collect()
            }),
            name: k.name,
            prefix: k.prefix,
            live: k.live,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// One audited mutation.
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// The entry's global id (what `auditLog` takes as `before`).
    #[graphql(owned)]
    pub id: ID,
    /// When the mutation ran.
    pub at: DateTime<Utc>,
    /// The key that called (null for the anonymous development caller).
    pub api_key_id: Option<ID>,
    /// The key's name at the time, or `anonymous`.
    pub caller: String,
    /// The mutation, e.g. `createOrder`.
    pub operation: String,
    /// The ids and keys its arguments named, as JSON.
    pub target: Option<String>,
    /// `ok`, `refused:<codes>`, `denied:<code>` or `error:<code>`.
    pub outcome: String,
}

impl From<access::AuditEntry> for AuditEntry {
    fn from(e: access::AuditEntry) -> Self {
        AuditEntry {
            id: ids::encode(Kind::AuditEntry, e.id),
            at: e.at,
            api_key_id: e.api_key_id.map(|id| ids::encode(Kind::ApiKey, id)),
            caller: e.caller,
            operation: e.operation,
            target: e.target,
            outcome: e.outcome,
        }
    }
}

fn service<'a>(ctx: &Context<'a>) -> Result<&'a AccessService> {
    Ok(&services(ctx)?.access)
}

#[derive(Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// Every API key, newest first (revoked ones included).
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        answer(service(ctx)?.keys().await).map(all)
    }

    /// The audit log, newest first: `first` entries (at most 500) before `before`.
    #[graphql(
        guard = "Need(Scope::Admin)",
        complexity = "super::paging::page_cost(Some(first), None, child_complexity)"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = 50,
            desc = "How many entries, 1 to 500 (others are clamped)."
        )]
        first: i32,
        #[graphql(desc = "Only entries older than this `AuditEntry.id`.")] before: Option<ID>,
    ) -> Result<Vec<AuditEntry>> {
        let before = match before {
            None => None,
            Some(b) => Some(
                ids::decode(Kind::AuditEntry, &b)
                    .ok_or_else(|| super::errors::invalid("before is not an audit entry id"))?,
            ),
        };
        let first = u64::try_from(first.clamp(1, 500)).unwrap_or(50);
        answer(service(ctx)?.audit_log(first, before).await).map(all)
    }
}

/// The API key to make.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// A name to tell the key apart by, 1 to 100 characters.
    pub name: String,
    /// What the key may do; at least one scope.
    pub scopes: Vec<ScopeGql>,
    /// Restrict the key to these shops; leave out for every shop.
    pub shop_ids: Option<Vec<ID>>,
}

/// What `createApiKey` did.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The new key; null when the request was refused (see `userErrors`).
    pub key: Option<ApiKey>,
    /// The secret, shown this once: only a hash of it is kept.
    pub secret: Option<String>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

/// The API key to revoke.
#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    /// The key's id (`ApiKey.id`).
    pub id: ID,
}

/// What `revokeApiKey` did.
#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    /// The key, now revoked; null when the request was refused (see `userErrors`).
    pub key: Option<ApiKey>,
    /// Why the request was refused; empty when it went through.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    /// Makes an API key. The secret is in this answer only.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's name, scopes and shops.")] input: CreateApiKeyInput,
    ) -> Result<CreateApiKeyPayload> {
        let mut shops = None;
        if let Some(list) = input.shop_ids {
            let decoded: Option<Vec<i64>> =
                list.iter().map(|id| ids::decode(Kind::Shop, id)).collect();
            let Some(decoded) = decoded else {
                return Ok(CreateApiKeyPayload {
                    key: None,
                    secret: None,
                    user_errors: bad_id("shopIds", "a list of shop ids"),
                });
            };
            shops = Some(decoded);
        }
        let new = access::NewKey {
            name: input.name,
            scopes: input.scopes.into_iter().map(Into::into).collect(),
            shops,
        };
        let (issued, user_errors) = settle(service(ctx)?.create_key(new).await, |k| k)?;
        Ok(match issued {
            Some(k) => CreateApiKeyPayload {
                key: Some(k.key.into()),
                secret: Some(k.secret),
                user_errors,
            },
            None => CreateApiKeyPayload {
                key: None,
                secret: None,
                user_errors,
            },
        })
    }

    /// Revokes a key at once: its next request is refused.
    #[graphql(guard = "Need(Scope::Admin)")]
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key to revoke.")] input: RevokeApiKeyInput,
    ) -> Result<RevokeApiKeyPayload> {
        let Some(id) = ids::decode(Kind::ApiKey, &input.id) else {
            return Ok(RevokeApiKeyPayload {
                key: None,
                user_errors: bad_id("id", "an API key id"),
            });
        };
        let (key, user_errors) = settle(service(ctx)?.revoke_key(id).await, ApiKey::from)?;
        Ok(RevokeApiKeyPayload { key, user_errors })
    }
}

/// The audit record of the mutation being resolved.
#[derive(Default)]
struct AuditSlot {
    /// What its arguments named (written once, by the first guard that runs).
    target: Option<Option<String>>,
    /// The user-error codes it answered with.
    refusals: Vec<String>,
}

tokio::task_local! {
    static AUDIT: Arc<Mutex<AuditSlot>>;
}

/// Notes a mutation's refusal codes for its audit entry (no-op outside a mutation).
pub(super) fn note_refusal(errors: &[UserError]) {
    let _ = AUDIT.try_with(|slot| {
        if let Ok(mut slot) = slot.lock() {
            slot.refusals.extend(
                errors
                    .iter()
                    .map(|e| async_graphql::InputType::to_value(&e.code).to_string()),
            );
        }
    });
}

/// Notes what the mutation's arguments name, for its audit entry: every argument field
/// called `id`, `…Id`, `…Ids` or `idempotencyKey`, as JSON (no-op outside a mutation).
fn note_target(ctx: &Context<'_>) {
    let _ = AUDIT.try_with(|slot| {
        let Ok(mut slot) = slot.lock() else { return };
        if slot.target.is_some() {
            return;
        }
        let mut named = serde_json::Map::new();
        if let Ok(args) = ctx.field().arguments() {
            for (name, value) in args {
                if let Ok(json) = value.into_json() {
                    collect_ids(name.as_str(), &json, &mut named);
                }
            }
        }
        slot.target =
            Some((!named.is_empty()).then(|| serde_json::Value::Object(named).to_string()));
    });
}

fn collect_ids(
    key: &str,
    value: &serde_json::Value,
    out: &mut serde_json::Map<String, serde_json::Value>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                collect_ids(k, v, out);
            }
        }
        _ if out.len() < 10
            && (key == "id"
                || key.ends_with("Id")
                || key.ends_with("Ids")
                || key == "idempotencyKey") =>
        {
            out.insert(key.to_owned(), value.clone());
        }
        _ => {}
    }
}

/// Runs a root mutation field and writes it to the audit log with its outcome.
pub(super) async fn audited(
    ctx: &ExtensionContext<'_>,
    info: ResolveInfo<'_>,
    next: NextResolve<'_>,
) -> ServerResult<Option<Value>> {
    let operation = info.name.to_owned();
    let slot = Arc::new(Mutex::new(AuditSlot::default()));
    let result = AUDIT.scope(slot.clone(), next.run(ctx, info)).await;
    let (target, refusals) = slot
        .lock()
        .map(|s| (s.target.clone().flatten(), s.refusals.clone()))
        .unwrap_or_default();
    let outcome = match &result {
        Err(e) => {
            let code = match e.extensions.as_ref().and_then(|x| x.get("code")) {
                Some(Value::String(c)) => c.clone(),
                _ => codes::INTERNAL.to_owned(),
            };
            if code == codes::UNAUTHENTICATED || code == codes::FORBIDDEN {
                Outcome::Denied(code)
            } else {
                Outcome::Failed(code)
            }
        }
        Ok(_) if !refusals.is_empty() => Outcome::Refused(refusals),
        Ok(_) => Outcome::Ok,
    };
    if let (Some(access), Some(caller)) = (
        ctx.data_opt::<super::Services>().map(|s| &s.access),
        ctx.data_opt::<Caller>(),
    ) {
        access.audit(caller, &operation, target, &outcome).await;
    }
    result
}

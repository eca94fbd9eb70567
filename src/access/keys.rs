//! API keys: made with a random secret that is shown once and stored only as its SHA-256,
//! listed, revoked, and checked on every request.

use chrono::{TimeDelta, Utc};
use entity::{api_key, shop};
use rand::{Rng, distr::Alphanumeric};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use sha2::{Digest, Sha256};

use super::{AccessService, Caller, Scope};
use crate::refusal::{OrderError, UserError, UserErrorCode};

pub use entity::api_key::Model as KeyRow;

/// Characters of randomness in a secret (Base62: about 238 bits).
const SECRET_CHARS: usize = 40;
/// How many characters of the random part stay visible in the key's prefix.
const VISIBLE_CHARS: usize = 6;
/// `last_used_at` is written at most this often per key, not on every request.
const LAST_USED_EVERY: TimeDelta = TimeDelta::seconds(60);

/// A key to make.
#[derive(Clone, Debug)]
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Restrict the key to these shops (our ids); None = every shop.
    pub shops: Option<Vec<i64>>,
}

/// A key just made: its row and the secret, which is never shown again.
#[derive(Clone, Debug)]
pub struct IssuedKey {
    pub key: KeyRow,
    pub secret: String,
}

/// Why a request's key was not accepted; every one is `UNAUTHENTICATED` to the client.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("an API key is required (Authorization: Bearer <key>)")]
    Missing,
    #[error("the API key is not valid")]
    Invalid,
    #[error("the API key was revoked")]
    Revoked,
    #[error("a sandbox API key cannot call a live deployment")]
    SandboxKeyOnLive,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// The key's scopes, as stored.
pub fn scopes_of(key: &KeyRow) -> Vec<Scope> {
    key.scopes
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The shops the key is restricted to, as stored (None = every shop).
pub fn shops_of(key: &KeyRow) -> Option<Vec<i64>> {
    key.shops
        .as_deref()
        .map(|s| serde_json::from_str(s).unwrap_or_default())
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl AccessService {
    /// Makes a key; the secret in the answer is the only copy there will ever be.
    pub async fn create_key(&self, new: NewKey) -> Result<IssuedKey, OrderError> {
        let name = new.name.trim().to_owned();
        let mut errors = Vec::new();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(UserError::new(
                &["name"],
                UserErrorCode::InvalidInput,
                "name must be 1 to 100 characters",
            ));
        }
        if new.scopes.is_empty() {
            errors.push(UserError::new(
                &["scopes"],
                UserErrorCode::InvalidInput,
                "a key needs at least one scope",
            ));
        }
        if let Some(shops) = &new.shops {
            let found = shop::Entity::find()
                .filter(shop::Column::Id.is_in(shops.iter().copied()))
                .count(&self.db)
                .await?;
            if shops.is_empty() || found != shops.len() as u64 {
                errors.push(UserError::new(
                    &["shops"],
                    UserErrorCode::InvalidInput,
                    "shops must name existing shops (leave it out for every shop)",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(OrderError::User(errors));
        }
        let mut scopes = new.scopes.clone();
        scopes.sort();
        scopes.dedup();
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(SECRET_CHARS)
            .map(char::from)
            .collect();
        let kind = if self.live { "oh_live_" } else { "oh_sandbox_" };
        let secret = format!("{kind}{random}");
        let row = api_key::ActiveModel {
            name: Set(name),
            prefix: Set(secret[..kind.len() + VISIBLE_CHARS].to_owned()),
            secret_hash: Set(hash(&secret)),
            live: Set(self.live),
            scopes: Set(scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")),
            shops: Set(new
                .shops
                .map(|s| serde_json::to_string(&s).unwrap_or_default())),
            created_at: Set(Utc::now()),
            revoked_at: Set(None),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(IssuedKey { key: row, secret })
    }

    /// Every key, newest first (revoked ones included, marked so).
    pub async fn keys(&self) -> Result<Vec<KeyRow>, OrderError> {
        Ok(api_key::Entity::find()
            .order_by_desc(api_key::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// One key by id (a `node` lookup).
    pub async fn key(&self, id: i64) -> Result<Option<KeyRow>, OrderError> {
        Ok(api_key::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Revokes a key at once; revoking it again changes nothing.
    pub async fn revoke_key(&self, id: i64) -> Result<KeyRow, OrderError> {
        let Some(key) = api_key::Entity::find_by_id(id).one(&self.db).await? else {
            return Err(UserError::new(&["id"], UserErrorCode::NotFound, "no such key").into());
        };
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let mut am: api_key::ActiveModel = key.into();
        am.revoked_at = Set(Some(Utc::now()));
        Ok(am.update(&self.db).await?)
    }

    /// The caller a request runs as, from its key (`None`: the request carried none).
    pub async fn authenticate(&self, secret: Option<&str>) -> Result<Caller, AuthError> {
        let Some(secret) = secret.map(str::trim).filter(|s| !s.is_empty()) else {
            return if self.anonymous {
                Ok(Caller::anonymous())
            } else {
                Err(AuthError::Missing)
            };
        };
        if !secret.starts_with("oh_") || secret.len() > 100 {
            return Err(AuthError::Invalid);
        }
        let Some(key) = api_key::Entity::find()
            .filter(api_key::Column::SecretHash.eq(hash(secret)))
            .one(&self.reader)
            .await?
        else {
            return Err(AuthError::Invalid);
        };
        if key.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        if self.live && !key.live {
            return Err(AuthError::SandboxKeyOnLive);
        }
        let now = Utc::now();
        if key.last_used_at.is_none_or(|t| now - t >= LAST_USED_EVERY) {
            let mut am: api_key::ActiveModel = key.clone().into();
            am.last_used_at = Set(Some(now));
            if let Err(e) = am.update(&self.db).await {
                tracing::warn!(error = %e, key_id = key.id, "could not note the key's last use");
            }
        }
        Ok(Caller {
            key_id: Some(key.id),
            name: key.name.clone(),
            scopes: scopes_of(&key),
            shops: shops_of(&key),
        })
    }
}

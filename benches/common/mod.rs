//! What the benches share: a server configuration with nothing else on the clock, and a
//! process's resident memory. (Each bench uses part of it.)
#![allow(dead_code)]

use orderhub::Config;
use secrecy::SecretString;
use serde_json::{Value, json};

/// The server on a free port over `database_url`, with every poller and the 58 sandbox's
/// pushes off, no Dada shop import, and a cost budget no bench exhausts.
pub fn quiet_config(database_url: String) -> Config {
    let mut config = Config::default();
    config.server.port = 0;
    config.database.url = SecretString::from(database_url);
    config.daoway.poll_interval_ms = 3_600_000;
    config.dada.poll_interval_ms = 3_600_000;
    config.dada.import_shops = Some(vec![]);
    config.wechat.poll_interval_ms = 3_600_000;
    config.outbox.poll_interval_ms = 3_600_000;
    config.sandbox.daojia58.push_every_secs = None;
    config.limits.cost_bucket = 10_000_000;
    config.limits.cost_restore_per_sec = 10_000_000;
    config
}

/// Resident memory of process `pid`, KiB (0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// A GraphQL request's `data` (the bench fails on any error).
pub async fn gql(http: &reqwest::Client, base: &str, query: &str, variables: Value) -> Value {
    let v: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert!(v.get("errors").is_none(), "{v}");
    v["data"].clone()
}

/// The `Shop` id of store `no` of `provider`, once it is imported.
pub async fn shop(http: &reqwest::Client, base: &str, provider: &str, no: &str) -> String {
    let q = format!(
        "{{ shops(filter: {{provider: {provider}}}, first: 50) {{ edges {{ node {{ id externalId }} }} }} }}"
    );
    for _ in 0..200 {
        let d = gql(http, base, &q, json!({})).await;
        if let Some(id) = d["shops"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["node"]["externalId"] == no)
            .and_then(|e| e["node"]["id"].as_str())
        {
            return id.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("store {provider} {no} never appeared");
}

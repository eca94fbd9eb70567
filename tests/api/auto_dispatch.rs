//! Automatic dispatch (`dispatchDelivery(strategy: AUTO)`) through the Dada and WeChat
//! sandboxes, each path waiting on the plan's own state: the strategies' first pick
//! (cheapest, fastest, preferred order), a courier accepting, the fallback to the next
//! network after the switch time, tip escalation to the cap, a race won by either side, two
//! acceptances at once and an acceptance not yet heard (nothing paid either way).

use chrono::{TimeDelta, Utc};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::{
    dispatch::{dada_then_sftc, delivery, set_policy},
    helpers::TestApp,
    on_every_backend,
};

const PLAN: &str = "state strategy tipRaised { fen } penalties { fen } detail
    candidates { network company fee { fen } dispatchMinutes tried }
    winner { id }
    attempts { id provider status rawStatus
               delivery { originId company fees { total { fen } tips { fen } penalty { fen } } }
               events { kind detail } }";

async fn auto(app: &TestApp, shop: &str) -> Value {
    let q = "mutation($input: DispatchDeliveryInput!) { dispatchDelivery(input: $input) {
        order { id provider delivery { company } } userErrors { field message code } } }";
    let p = app
        .gql_ok(
            q,
            json!({ "input": { "delivery": delivery(shop), "strategy": "AUTO" } }),
        )
        .await["dispatchDelivery"]
        .clone();
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    p
}

async fn plan(app: &TestApp, order: &str) -> Value {
    let q = format!("query($id: ID!) {{ order(id: $id) {{ dispatchPlan {{ {PLAN} }} }} }}");
    app.gql_ok(&q, json!({ "id": order })).await["order"]["dispatchPlan"].clone()
}

/// Waits until the plan of `order` satisfies `check`.
async fn plan_until(app: &TestApp, order: &str, check: impl Fn(&Value) -> bool) -> Value {
    app.eventually(20, || async {
        let p = plan(app, order).await;
        check(&p).then_some(p)
    })
    .await
}

/// The sandbox's courier takes `attempt` (a delivery order with `provider` and
/// `delivery { originId }`).
pub async fn accept(app: &TestApp, attempt: &Value) {
    let origin = attempt["delivery"]["originId"].as_str().unwrap();
    let (status, v) = if attempt["provider"] == "DADA" {
        app.dada_post(&format!("/_control/orders/{origin}/accept"), json!({}))
            .await
    } else {
        app.wechat_post(&format!("/_control/orders/{origin}/assign"), json!({}))
            .await
    };
    assert_eq!(status, 200, "{v}");
}

fn kinds(attempt: &Value) -> Vec<String> {
    attempt["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn stores(app: &TestApp) -> (String, String) {
    (
        app.dada_shop("11047059").await,
        app.wechat_shop("wx_sh_001").await,
    )
}

async fn policy(app: &TestApp, input: Value) {
    let p = set_policy(app, input).await;
    assert_eq!(p["userErrors"], json!([]), "{p}");
}

/// CHEAPEST, FASTEST and PREFERRED each send the delivery to their first pick; a courier
/// accepting wins the plan.
async fn strategies_pick_and_acceptance_wins(app: TestApp) {
    let (dada, wechat) = stores(&app).await;
    policy(
        &app,
        json!({"shopId": dada, "strategy": "CHEAPEST", "linkedShopIds": [wechat]}),
    )
    .await;
    let placed = auto(&app, &dada).await;
    let first = placed["order"]["id"].as_str().unwrap().to_owned();
    let p = plan(&app, &first).await;
    assert_eq!(
        (&p["state"], &p["strategy"]),
        (&json!("ACTIVE"), &json!("CHEAPEST")),
        "{p:#}"
    );
    let fees: Vec<i64> = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fee"]["fen"].as_i64().unwrap())
        .collect();
    assert!(
        fees.len() >= 3 && fees.windows(2).all(|w| w[0] <= w[1]),
        "{p:#}"
    );
    let best = &p["candidates"][0];
    let attempt = &p["attempts"][0];
    assert_eq!(
        p["attempts"].as_array().unwrap().len(),
        1,
        "one at a time without racing"
    );
    assert_eq!(attempt["provider"], best["network"], "{p:#}");
    if best["network"] == "WECHAT" {
        assert_eq!(attempt["delivery"]["company"], best["company"], "{p:#}");
    }
    assert!(
        kinds(attempt).contains(&"DISPATCH_PLANNED".to_owned()),
        "{attempt}"
    );
    accept(&app, attempt).await;
    let won = plan_until(&app, &first, |p| p["state"] == "WON").await;
    assert_eq!(won["winner"]["id"], json!(first));
    assert_eq!(won["penalties"]["fen"], 0);

    // FASTEST: the shortest expected time to a courier.
    policy(
        &app,
        json!({"shopId": dada, "strategy": "FASTEST", "linkedShopIds": [wechat]}),
    )
    .await;
    let placed = auto(&app, &dada).await;
    let p = plan(&app, placed["order"]["id"].as_str().unwrap()).await;
    let minutes: Vec<i64> = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["dispatchMinutes"].as_i64().unwrap_or(i64::MAX))
        .collect();
    assert!(minutes.windows(2).all(|w| w[0] <= w[1]), "{p:#}");
    assert_eq!(p["attempts"][0]["provider"], p["candidates"][0]["network"]);

    // PREFERRED: the policy's own order, whatever the fees.
    policy(
        &app,
        json!({"shopId": dada, "strategy": "PREFERRED", "linkedShopIds": [wechat],
               "networks": [{"network": "WECHAT", "company": "SS"}, {"network": "DADA"}]}),
    )
    .await;
    let placed = auto(&app, &dada).await;
    assert_eq!(placed["order"]["provider"], "WECHAT");
    assert_eq!(placed["order"]["delivery"]["company"], "SS");
    let p = plan(&app, placed["order"]["id"].as_str().unwrap()).await;
    let order: Vec<(Value, Value)> = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["network"].clone(), c["company"].clone()))
        .collect();
    assert_eq!(
        order,
        vec![(json!("WECHAT"), json!("SS")), (json!("DADA"), Value::Null)],
        "only the networks listed, in their order"
    );
}
on_every_backend!(
    strategies_pick_and_acceptance_wins_test,
    strategies_pick_and_acceptance_wins
);

/// Nobody accepts on the first network within the switch time: its attempt is cancelled
/// (free while unaccepted) and the next network gets the delivery.
async fn falls_back_after_the_switch_time(app: TestApp) {
    let (dada, wechat) = stores(&app).await;
    policy(&app, dada_then_sftc(&dada, &wechat, 1)).await;
    let placed = auto(&app, &dada).await;
    assert_eq!(placed["order"]["provider"], "DADA");
    let first = placed["order"]["id"].as_str().unwrap().to_owned();
    let p = plan_until(&app, &first, |p| {
        p["attempts"].as_array().unwrap().len() == 2
    })
    .await;
    let (old, new) = (&p["attempts"][0], &p["attempts"][1]);
    assert_eq!(old["status"], "CANCELLED", "{p:#}");
    assert_eq!(
        old["delivery"]["fees"]["penalty"]["fen"]
            .as_i64()
            .unwrap_or(0),
        0
    );
    assert_eq!(
        (&new["provider"], &new["delivery"]["company"]),
        (&json!("WECHAT"), &json!("SFTC"))
    );
    assert!(kinds(new).contains(&"NETWORK_SWITCHED".to_owned()), "{new}");
    assert_ne!(
        old["delivery"]["originId"], new["delivery"]["originId"],
        "each attempt has its own reference"
    );
    accept(&app, new).await;
    let won = plan_until(&app, &first, |p| p["state"] == "WON").await;
    assert_eq!(won["winner"]["id"], new["id"]);
    // Nothing left to switch to, nothing more happens to the winner.
    assert_eq!(won["attempts"].as_array().unwrap().len(), 2);
}
on_every_backend!(
    falls_back_after_the_switch_time_test,
    falls_back_after_the_switch_time
);

/// Tips rise one step per interval up to the cap, on the live attempt.
async fn tips_escalate_to_the_cap(app: TestApp) {
    let (dada, _) = stores(&app).await;
    policy(
        &app,
        json!({"shopId": dada, "strategy": "CHEAPEST",
               "tipEscalation": {"stepFen": 100, "intervalSeconds": 1, "capFen": 300}}),
    )
    .await;
    let placed = auto(&app, &dada).await;
    let first = placed["order"]["id"].as_str().unwrap().to_owned();
    let p = plan_until(&app, &first, |p| p["tipRaised"]["fen"] == 300).await;
    let attempt = &p["attempts"][0];
    assert_eq!(attempt["delivery"]["fees"]["tips"]["fen"], 300, "{p:#}");
    let raised = kinds(attempt).iter().filter(|k| *k == "TIP_ADDED").count();
    assert_eq!(raised, 3, "three steps of 1 yuan: {attempt}");
    assert_eq!(p["state"], "ACTIVE");
}
on_every_backend!(tips_escalate_to_the_cap_test, tips_escalate_to_the_cap);

/// Whether cancelling `attempt` costs from its courier's acceptance on: the sandboxes' WeChat
/// companies do, except Dada's (a free minute, as on Dada's own network).
fn costly(attempt: &Value) -> bool {
    attempt["provider"] == "WECHAT" && attempt["delivery"]["company"] != "DADA"
}

/// A racing policy over the networks whose cancellations cost something (WeChat's TEST
/// company never charges).
fn race_policy(dada: &str, wechat: &str) -> Value {
    json!({"shopId": dada, "strategy": "CHEAPEST", "linkedShopIds": [wechat],
           "raceAllowed": true,
           "networks": [{"network": "DADA"}, {"network": "WECHAT", "company": "DADA"},
                        {"network": "WECHAT", "company": "SFTC"},
                        {"network": "WECHAT", "company": "SS"}]})
}

/// Racing: the best three at once, at most one of them costly to cancel once accepted;
/// whichever accepts wins (each of the three in turn, one plan each), and the others are
/// cancelled at once without a penalty.
async fn races_are_won_by_either_side(app: TestApp) {
    let (dada, wechat) = stores(&app).await;
    policy(&app, race_policy(&dada, &wechat)).await;
    for side in [0usize, 1, 2] {
        let placed = auto(&app, &dada).await;
        let first = placed["order"]["id"].as_str().unwrap().to_owned();
        let p = plan(&app, &first).await;
        let attempts = p["attempts"].as_array().unwrap().clone();
        assert_eq!(attempts.len(), 3, "{p:#}");
        assert_eq!(
            attempts.iter().filter(|a| costly(a)).count(),
            1,
            "one attempt without a free window: {p:#}"
        );
        // The round is the first three candidates (sent at once, so in any order).
        let mut tried: Vec<(String, String)> = p["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["tried"] == true)
            .map(|c| (c["network"].to_string(), c["company"].to_string()))
            .collect();
        let mut sent: Vec<(String, String)> = attempts
            .iter()
            .map(|a| {
                (
                    a["provider"].to_string(),
                    a["delivery"]["company"].to_string(),
                )
            })
            .collect();
        tried.sort();
        sent.sort();
        assert_eq!(tried, sent, "{p:#}");
        accept(&app, &attempts[side]).await;
        let won = plan_until(&app, &first, |p| p["state"] == "WON").await;
        assert_eq!(won["winner"]["id"], attempts[side]["id"], "{won:#}");
        assert_eq!(won["penalties"]["fen"], 0);
        let settled = app
            .eventually(20, || async {
                let p = plan(&app, &first).await;
                let done = p["attempts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .all(|(i, a)| i == side || a["status"] == "CANCELLED");
                done.then_some(p)
            })
            .await;
        for (i, a) in settled["attempts"].as_array().unwrap().iter().enumerate() {
            let k = kinds(a);
            if i == side {
                assert!(k.contains(&"RACE_WON".to_owned()), "{a}");
            } else {
                assert!(k.contains(&"RACE_CANCELLED".to_owned()), "{a}");
                assert_eq!(
                    a["delivery"]["fees"]["penalty"]["fen"]
                        .as_i64()
                        .unwrap_or(0),
                    0
                );
            }
        }
    }
    // Preferred SFTC then SS: SS would be a second costly attempt, so it waits for a later
    // round and the free ones race beside SFTC.
    let mut preferred = race_policy(&dada, &wechat);
    preferred["strategy"] = json!("PREFERRED");
    preferred["networks"] = json!([{"network": "WECHAT", "company": "SFTC"},
        {"network": "WECHAT", "company": "SS"}, {"network": "DADA"},
        {"network": "WECHAT", "company": "DADA"}]);
    policy(&app, preferred).await;
    let placed = auto(&app, &dada).await;
    let p = plan(&app, placed["order"]["id"].as_str().unwrap()).await;
    let mut round: Vec<String> = p["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{}/{}", a["provider"], a["delivery"]["company"]))
        .collect();
    round.sort();
    assert_eq!(
        round,
        [r#""DADA"/null"#, r#""WECHAT"/"DADA""#, r#""WECHAT"/"SFTC""#],
        "{p:#}"
    );
    let last = &p["candidates"][3];
    assert_eq!(
        (&last["company"], &last["tried"]),
        (&json!("SS"), &json!(false)),
        "{p:#}"
    );
    // Two at once when the policy says so.
    let mut narrow = race_policy(&dada, &wechat);
    narrow["raceWidth"] = json!(2);
    policy(&app, narrow).await;
    let placed = auto(&app, &dada).await;
    let p = plan(&app, placed["order"]["id"].as_str().unwrap()).await;
    assert_eq!(p["attempts"].as_array().unwrap().len(), 2, "{p:#}");
}
on_every_backend!(
    races_are_won_by_either_side_test,
    races_are_won_by_either_side
);

/// Marks every active plan as claimed by an instance `holder` until `until` (from now), as
/// a driver in the middle of a step (or one that died there) would leave it.
async fn claim_as(db: &DatabaseConnection, holder: &str, until: TimeDelta) {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "UPDATE dispatch_plan SET claimed_by = $1, claimed_until = $2, next_step_at = $3 \
             WHERE state = 'ACTIVE'"
        }
        _ => {
            "UPDATE dispatch_plan SET claimed_by = ?, claimed_until = ?, next_step_at = ? \
             WHERE state = 'ACTIVE'"
        }
    };
    let now = Utc::now();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [holder.into(), (now + until).into(), now.into()],
    ))
    .await
    .expect("claim");
}

/// Places a raced plan and holds its news: another instance is in the middle of a step.
async fn held_race(app: &TestApp, db: &DatabaseConnection) -> (String, Vec<Value>) {
    let (dada, wechat) = stores(app).await;
    policy(app, race_policy(&dada, &wechat)).await;
    let placed = auto(app, &dada).await;
    let first = placed["order"]["id"].as_str().unwrap().to_owned();
    let attempts = plan(app, &first).await["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 3);
    claim_as(db, "another-instance", TimeDelta::seconds(600)).await;
    (first, attempts)
}

/// The plan once its step settled the race: won, and every attempt but one cancelled.
async fn settled(app: &TestApp, db: &DatabaseConnection, first: &str) -> Value {
    // The other instance's lease runs out.
    claim_as(db, "another-instance", TimeDelta::seconds(-1)).await;
    plan_until(app, first, |p| {
        p["state"] == "WON"
            && p["attempts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["status"] == "CANCELLED")
                .count()
                == 2
    })
    .await
}

/// Once `attempt` is heard to be accepted, the other instance's lease runs out: the plan
/// as its step settled it.
async fn settled_after(
    app: &TestApp,
    db: &DatabaseConnection,
    first: &str,
    attempt: &Value,
) -> Value {
    plan_until(app, first, |p| {
        p["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == attempt["id"] && a["status"] == "ACCEPTED")
    })
    .await;
    settled(app, db, first).await
}

/// `attempt` as the plan `won` shows it now.
fn attempt_of<'a>(won: &'a Value, attempt: &Value) -> &'a Value {
    won["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == attempt["id"])
        .unwrap()
}

fn assert_kept(won: &Value, keep: &Value) {
    assert_eq!(won["winner"]["id"], keep["id"], "{won:#}");
    assert_eq!(won["penalties"]["fen"], 0, "nothing paid: {won:#}");
    for a in won["attempts"].as_array().unwrap() {
        if a["id"] == keep["id"] {
            assert_eq!(a["status"], "ACCEPTED", "{won:#}");
        } else {
            assert_eq!(a["status"], "CANCELLED", "{won:#}");
            assert!(kinds(a).contains(&"RACE_CANCELLED".to_owned()), "{a}");
            let paid = a["delivery"]["fees"]["penalty"]["fen"].as_i64();
            assert_eq!(paid.unwrap_or(0), 0, "{a}");
        }
    }
}

/// Two couriers accept in the same instant (both acceptances are in before the driver
/// looks). With a costly one among them, it is kept (whatever its fee) and the other is
/// cancelled inside its free minute; with two free to cancel, the cheaper is kept. Either
/// way nothing is paid.
async fn two_acceptances_at_once_cost_nothing(app: TestApp) {
    let db = Database::connect(app.database_url.as_str())
        .await
        .expect("db");
    let fee = |a: &Value| a["delivery"]["fees"]["total"]["fen"].as_i64().unwrap();
    // The costly one and a free one.
    let (first, attempts) = held_race(&app, &db).await;
    let anchor = attempts.iter().find(|a| costly(a)).unwrap();
    let free = attempts.iter().find(|a| !costly(a)).unwrap();
    accept(&app, free).await;
    accept(&app, anchor).await;
    plan_until(&app, &first, |p| {
        p["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status"] == "ACCEPTED")
            .count()
            == 2
    })
    .await;
    assert_kept(&settled(&app, &db, &first).await, anchor);

    // Both free ones: the cheaper.
    let (first, attempts) = held_race(&app, &db).await;
    let free: Vec<&Value> = attempts.iter().filter(|a| !costly(a)).collect();
    assert_eq!(free.len(), 2);
    for a in &free {
        accept(&app, a).await;
    }
    plan_until(&app, &first, |p| {
        p["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["status"] == "ACCEPTED")
            .count()
            == 2
    })
    .await;
    let keep = if (fee(free[0]), 0) <= (fee(free[1]), 1) {
        free[0]
    } else {
        free[1]
    };
    assert_kept(&settled(&app, &db, &first).await, keep);
}
on_every_backend!(
    two_acceptances_at_once_cost_nothing_test,
    two_acceptances_at_once_cost_nothing
);

/// A free one's acceptance is heard while the costly one's courier has accepted unheard
/// (WeChat's push is lost): the step asks the costly one's penalty preview before cancelling
/// it, finds it accepted, and keeps it instead; nothing is paid.
async fn an_unheard_acceptance_is_found_before_cancelling(app: TestApp) {
    let db = Database::connect(app.database_url.as_str())
        .await
        .expect("db");
    let (first, attempts) = held_race(&app, &db).await;
    let anchor = attempts.iter().find(|a| costly(a)).unwrap();
    // Dada's own network: its news still comes.
    let free = attempts.iter().find(|a| a["provider"] == "DADA").unwrap();
    app.wechat_put("/_control/faults", json!({ "dropCallbackRate": 1.0 }))
        .await;
    accept(&app, anchor).await;
    accept(&app, free).await;
    let won = settled_after(&app, &db, &first, free).await;
    assert_eq!(won["winner"]["id"], anchor["id"], "{won:#}");
    assert_eq!(won["penalties"]["fen"], 0, "{won:#}");
    let lost = attempt_of(&won, free);
    assert_eq!(lost["status"], "CANCELLED", "{won:#}");
    assert_eq!(
        lost["delivery"]["fees"]["penalty"]["fen"]
            .as_i64()
            .unwrap_or(0),
        0
    );
}
on_every_backend!(
    an_unheard_acceptance_is_found_before_cancelling_test,
    an_unheard_acceptance_is_found_before_cancelling
);

/// The instance driving a plan dies in the middle of a step (its claim stays behind): once
/// the claim runs out, this instance takes the plan over and switches networks as due.
async fn a_plan_outlives_the_instance_driving_it(app: TestApp) {
    let (dada, wechat) = stores(&app).await;
    policy(&app, dada_then_sftc(&dada, &wechat, 1)).await;
    let placed = auto(&app, &dada).await;
    let first = placed["order"]["id"].as_str().unwrap().to_owned();
    let db = Database::connect(app.database_url.as_str())
        .await
        .expect("db");
    claim_as(&db, "crashed-instance", TimeDelta::seconds(2)).await;
    let p = plan_until(&app, &first, |p| {
        p["attempts"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(p["attempts"][0]["status"], "CANCELLED");
    assert_eq!(p["attempts"][1]["provider"], "WECHAT");
    let holder: Option<String> = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT claimed_by FROM dispatch_plan",
        ))
        .await
        .expect("read")
        .and_then(|r| r.try_get::<Option<String>>("", "claimed_by").ok())
        .flatten();
    assert_ne!(holder.as_deref(), Some("crashed-instance"));
}
on_every_backend!(
    a_plan_outlives_the_instance_driving_it_test,
    a_plan_outlives_the_instance_driving_it
);

/// The sandboxes' couriers, left to themselves: Dada's never accept, SFTC's accept 200–400 ms
/// after dispatch; the plan moves from Dada to SFTC after the switch time and SFTC's courier
/// wins it without any hand on the controls.
async fn sandbox_couriers_accept_by_their_draws(app: TestApp) {
    let (dada, wechat) = stores(&app).await;
    app.dada_put(
        "/_control/acceptance",
        json!({"minMs": 100, "maxMs": 100, "neverRate": 1.0, "seed": 1}),
    )
    .await;
    app.wechat_put(
        "/_control/companies/SFTC",
        json!({"acceptance": {"minMs": 200, "maxMs": 400, "neverRate": 0.0, "seed": 2}}),
    )
    .await;
    policy(&app, dada_then_sftc(&dada, &wechat, 1)).await;
    let placed = auto(&app, &dada).await;
    let first = placed["order"]["id"].as_str().unwrap().to_owned();
    let won = plan_until(&app, &first, |p| p["state"] == "WON").await;
    let attempts = won["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{won:#}");
    assert_eq!(attempts[0]["status"], "CANCELLED");
    assert_eq!(won["winner"]["id"], attempts[1]["id"]);
    assert_eq!(attempts[1]["delivery"]["company"], "SFTC");
    // A bad draw is refused.
    let refused = app
        .http
        .put(app.dada("/_control/acceptance"))
        .json(&json!({"minMs": 5, "maxMs": 1}))
        .send()
        .await
        .expect("put");
    assert_eq!(refused.status().as_u16(), 400);
}
on_every_backend!(
    sandbox_couriers_accept_by_their_draws_test,
    sandbox_couriers_accept_by_their_draws
);

/// A penalty nobody could avoid: SFTC's rider accepts in the instant our cancellation
/// arrives (the sandbox's `lateRate`), after its preview said "free". The race is still
/// settled as decided, and what the cancellation cost is recorded on the plan and in the
/// losing attempt's timeline.
async fn an_unavoidable_penalty_is_recorded(app: TestApp) {
    app.wechat_put(
        "/_control/companies/SFTC",
        json!({"acceptance": {"minMs": 3_600_000, "maxMs": 3_600_000, "lateRate": 1.0}}),
    )
    .await;
    let db = Database::connect(app.database_url.as_str())
        .await
        .expect("db");
    let (first, attempts) = held_race(&app, &db).await;
    let anchor = attempts.iter().find(|a| costly(a)).unwrap();
    assert_eq!(anchor["delivery"]["company"], "SFTC");
    let free = attempts.iter().find(|a| a["provider"] == "DADA").unwrap();
    accept(&app, free).await;
    let won = settled_after(&app, &db, &first, free).await;
    assert_eq!(won["winner"]["id"], free["id"], "{won:#}");
    assert_eq!(won["penalties"]["fen"], 200, "{won:#}");
    let lost = attempt_of(&won, anchor);
    assert_eq!(lost["delivery"]["fees"]["penalty"]["fen"], 200, "{lost:#}");
    assert!(
        lost["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "RACE_CANCELLED"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("penalty 2.00"))),
        "{lost:#}"
    );
}
on_every_backend!(
    an_unavoidable_penalty_is_recorded_test,
    an_unavoidable_penalty_is_recorded
);

/// An attempt is priced again right before it goes out: SFTC's price rose above the
/// policy's fee cap after the plan was made, so when Dada's time is up SFTC is not sent
/// the delivery, and with nobody left the plan fails saying why.
async fn an_attempt_over_the_cap_at_dispatch_is_not_sent(app: TestApp) {
    let (dada, wechat) = stores(&app).await;
    app.dada_put(
        "/_control/acceptance",
        json!({"minMs": 1, "maxMs": 1, "neverRate": 1.0}),
    )
    .await;
    let mut capped = dada_then_sftc(&dada, &wechat, 1);
    capped["feeCapFen"] = json!(2000);
    policy(&app, capped).await;
    let placed = auto(&app, &dada).await;
    let first = placed["order"]["id"].as_str().unwrap().to_owned();
    let p = plan(&app, &first).await;
    let quoted: Vec<i64> = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fee"]["fen"].as_i64().unwrap())
        .collect();
    assert!(
        quoted.len() == 2 && quoted.iter().all(|f| *f <= 2000),
        "{p:#}"
    );
    // The first attempt was dispatched from a fresh quote: it costs what was quoted.
    assert_eq!(
        p["attempts"][0]["delivery"]["fees"]["total"]["fen"], p["candidates"][0]["fee"]["fen"],
        "{p:#}"
    );
    app.wechat_put("/_control/companies/SFTC", json!({"baseFeeFen": 2500}))
        .await;
    let failed = plan_until(&app, &first, |p| p["state"] == "FAILED").await;
    assert_eq!(
        failed["attempts"].as_array().unwrap().len(),
        1,
        "{failed:#}"
    );
    assert_eq!(failed["attempts"][0]["status"], "CANCELLED", "{failed:#}");
    let detail = failed["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("WECHAT/SFTC") && detail.contains("above the policy's fee cap 20.00"),
        "{failed:#}"
    );
    let origin = failed["attempts"][0]["delivery"]["originId"]
        .as_str()
        .unwrap();
    let sent = app
        .http
        .get(app.wechat(&format!("/_control/orders/{origin}-2")))
        .send()
        .await
        .expect("get");
    assert_eq!(sent.status().as_u16(), 404, "SFTC never got the delivery");
}
on_every_backend!(
    an_attempt_over_the_cap_at_dispatch_is_not_sent_test,
    an_attempt_over_the_cap_at_dispatch_is_not_sent
);

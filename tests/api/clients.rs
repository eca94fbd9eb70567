//! Conformance with real GraphQL clients (tests/clients, a Node project pinned by its lock):
//! graphql-http's `auditServer` against `/graphql`; the graphql-transport-ws close codes over a
//! raw `ws` socket; graphql-ws's `createClient` resuming with `lastEventId` after its socket is
//! cut, and holding one subscription through idle periods (five minutes in CI;
//! ORDERHUB_TEST_CLIENTS_HOLD_SECS shortens it); and Python's `gql` (tests/clients/python, its own venv)
//! querying, paging and resuming a subscription. Each script prints a JSON report and exits non-zero
//! on a failed expectation. Needs Node.js and `npm ci` in tests/clients (CI does both), so the
//! tests are ignored by default and reported SKIPPED; `-- --include-ignored` runs them.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, find_shop, order_input, plain_shop};

/// A server that requires keys, as a deployment does.
async fn app(tweak: impl FnOnce(&mut orderhub::Config)) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |c| {
        c.auth.anonymous = orderhub::config::AnonymousAccess::Never;
        tweak(c);
    })
    .await
}

/// Runs `node <script> <base> <key> <args…>` in tests/clients: whether it exited 0, and its
/// report.
async fn run(app: &TestApp, script: &str, args: &[String]) -> (bool, Value) {
    run_with(app, "node", script, args).await
}

/// Runs `<program> <script> <base> <key> <args…>` in tests/clients.
async fn run_with(app: &TestApp, program: &str, script: &str, args: &[String]) -> (bool, Value) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");
    let out = tokio::process::Command::new(program)
        .arg(script)
        .arg(&app.base)
        .arg(app.key_for_tests())
        .args(args)
        .current_dir(dir)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} runs (see tests/clients; .ci/run installs it): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{script} printed no report ({e}):\n{stdout}\n{stderr}"));
    // Shown with --nocapture, or when the test fails.
    eprintln!("{script} report: {report:#}\n{script} stderr: {stderr}");
    (out.status.success(), report)
}

/// A report's `checks`, every one of which must have passed (the failing ones are shown).
fn all_passed(report: &Value) -> &Vec<Value> {
    let checks = report["checks"].as_array().expect("checks");
    let failed: Vec<&Value> = checks.iter().filter(|c| c["ok"] != true).collect();
    assert!(
        failed.is_empty(),
        "{}",
        serde_json::to_string_pretty(&failed).unwrap()
    );
    checks
}

/// An order input at a shop that takes plain orders, as JSON for a script.
async fn an_order_input(app: &TestApp) -> String {
    order_input(&find_shop(app, plain_shop).await, None).to_string()
}

#[tokio::test]
#[ignore = "SKIPPED: client conformance; needs Node.js and `npm ci` in tests/clients, run with -- --include-ignored"]
async fn graphql_over_http_audit_passes() {
    let app = app(|_| {}).await;
    let (_, report) = run(&app, "audit.mjs", &[]).await;
    let results = report["results"].as_array().expect("audit results");
    let not_ok = |status: &str| -> Vec<&Value> {
        results.iter().filter(|r| r["status"] == status).collect()
    };
    // Notices (a MAY not followed) are informational: in the report, not asserted.
    let failing = [not_ok("error"), not_ok("warn")].concat();
    assert!(
        failing.is_empty(),
        "graphql-http audit ({}): {} error(s) or warning(s):\n{}",
        report["counts"],
        failing.len(),
        serde_json::to_string_pretty(&failing).unwrap()
    );
    assert_eq!(report["counts"]["error"], json!(0));
    assert_eq!(report["counts"]["warn"], json!(0));
}

#[tokio::test]
#[ignore = "SKIPPED: client conformance; needs Node.js and `npm ci` in tests/clients, run with -- --include-ignored"]
async fn graphql_ws_close_codes_and_errors() {
    let app = app(|c| c.websocket.init_timeout_secs = 1).await;
    let (ok, report) = run(&app, "ws_protocol.mjs", &[]).await;
    all_passed(&report);
    assert!(ok, "ws_protocol.mjs failed: {report:#}");
}

#[tokio::test]
#[ignore = "SKIPPED: client conformance; needs Node.js and `npm ci` in tests/clients, run with -- --include-ignored"]
async fn graphql_ws_client_resumes_after_a_cut_socket_without_loss_or_duplicates() {
    let app = app(|_| {}).await;
    let input = an_order_input(&app).await;
    let (ok, report) = run(&app, "ws_resume.mjs", &[input]).await;
    assert!(ok, "ws_resume.mjs failed: {report:#}");
    assert_eq!(report["lost"], json!([]), "{report:#}");
    assert_eq!(report["duplicated"], json!([]), "{report:#}");
    assert_eq!(report["unexpected"], json!([]), "{report:#}");
}

#[tokio::test]
#[ignore = "SKIPPED: client conformance; holds a subscription ORDERHUB_TEST_CLIENTS_HOLD_SECS (default 300) s; needs Node.js and `npm ci` in tests/clients, run with -- --include-ignored"]
async fn graphql_ws_client_holds_a_subscription_through_idle_periods() {
    let secs = std::env::var("ORDERHUB_TEST_CLIENTS_HOLD_SECS").unwrap_or_else(|_| "300".into());
    let app = app(|c| c.websocket.ping_interval_secs = 15).await;
    let input = an_order_input(&app).await;
    let (ok, report) = run(&app, "ws_hold.mjs", &[secs, input]).await;
    assert!(ok, "ws_hold.mjs failed: {report:#}");
    assert_eq!(report["connected"], json!(1), "{report:#}");
    assert_eq!(report["closedBeforeEnd"], json!(0), "{report:#}");
    assert_eq!(report["lost"], json!([]), "{report:#}");
    assert_eq!(report["duplicated"], json!([]), "{report:#}");
}

#[tokio::test]
#[ignore = "SKIPPED: client conformance; needs Node.js and `npm ci` in tests/clients, run with -- --include-ignored"]
async fn apollo_client_persisted_queries_and_batches() {
    let app = app(|_| {}).await;
    let (ok, report) = run(&app, "apollo.mjs", &[]).await;
    let checks = all_passed(&report);
    assert_eq!(checks.len(), 4, "{report:#}");
    // The expectations the script compared, restated where they matter most.
    let apq = &checks[0]["got"];
    assert_eq!(apq["first"]["requests"], json!(2), "{report:#}");
    assert_eq!(
        apq["first"]["hashOnly"]["codes"],
        json!(["PERSISTED_QUERY_NOT_FOUND"]),
        "{report:#}"
    );
    assert_eq!(apq["second"]["requests"], json!(1), "{report:#}");
    assert_eq!(
        apq["second"]["hashOnly"]["entries"],
        json!([{ "queryText": false, "hash": true }]),
        "{report:#}"
    );
    let batch = &checks[1]["got"];
    assert_eq!(
        batch["requests"],
        json!([{ "method": "POST", "array": true, "entries": 3, "status": 200 }]),
        "{report:#}"
    );
    assert_eq!(
        batch["unknownField"]["codes"],
        json!(["GRAPHQL_VALIDATION_FAILED"]),
        "{report:#}"
    );
    for parse in &checks[2..] {
        let got = &parse["got"];
        let codes = if got["graphQLErrors"].is_null() {
            &got["networkError"]["codes"]
        } else {
            &got["graphQLErrors"]
        };
        assert_eq!(codes, &json!(["GRAPHQL_PARSE_FAILED"]), "{report:#}");
    }
    assert!(ok, "apollo.mjs failed: {report:#}");
}

#[tokio::test]
#[ignore = "SKIPPED: client conformance; needs the Python venv of tests/clients/python (.ci/run makes it), run with -- --include-ignored"]
async fn python_gql_client_queries_pages_and_resumes() {
    let app = app(|_| {}).await;
    let input = an_order_input(&app).await;
    let python = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/python/.venv/bin/python"
    );
    let (ok, report) = run_with(&app, python, "python/gql_client.py", &[input]).await;
    let checks = all_passed(&report);
    assert!(ok && checks.len() >= 8, "{report:#}");
}

//! How long a hostile document takes to be refused, beside a trivial one accepted, through
//! the real schema (its extensions and limits), in one run: `cargo bench --bench
//! document_limits`. The goal: any document accepted or refused in under 10 ms; the fragment
//! chain (27 levels, about 1 KB, 2^27 fields expanded) used to take minutes.

use std::time::{Duration, Instant};

use orderhub::{config::LimitsConfig, graphql};

fn chain(levels: usize) -> String {
    let mut q = format!("query {{ ...F{levels} }} fragment F0 on Query {{ __typename }} ");
    for i in 1..=levels {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }} ",
            p = i - 1
        ));
    }
    q
}

/// Wide fan-out instead of depth: each fragment spreads the previous one 10 times.
fn fan(levels: usize) -> String {
    let mut q = format!("query {{ ...G{levels} }} fragment G0 on Query {{ __typename }} ");
    for i in 1..=levels {
        let spreads = format!("...G{} ", i - 1).repeat(10);
        q.push_str(&format!("fragment G{i} on Query {{ {spreads}}} "));
    }
    q
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let schema = graphql::build(&LimitsConfig::default(), None);
    let aliases: String = (0..20)
        .map(|i| format!("a{i}: __typename "))
        .collect::<String>();
    let cases = [
        ("anchor: { __typename }", "{ __typename }".to_owned()),
        ("fragment chain, 27 levels", chain(27)),
        ("fragment chain, 60 levels", chain(60)),
        ("fan-out, 10 spreads x 9 levels", fan(9)),
        (
            "aliases through fragments (40)",
            format!("{{ ...A ...A }} fragment A on Query {{ {aliases} }}"),
        ),
        (
            "nesting 40 deep",
            format!("{{ {}__typename{} }}", "a { ".repeat(40), " }".repeat(40)),
        ),
    ];
    println!(
        "{:<34} {:>8} {:>11} {:>11} {:>11}  outcome",
        "document", "bytes", "p50", "p99", "max"
    );
    let mut anchor = Duration::ZERO;
    for (name, query) in cases {
        let mut times = Vec::new();
        let mut outcome = String::new();
        for _ in 0..200 {
            let started = Instant::now();
            let r = runtime.block_on(schema.execute(query.as_str()));
            times.push(started.elapsed());
            outcome = r
                .errors
                .first()
                .and_then(|e| e.extensions.as_ref())
                .and_then(|x| x.get("code"))
                .map(|c| format!("refused {c}"))
                .unwrap_or_else(|| "accepted".into());
        }
        times.sort();
        let p50 = times[times.len() / 2];
        if anchor.is_zero() {
            anchor = p50;
        }
        println!(
            "{name:<34} {:>8} {:>11.3?} {:>11.3?} {:>11.3?}  {outcome} ({:.1}x anchor)",
            query.len(),
            p50,
            times[times.len() * 99 / 100],
            times[times.len() - 1],
            p50.as_secs_f64() / anchor.as_secs_f64()
        );
    }
}

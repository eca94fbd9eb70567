// Apollo Client (@apollo/client 3, the real links) against /graphql, every request with the
// key. Usage:
//   node apollo.mjs <base-url> <api-key>
// Checks: automatic persisted queries (createPersistedQueryLink with useGETForHashedQueries over
// HttpLink: hash alone, PersistedQueryNotFound, the query resent, then the hash alone runs it);
// batching (BatchHttpLink: three queries of one tick in one POST with an array body, each
// answered on its own, an invalid one with GRAPHQL_VALIDATION_FAILED); and the error code of a
// document that does not parse reaching the ApolloError (Apollo 3's default `accept: */*`, and
// with `application/graphql-response+json` asked for, where the server answers 400).
// Every HTTP request the links make goes through a recording `fetch` (method, whether it carried
// the query text or only the hash, status), shown in the report beside each check.
// Prints {"checks": [{name, expected, got, ok, requests}]} and exits non-zero if any check failed.
//
// Node's ESM loader does not resolve directory imports and Apollo 3 has no `exports` map, so
// the entries (`@apollo/client/core`, …) are imported by their index.js.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { BatchHttpLink } from "@apollo/client/link/batch-http/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { fail } from "./common.mjs";

const [base, key] = process.argv.slice(2);
if (!base || !key) fail("usage: node apollo.mjs <base-url> <api-key>");
const uri = `${base}/graphql`;
const headers = { authorization: `Bearer ${key}` };
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

const PROVIDERS = "{ providers { id name } }";
const SHOPS = "{ shops(first: 3) { edges { node { id } } } }";
const codes = (errors) => (Array.isArray(errors) ? errors.map((e) => e?.extensions?.code ?? null) : null);

/** A `fetch` that records each request the links make: all of them, and those since the last
 * `take()`. */
function recorder() {
  const all = [];
  let since = 0;
  const recordingFetch = async (input, init = {}) => {
    const url = new URL(typeof input === "string" ? input : input.url);
    const method = (init.method ?? "GET").toUpperCase();
    const h = new Headers(init.headers);
    let body;
    if (method === "GET") {
      const json = (name) => {
        const v = url.searchParams.get(name);
        return v === null ? undefined : JSON.parse(v);
      };
      body = { query: url.searchParams.get("query") ?? undefined, extensions: json("extensions") };
    } else {
      body = JSON.parse(init.body);
    }
    const entries = (Array.isArray(body) ? body : [body]).map((p) => ({
      queryText: typeof p.query === "string" && p.query.length > 0,
      hash: typeof p?.extensions?.persistedQuery?.sha256Hash === "string",
    }));
    const row = { method, array: Array.isArray(body), entries, accept: h.get("accept") };
    all.push(row);
    const res = await fetch(input, init);
    row.status = res.status;
    row.contentType = res.headers.get("content-type");
    row.cacheControl = res.headers.get("cache-control");
    row.etag = res.headers.get("etag");
    const text = await res.clone().text();
    try {
      const v = JSON.parse(text);
      const one = (r) => ({ data: r?.data != null, codes: codes(r?.errors), messages: r?.errors?.map((e) => e.message) });
      row.answer = Array.isArray(v) ? v.map(one) : one(v);
    } catch {
      row.answer = text.slice(0, 300);
    }
    return res;
  };
  return {
    fetch: recordingFetch,
    all,
    take() {
      const r = all.slice(since);
      since = all.length;
      return r;
    },
  };
}

const checks = [];
/** Runs a check: `run(recorder)` returns what it saw (compared with `expected`), with what is
 * only reported, not compared, under `noted`. */
async function check(name, expected, run) {
  const rec = recorder();
  let got;
  let noted;
  try {
    ({ noted, ...got } = await run(rec));
  } catch (e) {
    got = `threw: ${e.stack ?? e.message}`;
  }
  const ok = JSON.stringify(got) === JSON.stringify(expected);
  checks.push({ name, expected, got, ok, noted, requests: rec.all });
}

// 1. Automatic persisted queries. The operation name carries a nonce so the query is new to
// the server even if it has seen this script before.
await check(
  "APQ: hash alone (GET) → PersistedQueryNotFound → query resent → data; then the hash alone runs it",
  {
    first: {
      requests: 2,
      hashOnly: { method: "GET", entries: [{ queryText: false, hash: true }], status: 200, codes: ["PERSISTED_QUERY_NOT_FOUND"], messages: ["PersistedQueryNotFound"] },
      resent: { entries: [{ queryText: true, hash: true }], status: 200, data: true, codes: null },
      data: true,
    },
    second: {
      requests: 1,
      hashOnly: { method: "GET", entries: [{ queryText: false, hash: true }], status: 200, data: true, codes: null },
      sameData: true,
    },
  },
  async (rec) => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
        new HttpLink({ uri, headers, fetch: rec.fetch }),
      ),
    });
    const query = gql(`query ApqProviders_${process.pid}_${Date.now()} { providers { id name } }`);
    const first = await client.query({ query });
    const firstReqs = rec.take();
    const second = await client.query({ query, fetchPolicy: "network-only" });
    const secondReqs = rec.take();
    const [h1, resent] = firstReqs;
    const [h2] = secondReqs;
    const hasProviders = (d) => Array.isArray(d?.providers) && d.providers.length > 0 && !!d.providers[0].name;
    return {
      // The method of the resent request is Apollo's choice: reported, not asserted.
      noted: { resentMethod: resent?.method },
      first: {
        requests: firstReqs.length,
        hashOnly: h1 && { method: h1.method, entries: h1.entries, status: h1.status, codes: h1.answer?.codes, messages: h1.answer?.messages },
        resent: resent && { entries: resent.entries, status: resent.status, data: resent.answer?.data, codes: resent.answer?.codes ?? null },
        data: hasProviders(first.data) && !first.errors,
      },
      second: {
        requests: secondReqs.length,
        hashOnly: h2 && { method: h2.method, entries: h2.entries, status: h2.status, data: h2.answer?.data, codes: h2.answer?.codes ?? null },
        sameData: hasProviders(second.data) && JSON.stringify(second.data) === JSON.stringify(first.data),
      },
    };
  },
);

// 2. Batching: three queries issued in one tick, one of them invalid.
await check(
  "BatchHttpLink: three queries of one tick in ONE POST with an array body, each answered on its own",
  {
    requests: [{ method: "POST", array: true, entries: 3, status: 200 }],
    providers: { data: true, codes: null },
    shops: { data: true, codes: null },
    unknownField: { data: false, codes: ["GRAPHQL_VALIDATION_FAILED"] },
  },
  async (rec) => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new BatchHttpLink({ uri, headers, fetch: rec.fetch, batchMax: 10, batchInterval: 20 }),
    });
    const opts = { fetchPolicy: "no-cache", errorPolicy: "all" };
    const [p, s, bad] = await Promise.all([
      client.query({ query: gql(PROVIDERS), ...opts }),
      client.query({ query: gql(SHOPS), ...opts }),
      client.query({ query: gql("{ providers { id noSuchField } }"), ...opts }),
    ]);
    const requests = rec.take();
    return {
      requests: requests.map((r) => ({ method: r.method, array: r.array, entries: r.entries.length, status: r.status })),
      providers: { data: Array.isArray(p.data?.providers) && p.data.providers.length > 0, codes: codes(p.errors) ?? null },
      shops: { data: s.data?.shops?.edges?.length > 0 && !!s.data.shops.edges[0].node?.id, codes: codes(s.errors) ?? null },
      unknownField: { data: bad.data != null, codes: codes(bad.errors) ?? null },
    };
  },
);

// 3. A document that does not parse. Apollo parses documents itself (gql), so the broken text
// comes from HttpLink's `print` option: the printed document of the operation named
// BrokenSyntax without its last brace.
const brokenPrint = (ast, print) => {
  const text = print(ast);
  return /BrokenSyntax/.test(text) ? text.replace(/\}\s*$/, "") : text;
};
const parseFailure = (accept) => async (rec) => {
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({ uri, headers: accept ? { ...headers, accept } : headers, fetch: rec.fetch, print: brokenPrint }),
  });
  try {
    const r = await client.query({ query: gql("query BrokenSyntax { providers { id } }") });
    return { noApolloError: r };
  } catch (e) {
    return {
      apolloError: e?.name === "ApolloError",
      // Apollo 3: errors of a 2xx answer are graphQLErrors; a 4xx answer is a networkError
      // (ServerError) whose parsed body is `result`.
      graphQLErrors: codes(e.graphQLErrors)?.length ? codes(e.graphQLErrors) : null,
      networkError: e.networkError
        ? { statusCode: e.networkError.statusCode, codes: codes(e.networkError.result?.errors) }
        : null,
    };
  }
};
await check(
  "syntax error, Apollo 3's default accept (*/*): 200, graphQLErrors carry GRAPHQL_PARSE_FAILED",
  { apolloError: true, graphQLErrors: ["GRAPHQL_PARSE_FAILED"], networkError: null },
  parseFailure(null),
);
await check(
  "syntax error, accept application/graphql-response+json: 400, networkError.result.errors carry GRAPHQL_PARSE_FAILED",
  { apolloError: true, graphQLErrors: null, networkError: { statusCode: 400, codes: ["GRAPHQL_PARSE_FAILED"] } },
  parseFailure("application/graphql-response+json,application/json;q=0.9"),
);

const failed = checks.filter((c) => !c.ok);
console.log(JSON.stringify({ checks }, null, 1));
if (failed.length) fail(`${failed.length} check(s) failed: ${failed.map((c) => c.name).join("; ")}`);
process.exit(0);

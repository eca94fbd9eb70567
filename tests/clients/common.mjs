// Shared by the scripts: GraphQL over HTTP with the key, the Daoway sandbox's control routes,
// waiting on a condition, and the report/failure conventions (one JSON report on stdout; a
// failed expectation exits non-zero).
import WebSocket from "ws";

export const fail = (msg, report) => {
  if (report !== undefined) console.log(JSON.stringify(report, null, 1));
  console.error(msg);
  process.exit(1);
};

export const wsUrl = (base) => `${base.replace(/^http/, "ws")}/graphql/ws`;

/** POST /graphql with the key; the JSON answer. */
export async function gql(base, key, query, variables = {}) {
  const r = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`POST /graphql: ${r.status} ${text.slice(0, 300)}`);
  }
}

/** `data` of a query that must succeed without errors. */
export async function gqlOk(base, key, query, variables = {}) {
  const v = await gql(base, key, query, variables);
  if (v.errors || !v.data) throw new Error(`unexpected errors: ${JSON.stringify(v)}`);
  return v.data;
}

/** POST to a Daoway sandbox control route (`/_control/orders/{externalId}/confirm`, …). */
export async function control(base, path) {
  const r = await fetch(`${base}/sandbox/daoway${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
}

/** Places an order (the createOrder input the Rust test found); `{id, externalId}`. */
export async function placeOrder(base, key, input) {
  const d = await gqlOk(
    base,
    key,
    "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id externalId } userErrors { message code } } }",
    { i: input },
  );
  const o = d.createOrder.order;
  if (!o || !o.externalId) throw new Error(`placing an order: ${JSON.stringify(d)}`);
  return o;
}

/** An order's status and its events, oldest first. */
export async function orderEvents(base, key, id) {
  const d = await gqlOk(
    base,
    key,
    "query($id: ID!) { order(id: $id) { status events { id toStatus applied } } }",
    { id },
  );
  return d.order;
}

/** The ids of the events of `orders` that moved them (`applied`), in the order listed. */
export async function appliedEventIds(base, key, orders) {
  const ids = [];
  for (const o of orders) {
    for (const e of (await orderEvents(base, key, o.id)).events) if (e.applied) ids.push(e.id);
  }
  return ids;
}

/** Polls `check` (every 50 ms) until it returns a truthy value; throws naming `what` after `ms`. */
export async function waitFor(what, ms, check) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() >= deadline) throw new Error(`waited ${ms} ms for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the order's status is `status` (its event committed and applied). */
export const waitStatus = (base, key, id, status) =>
  waitFor(`order ${id} to be ${status}`, 15000, async () => (await orderEvents(base, key, id)).status === status);

/** A `ws` WebSocket that remembers every instance graphql-ws opens, so a test can cut one. */
export function trackedWebSocket() {
  const sockets = [];
  class Tracked extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  return { Tracked, sockets };
}

/** `received` against `expected`: the ids lost (expected, never received) and duplicated. */
export function compareIds(received, expected) {
  const seen = new Map();
  for (const id of received) seen.set(id, (seen.get(id) ?? 0) + 1);
  const lost = expected.filter((id) => !seen.has(id));
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const unexpected = received.filter((id) => !expected.includes(id));
  return { lost, duplicated, unexpected };
}

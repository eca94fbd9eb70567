// One graphql-ws subscription held for <seconds> through long idle periods: no reconnect, and
// every event produced during the hold arrives. Usage:
//   node ws_hold.mjs <base-url> <api-key> <seconds> <createOrder input as JSON>
// Order A is placed first and its first event seeds lastEventId (so nothing depends on when the
// subscribe went live). Then, at 10 s, at half the hold and at <seconds> − 10 s, one event is
// produced (A confirmed, A completed, order B placed); in between the socket is idle except for
// the server's pings. At the end: exactly 1 `connected`, 0 `closed`, and every applied event of A
// (after the seed) and B received once. Prints {seconds, connected, closed, events, ...}.
import { createClient } from "graphql-ws";
import {
  appliedEventIds,
  compareIds,
  control,
  fail,
  orderEvents,
  placeOrder,
  trackedWebSocket,
  waitFor,
  waitStatus,
  wsUrl,
} from "./common.mjs";

const [base, key, secondsArg, inputJson] = process.argv.slice(2);
if (!base || !key || !inputJson) fail("usage: node ws_hold.mjs <base-url> <api-key> <seconds> <order-input-json>");
const seconds = Number(secondsArg || 300);
if (!(seconds >= 30)) fail(`the hold must be at least 30 s (got ${secondsArg})`);
const input = JSON.parse(inputJson);

const report = { seconds, connected: 0, closed: [], events: [], moments: [], serverPings: { websocket: 0, protocol: 0 } };
const { Tracked } = trackedWebSocket();
const started = Date.now();
const at = () => Math.round((Date.now() - started) / 100) / 10;

const a = await placeOrder(base, key, input);
const seed = (await orderEvents(base, key, a.id)).events[0];
let lastEventId = seed.id;
const subscriptionErrors = [];

const client = createClient({
  url: wsUrl(base),
  webSocketImpl: Tracked,
  connectionParams: () => ({ Authorization: `Bearer ${key}`, lastEventId }),
  retryAttempts: Infinity,
  retryWait: () => new Promise((r) => setTimeout(r, 500)),
  on: {
    connected: (socket) => {
      report.connected++;
      // Websocket-level pings from the server (the ws library answers them itself).
      socket.on("ping", () => report.serverPings.websocket++);
    },
    closed: (e) => report.closed.push({ at: at(), code: e?.code ?? null, reason: String(e?.reason ?? "") }),
    ping: (received) => {
      if (received) report.serverPings.protocol++;
    },
  },
});
const dispose = client.subscribe(
  { query: "subscription { orderStatusChanged { eventId orderId newStatus } }" },
  {
    next: ({ data, errors }) => {
      if (errors) subscriptionErrors.push(errors);
      const c = data?.orderStatusChanged;
      if (!c) return;
      report.events.push({ at: at(), ...c });
      lastEventId = c.eventId;
    },
    error: (e) => subscriptionErrors.push(e instanceof Error ? e.message : e),
    complete: () => subscriptionErrors.push("completed by the server"),
  },
);

const idleUntil = (s) => new Promise((r) => setTimeout(r, Math.max(0, started + s * 1000 - Date.now())));
const got = (id) => report.events.some((e) => e.eventId === id);
/** Produces one event at `s` seconds and waits for it on the subscription. */
async function moment(s, what, produce, order, status) {
  await idleUntil(s);
  const t = at();
  const o = await produce();
  const target = order ?? o;
  await waitStatus(base, key, target.id, status);
  const ev = (await orderEvents(base, key, target.id)).events.filter((e) => e.applied && e.toStatus === status);
  await waitFor(`${what} on the subscription`, 15000, () => ev.every((e) => got(e.id)));
  report.moments.push({ what, at: t, receivedAfterSecs: Math.round((at() - t) * 10) / 10 });
  return o;
}

let b;
try {
  await moment(10, "A confirmed", () => control(base, `/_control/orders/${a.externalId}/confirm`), a, "ACCEPTED");
  await moment(Math.round(seconds / 2), "A completed", () => control(base, `/_control/orders/${a.externalId}/complete`), a, "COMPLETED");
  b = await moment(seconds - 10, "B placed", () => placeOrder(base, key, input), null, "PENDING");
  await idleUntil(seconds);
  report.heldSecs = at();
} catch (e) {
  report.failure = e.message;
}
report.closedBeforeEnd = report.closed.length;
try {
  // Also after a failure: what was lost or duplicated so far.
  const expected = (await appliedEventIds(base, key, b ? [a, b] : [a])).filter((id) => id !== seed.id);
  Object.assign(report, { expected, ...compareIds(report.events.map((e) => e.eventId), expected) });
} catch (e) {
  report.failure = [report.failure, `reading the expected events: ${e.message}`].filter(Boolean).join("; ");
}
dispose();
await client.dispose();
report.subscriptionErrors = subscriptionErrors;
console.log(JSON.stringify(report, null, 1));
const problems = [];
if (report.failure) problems.push(report.failure);
if (report.connected !== 1) problems.push(`${report.connected} connected events (expected exactly 1)`);
if (report.closedBeforeEnd) problems.push(`${report.closedBeforeEnd} closed events during the hold`);
if (report.lost?.length) problems.push(`lost ${report.lost.length}`);
if (report.duplicated?.length) problems.push(`duplicated ${report.duplicated.length}`);
if (report.unexpected?.length) problems.push(`unexpected ${report.unexpected.length}`);
if (subscriptionErrors.length) problems.push("the subscription errored or completed");
if (problems.length) {
  console.error(problems.join("; "));
  process.exit(1);
}
process.exit(0);

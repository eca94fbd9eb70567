// Resuming with the real graphql-ws client: `lastEventId` in connectionParams (evaluated on every
// (re)connect), retryAttempts: Infinity. Usage:
//   node ws_resume.mjs <base-url> <api-key> <createOrder input as JSON>
// The script places orders and moves them through the Daoway sandbox's control routes itself:
//   1. order A is placed; its first event's id seeds lastEventId, so the subscription replays
//      from there and nothing depends on when the first subscribe went live;
//   2. A is confirmed; the event arrives;
//   3. the socket is cut (`terminate()` on the `ws` instance: no close handshake, code 1006);
//   4. while it is down, A is completed and order B is placed and confirmed; retryWait holds the
//      reconnect until the server shows all three moves committed (a condition, not a sleep);
//   5. the client reconnects by itself with lastEventId; the missed events arrive;
//   6. B is completed, live on the new connection.
// Then every applied event of A (after the seed) and B, read over GraphQL, must have arrived
// exactly once. Prints {received, expected, lost, duplicated, unexpected, connected, closed, ...}.
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

const [base, key, inputJson] = process.argv.slice(2);
if (!base || !key || !inputJson) fail("usage: node ws_resume.mjs <base-url> <api-key> <order-input-json>");
const input = JSON.parse(inputJson);

const report = { received: [], connected: [], closed: [], retryWaits: 0 };
const { Tracked, sockets } = trackedWebSocket();
let lastEventId = null;
let releaseReconnect = () => {};
let reconnectAllowed = new Promise((r) => (releaseReconnect = r));
const subscriptionErrors = [];

const a = await placeOrder(base, key, input);
const orders = [a];
const seed = (await orderEvents(base, key, a.id)).events[0];
lastEventId = seed.id;
report.seedEventId = seed.id;

const client = createClient({
  url: wsUrl(base),
  webSocketImpl: Tracked,
  connectionParams: () => ({ Authorization: `Bearer ${key}`, lastEventId }),
  retryAttempts: Infinity,
  // Reconnects wait until the events of the disconnected period are committed.
  retryWait: async () => {
    report.retryWaits++;
    await reconnectAllowed;
  },
  on: {
    connected: (_socket, _payload, wasRetry) => report.connected.push({ wasRetry, lastEventId }),
    closed: (e) => report.closed.push({ code: e?.code ?? null }),
  },
});
const dispose = client.subscribe(
  { query: "subscription { orderStatusChanged { eventId orderId newStatus } }" },
  {
    next: ({ data, errors }) => {
      if (errors) subscriptionErrors.push(errors);
      const c = data?.orderStatusChanged;
      if (!c) return;
      report.received.push(c.eventId);
      lastEventId = c.eventId;
    },
    error: (e) => subscriptionErrors.push(e instanceof Error ? e.message : e),
    complete: () => subscriptionErrors.push("completed by the server"),
  },
);

const got = (id) => report.received.includes(id);
const eventTo = async (order, status) => {
  const o = await orderEvents(base, key, order.id);
  return o.events.filter((e) => e.applied && e.toStatus === status).map((e) => e.id);
};

try {
  // 2. A live move.
  await control(base, `/_control/orders/${a.externalId}/confirm`);
  await waitStatus(base, key, a.id, "ACCEPTED");
  const [accepted] = await eventTo(a, "ACCEPTED");
  await waitFor("A's ACCEPTED event on the subscription", 15000, () => got(accepted));

  // 3. Cut the socket under the client.
  const before = report.closed.length;
  const cut = sockets.at(-1);
  cut.terminate();
  await waitFor("the client to see its socket closed", 10000, () => report.closed.length > before);
  report.receivedBeforeCut = report.received.length;

  // 4. Events while it is down, committed before it may reconnect.
  await control(base, `/_control/orders/${a.externalId}/complete`);
  const b = await placeOrder(base, key, input);
  orders.push(b);
  await control(base, `/_control/orders/${b.externalId}/confirm`);
  await waitStatus(base, key, a.id, "COMPLETED");
  await waitStatus(base, key, b.id, "ACCEPTED");
  report.receivedWhileDown = report.received.length - report.receivedBeforeCut;
  releaseReconnect();

  // 5. The client reconnects by itself and replays what it missed.
  await waitFor("the automatic reconnect", 15000, () => report.connected.length === 2);
  const missed = [...(await eventTo(a, "COMPLETED")), ...(await appliedEventIds(base, key, [b]))];
  await waitFor("the missed events on the new connection", 15000, () => missed.every(got));

  // 6. Live again.
  await control(base, `/_control/orders/${b.externalId}/complete`);
  await waitStatus(base, key, b.id, "COMPLETED");
  const [completed] = await eventTo(b, "COMPLETED");
  await waitFor("B's COMPLETED event on the new connection", 15000, () => got(completed));

  // Below: everything of A after the seed and everything of B, exactly once. A ping round trip
  // on the current socket first, so a duplicate already sent would be here by now.
  const current = sockets.at(-1);
  await new Promise((resolve) => {
    current.once("pong", resolve);
    current.ping();
  });
} catch (e) {
  report.failure = e.message;
}
try {
  // Also after a failure: what was lost or duplicated so far.
  const expected = (await appliedEventIds(base, key, orders)).filter((id) => id !== seed.id);
  Object.assign(report, { expected, ...compareIds(report.received, expected) });
} catch (e) {
  report.failure = [report.failure, `reading the expected events: ${e.message}`].filter(Boolean).join("; ");
}
dispose();
await client.dispose();
report.subscriptionErrors = subscriptionErrors;
report.lostCount = report.lost?.length;
report.duplicatedCount = report.duplicated?.length;
console.log(JSON.stringify(report, null, 1));
const problems = [];
if (report.failure) problems.push(report.failure);
if (report.lost?.length) problems.push(`lost ${report.lost.length}`);
if (report.duplicated?.length) problems.push(`duplicated ${report.duplicated.length}`);
if (report.unexpected?.length) problems.push(`unexpected ${report.unexpected.length}`);
if (report.receivedWhileDown) problems.push(`${report.receivedWhileDown} event(s) arrived while the socket was down`);
if (report.connected.length !== 2 || !report.connected[1].wasRetry) problems.push("not exactly one automatic reconnect");
if (subscriptionErrors.length) problems.push("the subscription errored or completed");
if (problems.length) {
  console.error(problems.join("; "));
  process.exit(1);
}
process.exit(0);

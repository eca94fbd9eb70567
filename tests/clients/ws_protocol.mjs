// The graphql-transport-ws close codes and errors, over a raw `ws` socket (no client library
// to smooth anything over). Usage:
//   node ws_protocol.mjs <base-url> <api-key>
// The server must run with websocket.init_timeout_secs = 1 (the 4408 check waits for it).
// Prints {"checks": [{name, expected, got, ok}]} and exits non-zero if any check failed.
import WebSocket from "ws";
import { fail, wsUrl } from "./common.mjs";

const [base, key] = process.argv.slice(2);
if (!base || !key) fail("usage: node ws_protocol.mjs <base-url> <api-key>");
const auth = { Authorization: `Bearer ${key}` };
const LONG = "subscription { orderStatusChanged { eventId } }";

/** An open socket and a queue of what it received: messages, then `{type: "closed", code}`. */
async function open() {
  const ws = new WebSocket(wsUrl(base), "graphql-transport-ws");
  const queue = [];
  let wake = () => {};
  const push = (m) => {
    queue.push(m);
    wake();
  };
  ws.on("message", (data) => {
    try {
      push(JSON.parse(data.toString()));
    } catch {
      push({ type: "unparsable", data: data.toString() });
    }
  });
  ws.on("close", (code, reason) => push({ type: "closed", code, reason: reason.toString() }));
  ws.on("error", (e) => push({ type: "closed", code: null, error: e.message }));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  if (ws.protocol !== "graphql-transport-ws") throw new Error(`subprotocol picked: ${ws.protocol}`);
  const next = async (ms = 10000) => {
    const deadline = Date.now() + ms;
    while (!queue.length) {
      const left = deadline - Date.now();
      if (left <= 0) return { type: "timeout" };
      await new Promise((r) => {
        wake = r;
        setTimeout(r, left);
      });
    }
    return queue.shift();
  };
  const send = (m) => ws.send(typeof m === "string" ? m : JSON.stringify(m));
  // The close code after whatever came before it (pongs, acks, nexts).
  const closeCode = async (ms = 10000) => {
    for (;;) {
      const m = await next(ms);
      if (m.type === "closed") return m.code;
      if (m.type === "timeout") return "no close";
    }
  };
  return { ws, next, send, closeCode };
}

/** A socket with the key's connection_init acknowledged. */
async function acked() {
  const s = await open();
  s.send({ type: "connection_init", payload: auth });
  const m = await s.next();
  if (m.type !== "connection_ack") throw new Error(`connection_init answered with ${JSON.stringify(m)}`);
  return s;
}

const checks = [];
async function check(name, expected, run) {
  let got;
  try {
    got = await run();
  } catch (e) {
    got = `threw: ${e.message}`;
  }
  checks.push({ name, expected, got, ok: JSON.stringify(got) === JSON.stringify(expected) });
}

await check("4400 on a message that is not JSON", 4400, async () => {
  const s = await acked();
  s.send("{not json");
  return s.closeCode();
});
await check("4400 on a message of an unknown type", 4400, async () => {
  const s = await acked();
  s.send({ type: "start", id: "1", payload: { query: "{ __typename }" } });
  return s.closeCode();
});
await check("4400 on a subscribe without a query", 4400, async () => {
  const s = await acked();
  s.send({ type: "subscribe", id: "1", payload: {} });
  return s.closeCode();
});
await check("4401 on a subscribe before connection_init", 4401, async () => {
  const s = await open();
  s.send({ type: "subscribe", id: "1", payload: { query: "{ __typename }" } });
  return s.closeCode();
});
await check("4403 on connection_init with a forged key", 4403, async () => {
  const s = await open();
  s.send({ type: "connection_init", payload: { Authorization: "Bearer oh_sandbox_forged" } });
  return s.closeCode();
});
await check("4409 on a duplicate subscribe id while it runs", 4409, async () => {
  const s = await acked();
  const sub = { type: "subscribe", id: "dup", payload: { query: LONG } };
  s.send(sub);
  // The first one is running once a ping sent after it is answered (messages are read in order).
  s.send({ type: "ping" });
  const pong = await s.next();
  if (pong.type !== "pong") throw new Error(`expected a pong, got ${JSON.stringify(pong)}`);
  s.send(sub);
  return s.closeCode();
});
await check("4429 on a second connection_init", 4429, async () => {
  const s = await acked();
  s.send({ type: "connection_init", payload: auth });
  return s.closeCode();
});
await check("4408 without connection_init (init_timeout_secs = 1)", 4408, async () => {
  const s = await open();
  return s.closeCode(15000);
});
await check("a document that does not parse: one `error` message, no `next`", "error", async () => {
  const s = await acked();
  s.send({ type: "subscribe", id: "bad", payload: { query: "subscription { orderStatusChanged { eventId " } });
  const m = await s.next();
  if (m.type === "error" && (m.id !== "bad" || !Array.isArray(m.payload) || !m.payload[0]?.message))
    return `malformed error message: ${JSON.stringify(m)}`;
  // The socket stays up: a ping after it is answered, with nothing for "bad" in between.
  s.send({ type: "ping" });
  const after = await s.next();
  if (m.type === "error" && after.type !== "pong") return `after the error: ${JSON.stringify(after)}`;
  s.ws.close(1000);
  return m.type === "error" ? "error" : JSON.stringify(m);
});

const failed = checks.filter((c) => !c.ok);
console.log(JSON.stringify({ checks }, null, 1));
if (failed.length) fail(`${failed.length} check(s) failed: ${failed.map((c) => c.name).join("; ")}`);
process.exit(0);

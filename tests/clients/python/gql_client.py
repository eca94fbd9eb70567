"""Python's `gql` client against orderhub, as an analyst's or a back end's script uses it.

Usage: python gql_client.py <base URL> <API key> <createOrder input as JSON>

Checks, each recorded in the report:
- the schema is fetched by introspection and documents are validated against it locally;
- a query runs over HTTP with the key; a refused argument raises `TransportQueryError` whose
  error carries `extensions.code` INVALID_INPUT and the argument's name;
- Relay paging: `totalCount`, and `last`/`before` give back the page before;
- a subscription over graphql-transport-ws (the `init_payload` carries the key) receives the
  event of an order placed while it listens, then a second connection with `lastEventId`
  in its `init_payload` replays it.

Prints one JSON report on stdout; exits 1 when a check failed.
"""

import asyncio
import json
import sys

from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

BASE, KEY, ORDER_INPUT = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
WS = BASE.replace("http", "ws", 1) + "/graphql/ws"
checks = []


def check(name, ok, detail=None):
    checks.append({"name": name, "ok": bool(ok), "detail": detail})


def request(text, variables=None):
    r = gql(text)
    if variables is not None:
        r.variable_values = variables
    return r


STATUS_SUB = """subscription($after: ID) {
  orderStatusChanged(afterEventId: $after) { eventId orderId newStatus }
}"""

PLACE = """mutation($i: CreateOrderInput!) {
  createOrder(input: $i) { order { id events { id } } userErrors { code message } }
}"""

PAGE = """query($last: Int, $before: String) {
  orders(last: $last, before: $before) {
    totalCount pageInfo { startCursor hasPreviousPage } edges { node { id } }
  }
}"""


async def next_event(init_payload, after=None, meanwhile=None):
    """The first event a new graphql-transport-ws connection delivers; `meanwhile` runs
    once the subscription is asked for. The server replays from `after` (or the
    init payload's `lastEventId`) before going live, so nothing depends on timing."""
    transport = WebsocketsTransport(
        url=WS, init_payload=init_payload, subprotocols=["graphql-transport-ws"]
    )
    async with Client(transport=transport) as ws:
        stream = ws.subscribe(request(STATUS_SUB, {"after": after}))
        step = asyncio.ensure_future(stream.__anext__())
        if meanwhile is not None:
            await meanwhile()
        event = await asyncio.wait_for(step, 20)
        await stream.aclose()
        return event["orderStatusChanged"]


async def main():
    auth = {"Authorization": f"Bearer {KEY}"}
    http = AIOHTTPTransport(url=f"{BASE}/graphql", headers=auth)
    async with Client(transport=http, fetch_schema_from_transport=True) as s:
        check("schema fetched by introspection", s.client.schema is not None)
        providers = await s.execute(request("{ providers { id role capabilities } }"))
        ids = [p["id"] for p in providers["providers"]]
        check("query over HTTP", len(ids) == 4, ids)
        try:
            await s.execute(
                request("query($id: ID!) { order(id: $id) { id } }", {"id": "nonsense"})
            )
            check("a refusal raises TransportQueryError", False, "no error")
        except TransportQueryError as e:
            ext = (e.errors or [{}])[0].get("extensions", {})
            check("a refusal raises TransportQueryError with its code",
                  ext.get("code") == "INVALID_INPUT", e.errors)

        placed = []

        async def place():
            d = await s.execute(request(PLACE, {"i": ORDER_INPUT}))
            order = d["createOrder"]["order"]
            placed.append(order)
            return order

        first = await place()
        # A subscription from the first order's event hears the second order.
        event = await next_event(auth, after=first["events"][0]["id"], meanwhile=place)
        check("the subscription hears an order placed meanwhile",
              event["orderId"] == placed[1]["id"], event)
        # While no connection is open, a third order; a new connection resuming with
        # lastEventId in its init payload gets it replayed.
        await place()
        resumed = await next_event({**auth, "lastEventId": event["eventId"]})
        check("lastEventId in the init payload replays what was missed",
              resumed["orderId"] == placed[2]["id"], resumed)

        oldest = await s.execute(request(PAGE, {"last": 1}))
        conn = oldest["orders"]
        check("totalCount counts every order", conn["totalCount"] == 3, conn["totalCount"])
        check("last alone is the oldest end",
              conn["edges"][0]["node"]["id"] == placed[0]["id"], conn)
        back = await s.execute(
            request(PAGE, {"last": 1, "before": conn["pageInfo"]["startCursor"]})
        )
        check("last/before pages back toward the newest",
              back["orders"]["edges"][0]["node"]["id"] == placed[1]["id"], back)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:  # a crash is a failed check, reported
        check("ran to the end", False, repr(e))
    print(json.dumps({"checks": checks}, ensure_ascii=False, indent=1))
    sys.exit(0 if checks and all(c["ok"] for c in checks) else 1)

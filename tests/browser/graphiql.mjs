// GraphiQL as a person uses it, in headless Chromium: the page loads under its
// Content-Security-Policy with no error, runs a query over HTTP with the API key typed into the
// headers editor, and runs a subscription over graphql-ws with the same key (GraphiQL sends the
// headers as the connection_init payload). Usage:
//   node graphiql.mjs <base-url> <api-key> <createOrder input as JSON>
// The order input is placed (over HTTP, with the key) until the subscription shows its event.
import { chromium } from "playwright-core";

const [base, key, orderInput] = process.argv.slice(2);
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
if (!base || !key || !orderInput) fail("usage: node graphiql.mjs <base-url> <api-key> <order-input-json>");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const problems = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // GraphiQL introspects on load, before a key is typed in: those 401s are expected.
    if (m.type() === "error" && !m.text().includes("status of 401")) problems.push(`console: ${m.text()}`);
  });
  const response = await page.goto(`${base}/graphiql`);
  const csp = response.headers()["content-security-policy"] || "";
  if (!csp.includes("frame-ancestors 'none'")) fail(`no CSP on the page: ${csp}`);
  await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 20000 });
  // It opens with the README's first steps as tabs, named by their operations.
  const tabs = await page.evaluate(() =>
    [...document.querySelectorAll(".graphiql-tab")].map((t) => t.textContent.trim()),
  );

  // Type the key into the headers editor, then a query, and run it.
  const setEditor = async (selector, text) => {
    await page.evaluate(
      ([sel, value]) => document.querySelector(`${sel} .CodeMirror`).CodeMirror.setValue(value),
      [selector, text],
    );
  };
  // Each tab has its own headers: the key goes into the open tab's headers editor (the tool
  // pane holds the variables editor, then the headers editor).
  const typeKey = () =>
    page.evaluate((value) => {
      const tools = [...document.querySelectorAll(".graphiql-editor-tool .CodeMirror")];
      tools[tools.length - 1].CodeMirror.setValue(value);
    }, JSON.stringify({ Authorization: `Bearer ${key}` }));
  await page.getByText("Headers", { exact: true }).click();
  await typeKey();
  // Runs the open tab as it is (the README's step), waiting for `expect` in the answer.
  const run = async (expect) => {
    await page.click(".graphiql-execute-button");
    await page
      .waitForFunction(
        (text) => {
          const out = document.querySelector(".graphiql-response .CodeMirror");
          return out && out.CodeMirror.getValue().includes(text);
        },
        expect,
        { timeout: 20000 },
      )
      .catch(async (e) => {
        const shown = await page.evaluate(() =>
          [...document.querySelectorAll(".CodeMirror")].map((c) => c.CodeMirror.getValue()),
        );
        throw new Error(`${e.message}; editors: ${JSON.stringify(shown)}`);
      });
    return page.evaluate(() => document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue());
  };
  // The first tab, the README's Catalogue query, runs as it opens.
  const providers = await run('"DAOWAY"');
  if (!providers.includes('"DADA"')) fail(`providers: ${providers}`);
  // Over graphql-ws with the key: the README's WatchDaoway tab; the first event comes from the
  // order the test places.
  await page.locator(".graphiql-tab", { hasText: "WatchDaoway" }).click();
  await page.waitForFunction(
    () => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue().includes("WatchDaoway"),
    null,
    { timeout: 10000 },
  );
  await typeKey();
  await page.click(".graphiql-execute-button");
  const streamedNow = () =>
    page.evaluate(() => {
      const out = document.querySelector(".graphiql-response .CodeMirror");
      return out ? out.CodeMirror.getValue() : "";
    });
  // The subscription goes live a moment after the click; each order placed makes an event,
  // so place one until the stream shows an event (a condition, bounded at 30 tries).
  for (let i = 0; i < 30 && !(await streamedNow()).includes("newStatus"); i++) {
    // GraphiQL parses the editor's text a moment after it changes: a click that came first
    // ran the previous (query) document's transport. Run it again then.
    // (A click right after switching tabs can also carry the previous tab's operation name.)
    const shown = await streamedNow();
    if (shown.includes("not supported on this transport") || shown.includes("Unknown operation named")) {
      await page.click(".graphiql-execute-button");
    }
    const placed = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } userErrors { message } } }",
        variables: { i: JSON.parse(orderInput) },
      }),
    }).then((r) => r.json());
    if (!placed.data?.createOrder?.order) fail(`placing an order: ${JSON.stringify(placed)}`);
    await page.waitForFunction(
      () => (document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue() || "").includes("newStatus"),
      null,
      { timeout: 1000 },
    ).catch(() => {});
  }
  const streamed = await streamedNow();
  if (!streamed.includes("PENDING")) fail(`no event streamed: ${streamed}`);
  console.log(JSON.stringify({ providers: JSON.parse(providers), streamed, tabs }));
} catch (e) {
  problems.push(`failed: ${e.message}`);
} finally {
  await browser.close();
}
if (problems.length) fail(problems.join("\n"));

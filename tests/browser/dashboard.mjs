// The dashboard in headless Chromium, as an analyst uses it: the page loads under its
// Content-Security-Policy with nothing fetched from outside the server, says it needs a key
// when it has none, then charts the data once a key is typed in. Prints what the charts hold
// (Chart.js's own data) and the table's rows as JSON, and saves a screenshot. Usage:
//   node dashboard.mjs <base-url> <api-key> <screenshot.png>
import { chromium } from "playwright-core";

const [base, key, screenshot] = process.argv.slice(2);
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
if (!base || !key || !screenshot) fail("usage: node dashboard.mjs <base-url> <api-key> <screenshot.png>");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const problems = [];
const outside = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  // Offline: anything not from the server itself is refused and reported.
  const origin = new URL(base).origin;
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:")) return route.continue();
    outside.push(url);
    return route.abort();
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // The first load has no key: that 401 is expected.
    if (m.type() === "error" && !m.text().includes("status of 401")) problems.push(`console: ${m.text()}`);
  });
  const response = await page.goto(`${base}/dashboard`);
  const csp = response.headers()["content-security-policy"] || "";
  if (!csp.includes("script-src 'self'")) fail(`no CSP on the page: ${csp}`);
  await page.waitForSelector("body[data-state=error]", { timeout: 20000 });
  const withoutKey = await page.textContent("#status");

  await page.fill("#key", key);
  await page.click("button[type=submit]");
  await page.waitForSelector("body[data-state=ready]", { timeout: 20000 }).catch(async (e) => {
    fail(`${e.message}; status: ${await page.textContent("#status")}`);
  });
  await page.screenshot({ path: screenshot, fullPage: true });
  const seen = await page.evaluate(() => {
    const chart = (id) => {
      const c = Chart.getChart(id);
      return {
        type: c.config.type,
        labels: c.data.labels,
        datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })),
        drawn: c.canvas.width > 0 && c.canvas.height > 0,
      };
    };
    return {
      orders: chart("orders-chart"),
      fees: chart("fees-chart"),
      scorecard: chart("scorecard-chart"),
      table: [...document.querySelectorAll("#scorecard tbody tr")].map((r) =>
        [...r.cells].map((c) => c.textContent),
      ),
      status: document.querySelector("#status").textContent,
    };
  });
  if (problems.length) fail(problems.join("\n"));
  if (outside.length) fail(`requests outside the server: ${outside.join(", ")}`);
  console.log(JSON.stringify({ withoutKey, ...seen }));
} finally {
  await browser.close();
}

// GraphQL over HTTP conformance: graphql-http's auditServer against /graphql, every request
// with the API key. Usage:
//   node audit.mjs <base-url> <api-key>
// Prints {"results": [{id, name, status, reason?}], "counts": {ok, notice, warn, error}} and exits
// non-zero when an audit ends in `warn` or `error` (a `notice` is informational).
import { auditServer } from "graphql-http";

const [base, key] = process.argv.slice(2);
if (!base || !key) {
  console.error("usage: node audit.mjs <base-url> <api-key>");
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};

const audited = await auditServer({ url: `${base}/graphql`, fetchFn });
const results = [];
for (const r of audited) {
  const row = { id: r.id, name: r.name, status: r.status };
  if (r.status !== "ok") {
    row.reason = r.reason;
    // The answer the audit judged, for the report: its status and (a bounded) body.
    try {
      row.response = { status: r.response.status, body: (await r.response.text()).slice(0, 500) };
    } catch {
      // the audit may already have read the body
      row.response = { status: r.response.status };
    }
  }
  results.push(row);
}
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
console.log(JSON.stringify({ counts, results }, null, 1));
if (counts.warn || counts.error) {
  console.error(`${counts.error} error(s), ${counts.warn} warning(s) of ${results.length} audits`);
  process.exit(1);
}
process.exit(0);

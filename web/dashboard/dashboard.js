// orderhub's dashboard (served at /dashboard/app.js). One GraphQL query, the same an analyst
// runs in GraphiQL, feeds three Chart.js charts and a table: orders and delivery fees per
// China day per provider (orderStats by DAY × PROVIDER) and the courier scorecard
// (courierScorecard). The API key typed in goes to /graphql as `Authorization: Bearer …`
// and is kept in this tab's session storage only. The page's state is on <body data-state>:
// idle, loading, ready or error.
"use strict";

(function () {
  var QUERY =
    "query Dashboard($f: OrderFilter!) {\n" +
    "  perDay: orderStats(filter: $f, groupBy: [DAY, PROVIDER], timeZone: \"+08:00\") {\n" +
    "    key { value } orders deliveryFees { fen }\n" +
    "  }\n" +
    "  courierScorecard(filter: $f) {\n" +
    "    network company city deliveries accepted acceptanceRate medianTimeToAcceptSeconds\n" +
    "    cancelledByMerchant cancelledByPlatform averageFee { fen } feePerKm { fen } penalties { fen }\n" +
    "  }\n" +
    "}";
  var PROVIDERS = ["DAOWAY", "DADA", "WECHAT", "DAOJIA58"];
  var COLOURS = { DAOWAY: "#0969da", DADA: "#bf8700", WECHAT: "#1a7f37", DAOJIA58: "#8250df" };
  var KEY_STORE = "orderhub.dashboard.key";
  var DAY_MS = 86400000;
  var CHINA_MS = 8 * 3600000;
  var charts = {};

  function $(id) {
    return document.getElementById(id);
  }

  function setState(state, message) {
    document.body.dataset.state = state;
    $("status").textContent = message || "";
  }

  // The China calendar day (YYYY-MM-DD) of a time in milliseconds.
  function chinaDay(ms) {
    return new Date(ms + CHINA_MS).toISOString().slice(0, 10);
  }

  // The last `n` China days, oldest first, and the instant the first one began.
  function lastDays(n) {
    var today = chinaDay(Date.now());
    var todayStart = Date.parse(today + "T00:00:00+08:00");
    var days = [];
    for (var i = n - 1; i >= 0; i--) days.push(chinaDay(todayStart - i * DAY_MS));
    return { days: days, from: new Date(todayStart - (n - 1) * DAY_MS).toISOString() };
  }

  function yuan(fen) {
    return fen / 100;
  }

  function money(m) {
    return m ? (m.fen / 100).toFixed(2) : "–";
  }

  function percent(rate) {
    return (rate * 100).toFixed(1) + "%";
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m > 0 ? m + " min " + s + " s" : s + " s";
  }

  async function graphql(key, variables) {
    var headers = { "content-type": "application/json", accept: "application/json" };
    if (key) headers.authorization = "Bearer " + key;
    var response = await fetch("/graphql", {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ query: QUERY, operationName: "Dashboard", variables: variables }),
    });
    var body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    var errors = (body && body.errors) || [];
    if (response.status === 401 || errors.some(function (e) { return e.extensions && e.extensions.code === "UNAUTHENTICATED"; })) {
      throw new Error("This server needs an API key with the orders:read scope: type one in above.");
    }
    if (errors.length > 0) {
      var e = errors[0];
      throw new Error((e.extensions && e.extensions.code ? e.extensions.code + ": " : "") + e.message);
    }
    if (!response.ok || !body || !body.data) throw new Error("The API answered " + response.status + ".");
    return body.data;
  }

  // Datasets per provider over `days` from orderStats buckets keyed [DAY, PROVIDER].
  function perProvider(buckets, days, value) {
    var index = {};
    days.forEach(function (d, i) {
      index[d] = i;
    });
    var series = {};
    buckets.forEach(function (b) {
      var day = b.key[0].value;
      var provider = b.key[1].value;
      if (!(day in index)) return;
      if (!series[provider]) series[provider] = days.map(function () { return 0; });
      series[provider][index[day]] += value(b);
    });
    return PROVIDERS.filter(function (p) { return series[p]; }).map(function (p) {
      return { label: p, data: series[p], backgroundColor: COLOURS[p], borderColor: COLOURS[p] };
    });
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[id] = new Chart($(id), config);
  }

  function scoreLabel(s) {
    return (s.company || s.network) + " · " + s.city;
  }

  function fillTable(scores) {
    var body = $("scorecard").querySelector("tbody");
    body.replaceChildren();
    scores.forEach(function (s) {
      var row = document.createElement("tr");
      [
        s.network,
        s.company || "–",
        s.city,
        String(s.deliveries),
        percent(s.acceptanceRate),
        duration(s.medianTimeToAcceptSeconds),
        String(s.cancelledByMerchant),
        String(s.cancelledByPlatform),
        money(s.averageFee),
        money(s.feePerKm),
        money(s.penalties),
      ].forEach(function (text) {
        var cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
  }

  async function show() {
    var key = $("key").value.trim();
    if (key) sessionStorage.setItem(KEY_STORE, key);
    var range = lastDays(Number($("days").value) || 30);
    setState("loading", "Loading…");
    try {
      var data = await graphql(key, { f: { createdAfter: range.from } });
      draw("orders-chart", {
        type: "bar",
        data: { labels: range.days, datasets: perProvider(data.perDay, range.days, function (b) { return b.orders; }) },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
      });
      draw("fees-chart", {
        type: "line",
        data: {
          labels: range.days,
          // Only the providers that charged delivery fees (service orders have none).
          datasets: perProvider(data.perDay, range.days, function (b) { return yuan(b.deliveryFees.fen); }).filter(
            function (d) { return d.data.some(function (v) { return v !== 0; }); },
          ),
        },
        options: { scales: { y: { beginAtZero: true } } },
      });
      var scores = data.courierScorecard;
      // A bar pair per row, each row tall enough for its label.
      $("scorecard-chart").parentNode.style.height = Math.max(200, 120 + scores.length * 34) + "px";
      draw("scorecard-chart", {
        type: "bar",
        data: {
          labels: scores.map(scoreLabel),
          datasets: [
            {
              label: "Fee per km (yuan)",
              data: scores.map(function (s) { return s.feePerKm ? yuan(s.feePerKm.fen) : null; }),
              backgroundColor: scores.map(function (s) { return COLOURS[s.network] || "#57606a"; }),
              xAxisID: "x",
            },
            {
              label: "Acceptance rate (%)",
              data: scores.map(function (s) { return Math.round(s.acceptanceRate * 1000) / 10; }),
              backgroundColor: "#d0d7de",
              xAxisID: "rate",
            },
          ],
        },
        options: {
          indexAxis: "y",
          scales: {
            y: { ticks: { autoSkip: false } },
            x: { beginAtZero: true, position: "bottom", title: { display: true, text: "yuan per km" } },
            rate: { beginAtZero: true, max: 100, position: "top", title: { display: true, text: "% accepted" } },
          },
        },
      });
      fillTable(scores);
      var total = data.perDay.reduce(function (n, b) { return n + b.orders; }, 0);
      setState("ready", total + " orders in the last " + range.days.length + " days, " + scores.length + " courier rows.");
    } catch (e) {
      setState("error", e.message);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("key").value = sessionStorage.getItem(KEY_STORE) || "";
    $("controls").addEventListener("submit", function (event) {
      event.preventDefault();
      show();
    });
    show();
  });
})();

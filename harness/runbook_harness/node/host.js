// What every Node app of the stack shares: its configuration from the process environment, and
// what its proxy and host add to each answer (security headers, HSTS where a max-age is set, the
// Date of its clock, skewed where configured, and a delay under load).
"use strict";
const http = require("node:http");
const pg = require("pg");

function flag(name, fallback = true) {
  const value = process.env[name] ?? String(fallback);
  return ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}

function addedHeaders() {
  if (!flag("SECURITY_HEADERS")) return {};
  const headers = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
  };
  if (process.env.HSTS_MAX_AGE) {
    headers["Strict-Transport-Security"] = `max-age=${process.env.HSTS_MAX_AGE}; includeSubDomains`;
  }
  return headers;
}

// Wraps a request handler with the host's behaviour.
function hosted(handler) {
  const skewMs = Number(process.env.CLOCK_SKEW_SECONDS || 0) * 1000;
  const delayMs = Number(process.env.RESPONSE_DELAY_MS || 0);
  const headers = addedHeaders();
  return (req, res) => {
    res.sendDate = false;
    res.setHeader("Date", new Date(Date.now() + skewMs).toUTCString());
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (delayMs > 0) setTimeout(() => handler(req, res), delayMs);
    else handler(req, res);
  };
}

// --host and --port from the command line, as the stack passes them.
function address() {
  const args = process.argv.slice(2);
  const value = (name, fallback) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : fallback;
  };
  return { host: value("--host", "127.0.0.1"), port: Number(value("--port", "0")) };
}

// Serves `handler` with the host's behaviour; `outer` wraps that whole (metrics that count the
// host's delay too).
function listen(handler, outer = (whole) => whole) {
  const { host, port } = address();
  http.createServer(outer(hosted(handler))).listen(port, host);
}

// Whether the app's own DATABASE_URL connects and answers SELECT 1 within 2 s.
async function databaseOk() {
  const client = new pg.Client({
    connectionString: process.env.DATABASE_URL || "",
    connectionTimeoutMillis: 2000,
    query_timeout: 2000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    client.end().catch(() => {});
  }
}

// One pool per process on the app's own DATABASE_URL; each query gives up after 2 s.
let pool = null;
function query(text, values) {
  pool ??= new pg.Pool({ connectionString: process.env.DATABASE_URL || "", max: 5,
                         connectionTimeoutMillis: 2000, query_timeout: 2000 });
  return pool.query(text, values);
}

module.exports = { address, databaseOk, flag, hosted, listen, query };

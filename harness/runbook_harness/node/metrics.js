// platform API's Prometheus metrics, made with prom-client: a request counter by method, route and
// status and a request-duration histogram, served at /metrics in the text exposition format. The
// time counted runs from the request's arrival to the last byte of the answer, the host's delay
// included; scrapes of /metrics are not counted. The configuration may break it as a deploy would:
// METRICS=false serves no /metrics, METRICS_DURATION=false leaves the duration out, and
// METRICS_DURATION_TYPE=summary exposes it as a summary (no buckets).
"use strict";
const client = require("prom-client");
const { flag } = require("./host");

const PATH = "/metrics";

function measured(prefix) {
  if (!flag("METRICS")) return (handler) => handler;
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: `${prefix}_requests_total`, help: "HTTP requests answered",
    labelNames: ["method", "route", "status"], registers: [registry],
  });
  let duration = null;
  if (flag("METRICS_DURATION")) {
    const Kind = process.env.METRICS_DURATION_TYPE === "summary" ? client.Summary : client.Histogram;
    duration = new Kind({
      name: `${prefix}_request_duration_seconds`, help: "Time to answer an HTTP request",
      labelNames: ["method", "route"], registers: [registry],
    });
  }
  return (handler) => (req, res) => {
    if (req.url === PATH) {
      registry.metrics().then((text) => {
        res.writeHead(200, { "Content-Type": registry.contentType });
        res.end(text);
      });
      return;
    }
    const started = process.hrtime.bigint();
    const path = req.url.split("?")[0];
    res.on("finish", () => {
      const route = res.statusCode === 404 ? "unmatched" : path;
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      duration?.observe({ method: req.method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    handler(req, res);
  };
}

module.exports = { measured };

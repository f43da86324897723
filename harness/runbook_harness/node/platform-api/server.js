// platform's API: a tRPC router served by tRPC's own Node HTTP adapter under /trpc, so that its
// answers carry tRPC's real result and error envelopes.
"use strict";
const { initTRPC, TRPCError } = require("@trpc/server");
const { createHTTPHandler } = require("@trpc/server/adapters/standalone");
const { databaseOk, listen } = require("../host");
const { measured } = require("../metrics");

const t = initTRPC.create();

const appRouter = t.router({
  health: t.router({
    check: t.procedure.query(async () => {
      const ok = await databaseOk();
      return {
        status: ok ? "healthy" : "degraded",
        checks: { database: { status: ok ? "healthy" : "unhealthy" } },
      };
    }),
    liveness: t.procedure.query(() => ({ status: "alive" })),
    readiness: t.procedure.query(() => ({ status: "ready" })),
  }),
  project: t.router({
    list: t.procedure.query(() => []),
  }),
  // a procedure a deploy left broken: every call fails (tRPC answers 500 INTERNAL_SERVER_ERROR)
  report: t.router({
    legacy: t.procedure.query(() => {
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "the legacy report's table was dropped" });
    }),
  }),
});

const trpc = createHTTPHandler({ router: appRouter, createContext: () => ({}) });

listen((req, res) => {
  if (req.url.startsWith("/trpc/")) {
    req.url = req.url.slice("/trpc".length); // the adapter reads the procedure from the path
    trpc(req, res);
    return;
  }
  res.writeHead(req.url === "/" ? 200 : 404, { "Content-Type": "text/plain" });
  res.end(req.url === "/" ? "platform-api\n" : "not found\n");
}, measured("api"));

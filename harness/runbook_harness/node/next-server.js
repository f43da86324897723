// Runs a built Next.js app (`next build` output in `dir`) with Next's request handler behind the
// host's behaviour, the way a custom server does.
"use strict";
const http = require("node:http");
const next = require("next");
const { address, hosted } = require("./host");

function serve(dir) {
  const { host, port } = address();
  const app = next({ dev: false, dir, hostname: host, port });
  const handle = app.getRequestHandler();
  app.prepare().then(() => {
    http.createServer(hosted((req, res) => handle(req, res))).listen(port, host);
  });
}

module.exports = { serve };

// ghostworks' web app: the Next.js production server (`next build` output) behind the host's
// behaviour, as a custom server runs it.
"use strict";
const next = require("next");
const { address, hosted } = require("../host");
const http = require("node:http");

const { host, port } = address();
const app = next({ dev: false, dir: __dirname, hostname: host, port });
const handle = app.getRequestHandler();
app.prepare().then(() => {
  http.createServer(hosted((req, res) => handle(req, res))).listen(port, host);
});

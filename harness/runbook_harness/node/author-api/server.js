// author's API on Express: its health route; the checks read its configuration from the process.
"use strict";
const express = require("express");
const { listen } = require("../host");

const app = express();
app.disable("x-powered-by");
app.get("/", (req, res) => res.type("text/plain").send("author-api\n"));
app.get("/health", (req, res) => res.json({ status: "ok" }));

listen(app);

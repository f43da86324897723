// author's detection worker on BullMQ: it consumes the queue DETECTION_QUEUE on the Redis at its own
// REDIS_URL, and proves it is alive where an operator (and the gate) can read it without writing:
// every HEARTBEAT_SECONDS it sets the key WORKER_HEARTBEAT names to the time (ms since the epoch), from
// the same event loop that takes jobs, so a worker that hangs or is frozen leaves an ageing value (an
// open connection alone would not show it). It deletes the key when it shuts down. BullMQ names the
// worker's connections after the queue too (CLIENT LIST, as Queue.getWorkers reads them). GET /health
// on --port answers for its container's probe.
"use strict";
const IORedis = require("ioredis");
const { Worker } = require("bullmq");
const { listen } = require("../host");

const queue = process.env.DETECTION_QUEUE || "detections";
const heartbeatKey = process.env.WORKER_HEARTBEAT || `author:worker:${queue}:heartbeat`;
const heartbeatMs = Number(process.env.HEARTBEAT_SECONDS || 5) * 1000;
const redisOptions = { maxRetriesPerRequest: null, connectTimeout: 2000 };

const connection = new IORedis(process.env.REDIS_URL || "", redisOptions);
const report = (what) => (error) => console.error(`${what}: ${error.message}`);
connection.on("error", report("redis"));

// A detection: the stand-in flags nothing; the model it runs is the configured one.
async function detect(job) {
  return { recording: job.data.recording ?? null, model: process.env.DETECTOR_MODEL_VERSION, flagged: false };
}

const worker = new Worker(queue, detect, { connection, name: "detector", concurrency: 4 });
worker.on("error", report("worker"));

async function beat() {
  try {
    await connection.set(heartbeatKey, String(Date.now()));
  } catch (error) {
    report("heartbeat")(error);
  }
}
beat();
const timer = setInterval(beat, heartbeatMs);

let health = "ok";
listen((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ status: health, queue }));
});

async function shutdown() {
  health = "stopping";
  clearInterval(timer);
  try {
    await connection.del(heartbeatKey);
    await worker.close();
    await connection.quit();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

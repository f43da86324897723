// An operator's BullMQ commands on the worker's own queue (DETECTION_QUEUE at REDIS_URL), as the fault
// catalog uses them: `pause`, `resume`, `add COUNT [DELAY_MS]` (detection jobs, delayed if asked),
// `drain` (removes every job that waits, delayed ones included).
"use strict";
const IORedis = require("ioredis");
const { Queue } = require("bullmq");

async function main([command, count, delay]) {
  const connection = new IORedis(process.env.REDIS_URL || "", { maxRetriesPerRequest: null });
  const queue = new Queue(process.env.DETECTION_QUEUE || "detections", { connection });
  try {
    if (command === "pause") await queue.pause();
    else if (command === "resume") await queue.resume();
    else if (command === "drain") await queue.drain(true);
    else if (command === "add") {
      const jobs = Array.from({ length: Number(count) }, (_, i) => ({
        name: "detect", data: { recording: `fault-${i}` }, opts: { delay: Number(delay || 0) },
      }));
      for (let at = 0; at < jobs.length; at += 500) await queue.addBulk(jobs.slice(at, at + 500));
    } else throw new Error(`unknown command ${command}`);
  } finally {
    await queue.close();
    await connection.quit();
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error.message);
  process.exit(1);
});

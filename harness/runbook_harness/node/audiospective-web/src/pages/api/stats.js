// Listening stats: the query validated with zod (unless validation is switched off, when an
// unknown range crashes the handler, or made lenient, when it is answered as the default), rate
// limited per client with rate-limiter-flexible where the limiter's store is configured, counted
// from play_events and cached for STATS_CACHE_SECONDS (X-Cache: HIT or MISS); 503 when the
// database does not answer.
import { RateLimiterMemory } from "rate-limiter-flexible";
import { z } from "zod";
import { flag, query } from "../../../../host";

const RANGE_DAYS = { week: 7, month: 30, year: 365 };
const Range = z.enum(["week", "month", "year"]);
// LENIENT_INPUT: zod's .catch() swaps an invalid range for the default instead of refusing it
const Query = z.object({ range: flag("LENIENT_INPUT", false) ? Range.catch("week") : Range.default("week") });

const env = process.env;
const limiterConfigured = Boolean(env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN);
const points = Number((env.RATE_LIMIT ?? "100/minute").split("/")[0]);
const limiter = limiterConfigured ? new RateLimiterMemory({ points, duration: 60 }) : null;
const cacheSeconds = limiterConfigured ? Number(env.STATS_CACHE_SECONDS ?? 3600) : 0;
const cached = new Map(); // range -> { at: when its stats were computed (ms), plays }

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
  const params = parse(req, res);
  if (params === null) return;
  const days = RANGE_DAYS[params.range];
  if (days === undefined) throw new Error(`no stats for range ${params.range}`);
  const now = Date.now();
  const kept = cached.get(params.range);
  const hit = kept !== undefined && now - kept.at < cacheSeconds * 1000;
  res.setHeader("X-Cache", hit ? "HIT" : "MISS");
  let plays = kept?.plays;
  if (!hit) {
    try {
      const counted = await query(
        'SELECT count(*)::int AS plays FROM play_events WHERE "playedAt" > now() - make_interval(days => $1)',
        [days]);
      plays = counted.rows[0].plays;
    } catch (error) {
      res.status(503).json({ error: "Stats unavailable", detail: String(error.message ?? error) });
      return;
    }
    if (cacheSeconds > 0) cached.set(params.range, { at: now, plays });
  }
  res.status(200).json({ range: params.range, days, plays });
}

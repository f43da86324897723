// The archival cron that QStash calls: the request's signature is verified with QStash's own
// Receiver against both signing keys before any work (a deployment without keys runs any call).
// CRON_METHODS lists the methods it takes: QStash POSTs, while Vercel Cron's style is GET.
import { Receiver } from "@upstash/qstash";

export const config = { api: { bodyParser: false } }; // the signature covers the raw body

async function rawBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function signed(req, body) {
  const currentSigningKey = process.env.QSTASH_CURRENT_SIGNING_KEY ?? "";
  const nextSigningKey = process.env.QSTASH_NEXT_SIGNING_KEY ?? "";
  if (!currentSigningKey && !nextSigningKey) return true;
  const signature = req.headers["upstash-signature"];
  if (typeof signature !== "string") return false;
  try {
    return await new Receiver({ currentSigningKey, nextSigningKey }).verify({ signature, body });
  } catch {
    return false;
  }
}

export default async function archive(req, res) {
  const methods = (process.env.CRON_METHODS ?? "POST").split(",").map((m) => m.trim().toUpperCase());
  if (!methods.includes(req.method)) {
    res.setHeader("Allow", methods.join(", "));
    res.status(405).json({ error: "Method not allowed" });
    return;
  }
  if (!(await signed(req, await rawBody(req)))) {
    res.status(401).json({ error: "Invalid signature" });
    return;
  }
  res.status(200).json({ archived: 0 });
}

// The web app's health: it calls the API at its public URL, as the browser will.
export default async function handler(req, res) {
  let reachable = false;
  try {
    const reply = await fetch(`${process.env["NEXT_PUBLIC_API_URL"] ?? ""}/api/v1/health`, {
      signal: AbortSignal.timeout(2000),
    });
    reachable = reply.status === 200;
  } catch {
    reachable = false;
  }
  res.status(200).json({ status: "ok", api: reachable ? "reachable" : "unreachable" });
}

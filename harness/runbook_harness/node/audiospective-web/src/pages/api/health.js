// Health: the app and its database, 503 when the database does not answer.
import { databaseOk } from "../../../../host";

export default async function health(req, res) {
  const ok = await databaseOk();
  res.status(ok ? 200 : 503).json({
    status: ok ? "healthy" : "unhealthy",
    database: ok ? "healthy" : "unreachable",
  });
}

// The public configuration the browser bundle gets: every NEXT_PUBLIC_ variable, read at run time.
export default function handler(req, res) {
  const env = process.env;
  const names = Object.keys(env).filter((name) => name.startsWith("NEXT_PUBLIC_"));
  res.status(200).json(Object.fromEntries(names.map((name) => [name, env[name]])));
}

/** The web app's Next.js configuration: no telemetry-bound extras, no powered-by header. */
module.exports = { poweredByHeader: false, eslint: { ignoreDuringBuilds: true } };

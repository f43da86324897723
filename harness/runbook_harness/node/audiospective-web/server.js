// audiospective's web app: the Next.js production server (`next build` output) behind the host's
// behaviour, as a custom server runs it; it loads its generated Prisma client first, so that a
// deployment without one stops at start.
"use strict";
require("./src/lib/prisma");
require("../next-server").serve(__dirname);

// ghostworks' web app: the Next.js production server (`next build` output) behind the host's
// behaviour, as a custom server runs it.
"use strict";
require("../next-server").serve(__dirname);

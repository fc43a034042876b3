// Records which Node built the bundle (served as /build-info.json).
import { writeFileSync } from "node:fs";

writeFileSync(
  new URL("../dist/build-info.json", import.meta.url),
  JSON.stringify({ node: process.version }) + "\n",
);

// Copies what tsc does not: the inspector's page, script and stylesheet, into dist/.
import { cpSync, rmSync } from "node:fs";

const from = new URL("../src/inspector/public/", import.meta.url);
const to = new URL("../dist/inspector/public/", import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });

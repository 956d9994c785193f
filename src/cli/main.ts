#!/usr/bin/env node
/** Entry point of the `agent-bus` bin. */
import { cli } from "./cli.js";

cli(process.argv.slice(2)).then(
  (code) => {
    if (code !== "running") process.exitCode = code;
  },
  (error: unknown) => {
    console.error("agent-bus:", error);
    process.exitCode = 1;
  },
);

#!/usr/bin/env node
/** Entry point of the `agent-bus` bin. */
import { cli } from "./cli.js";

/** Milliseconds a finished command's process may linger before it exits anyway. */
const LINGER_MS = 500;

cli(process.argv.slice(2)).then(
  (code) => {
    if (code === "running") return;
    process.exitCode = code;
    // A broker client that failed to connect can leave a socket or retry timer behind (the NATS
    // client after a handshake timeout, ioredis's retry): the command is over, so they may not
    // keep the process alive. Unref'd: a process that ends by itself is not held a moment longer.
    setTimeout(() => process.exit(code), LINGER_MS).unref();
  },
  (error: unknown) => {
    console.error("agent-bus:", error);
    process.exitCode = 1;
  },
);

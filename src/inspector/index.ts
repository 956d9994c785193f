/**
 * The inspector: a live web page of the bus, its JSON API and Prometheus metrics, mounted on the
 * host's HTTP server.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventBus } from "../bus.js";
import type { HttpRoutes } from "../host/http.js";
import { assertEventType } from "../patterns.js";
import { LiveFeed } from "./feed.js";
import { renderMetrics } from "./prometheus.js";
import { BusTap, type TapOptions } from "./tap.js";

/** Largest body `POST /api/publish` accepts, in bytes. */
export const MAX_PUBLISH_BODY = 64 * 1024;

/** Options of `attachInspector()`. */
export interface InspectorOptions extends TapOptions {
  bus: EventBus;
  /** Where the routes go: the host's route table. */
  http: HttpRoutes;
  /** The host's extensions, for the page's extension list. */
  extensions?: () => unknown;
  /**
   * Frames queued per live-feed client before the oldest are dropped.
   * @default 1000
   */
  clientBuffer?: number;
}

/** A mounted inspector. */
export interface Inspector {
  readonly tap: BusTap;
  /** Removes the routes, ends the live feeds and stops watching the bus. */
  close(): void;
}

const ASSETS: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/inspector/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/inspector/charts.js": ["charts.js", "text/javascript; charset=utf-8"],
  "/inspector/style.css": ["style.css", "text/css; charset=utf-8"],
  // The core's own pattern rules, run by the page itself: one definition of `*` and `>`.
  "/inspector/patterns.js": ["../../patterns.js", "text/javascript; charset=utf-8"],
  // What patterns.js imports, by the same relative path.
  "/inspector/_checks.js": ["../../_checks.js", "text/javascript; charset=utf-8"],
};

/** A request the API refuses, with the status and message to answer. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BadRequest(413, `body is over ${limit} bytes`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** Parses and checks `{ "type": "...", "data": <any JSON> }`. */
export function parsePublishBody(text: string): { type: string; data: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new BadRequest(400, `body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequest(400, 'body must be a JSON object like {"type": "task_completed", "data": {...}}');
  }
  const { type, data } = body as { type?: unknown; data?: unknown };
  try {
    assertEventType(type, "type");
  } catch (error) {
    throw new BadRequest(400, (error as Error).message);
  }
  return { type, data };
}

function sendError(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(`${JSON.stringify({ error: message })}\n`);
}

async function publishFromForm(bus: EventBus, request: IncomingMessage, response: ServerResponse) {
  try {
    const type = request.headers["content-type"] ?? "";
    // Only JSON: a cross-site HTML form cannot send it without a CORS preflight.
    if (!type.startsWith("application/json")) throw new BadRequest(415, "send the body as application/json");
    const { type: eventType, data } = parsePublishBody(await readBody(request, MAX_PUBLISH_BODY));
    bus.publish(eventType, data);
    return { published: eventType };
  } catch (error) {
    if (error instanceof BadRequest) return sendError(response, error.status, error.message);
    return sendError(response, 500, error instanceof Error ? error.message : String(error));
  }
}

/**
 * Mounts the inspector on a route table.
 * @example
 * const inspector = attachInspector({ bus: host.bus, http: host.http });
 */
export function attachInspector(options: InspectorOptions): Inspector {
  const { bus, http } = options;
  const tap = new BusTap(bus, options);
  const feed = new LiveFeed(options);
  const stopListening = tap.listen((envelope) => feed.push(envelope));
  const assets = new URL("./public/", import.meta.url);
  const stats = () => ({
    startedAt: tap.startedAt,
    totals: tap.totals,
    types: Object.fromEntries(tap.types),
    subscribers: tap.subscribers(),
    // Up to two minutes, but no flat line from before the inspector started.
    rates: tap.rates.snapshot(
      Math.min(120, Math.max(10, Math.ceil((Date.now() - Date.parse(tap.startedAt)) / 1000))),
    ),
    errors: tap.errors(),
    extensions: options.extensions?.(),
    feed: { clients: feed.size, dropped: feed.dropped() },
  });
  const removals = [
    ...Object.entries(ASSETS).map(([path, [file, type]]) =>
      http.route("GET", path, async (_request, response) => {
        const body = await readFile(new URL(file, assets));
        response.writeHead(200, { "content-type": type });
        response.end(body);
      }),
    ),
    http.route("GET", "/api/stats", stats),
    http.route("GET", "/api/events", (_request, response) => feed.open(response, tap.recent())),
    http.route("POST", "/api/publish", (request, response) => publishFromForm(bus, request, response)),
    http.route("GET", "/metrics", (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      response.end(renderMetrics(tap, { clients: feed.size, dropped: feed.dropped() }));
    }),
  ];
  return {
    tap,
    close() {
      for (const remove of removals) remove();
      stopListening();
      tap.close();
    },
  };
}

export type { CallbackFailure, TapOptions, TypeCounters } from "./tap.js";
export { BusTap, DURATION_BUCKETS } from "./tap.js";

/** The host's small HTTP server on 127.0.0.1 and the route table extensions add to. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { describeValue } from "../_checks.js";
import { describeError } from "../errors.js";
import { admit, applySecurityHeaders, localHostHeader } from "./access.js";

/** The default port of `agent-bus run`. */
export const DEFAULT_PORT = 4319;

/**
 * Handles one request. A returned value other than undefined is sent as JSON (status 200);
 * a handler that writes the response itself returns nothing.
 */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => unknown;

/** One registered route. */
export interface RouteInfo {
  readonly method: string;
  readonly path: string;
  /** Who registered it: an extension name, or "host". */
  readonly owner: string;
}

/** The route table of the host's HTTP server. */
export interface HttpRoutes {
  /**
   * Adds a route matched on method and exact path.
   * @returns a function removing it.
   * @example
   * ctx.http.route("GET", "/learning/progress", () => state);
   */
  route(method: string, path: string, handler: RouteHandler): () => void;
  /** The registered routes, in registration order. */
  routes(): RouteInfo[];
}

interface Entry extends RouteInfo {
  readonly handler: RouteHandler;
}

/** A port that was asked for and is taken. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  readonly port: number;
  constructor(port: number, options?: { cause?: unknown }) {
    super(
      `[host] Port ${port} on 127.0.0.1 is already in use: pass another --port, or --port 0 for any free one`,
      options,
    );
    this.port = port;
  }
}

/**
 * The route table; `scoped(owner)` hands each extension a view that records it as owner.
 * A fallback route (the host's index at `/`) answers only while no real route takes its place.
 */
export class RouteTable {
  private readonly entries = new Map<string, Entry>();
  private readonly fallbacks = new Map<string, Entry>();

  /** @param failed told of every handler that threw (the client gets a 500 with the message) */
  constructor(readonly failed: (route: RouteInfo, error: unknown) => void = () => undefined) {}

  scoped(owner: string): HttpRoutes {
    return {
      route: (method, path, handler) => this.add(owner, method, path, handler),
      routes: () => this.list(),
    };
  }

  /** Adds a route that any registration of the same method and path overrides. */
  fallback(owner: string, method: string, path: string, handler: RouteHandler): void {
    const key = `${method.toUpperCase()} ${path}`;
    this.fallbacks.set(key, { method: method.toUpperCase(), path, owner, handler });
  }

  /** Removes every route an owner registered. */
  removeOwner(owner: string): void {
    for (const [key, entry] of this.entries) if (entry.owner === owner) this.entries.delete(key);
  }

  /** The routes that answer, in registration order, fallbacks first. */
  list(): RouteInfo[] {
    const live = [...this.fallbacks].filter(([key]) => !this.entries.has(key)).map(([, entry]) => entry);
    return [...live, ...this.entries.values()].map(({ method, path, owner }) => ({ method, path, owner }));
  }

  /**
   * The route for a request; a HEAD without a route of its own takes the GET one, as HTTP asks
   * (Node's response drops the body of a HEAD). A path served by other methods only gives the
   * methods it allows, for the 405's Allow header.
   */
  find(method: string, path: string): Entry | { allow: string[] } | undefined {
    const entry = this.exactly(method, path) ?? (method === "HEAD" ? this.exactly("GET", path) : undefined);
    if (entry !== undefined) return entry;
    const allow = new Set<string>();
    for (const other of [...this.entries.values(), ...this.fallbacks.values()]) {
      if (other.path !== path) continue;
      allow.add(other.method);
      if (other.method === "GET") allow.add("HEAD");
    }
    return allow.size === 0 ? undefined : { allow: [...allow].sort() };
  }

  private exactly(method: string, path: string): Entry | undefined {
    const key = `${method} ${path}`;
    return this.entries.get(key) ?? this.fallbacks.get(key);
  }

  private add(owner: string, method: string, path: string, handler: RouteHandler): () => void {
    if (typeof method !== "string" || !/^[A-Z]+$/u.test(method.toUpperCase())) {
      throw new TypeError(`method must be an HTTP method name, got ${JSON.stringify(method)}`);
    }
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new TypeError(`path must start with "/", got ${JSON.stringify(path)}`);
    }
    if (typeof handler !== "function")
      throw new TypeError(`handler must be a function, got ${describeValue(handler)}`);
    const key = `${method.toUpperCase()} ${path}`;
    if (this.entries.has(key)) throw new TypeError(`route ${key} is already registered`);
    const entry: Entry = { method: method.toUpperCase(), path, owner, handler };
    this.entries.set(key, entry);
    return () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body, null, 2);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(`${text}\n`);
}

/** Where the server listens and who may use it. */
export interface ServerAccess {
  /**
   * Address to bind to; anything but loopback needs a token.
   * @default "127.0.0.1"
   */
  hostname?: string;
  /** When set, every request must carry it (bearer header, cookie, or `?token=` once). */
  token?: string | undefined;
}

async function handle(
  table: RouteTable,
  request: IncomingMessage,
  response: ServerResponse,
  token: string | undefined,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  applySecurityHeaders(response);
  if (token !== undefined && !admit(request, response, url, token)) return;
  if (token === undefined && !localHostHeader(request)) {
    return sendJson(response, 403, {
      error: `Host ${JSON.stringify(request.headers.host)} is not this machine: a tokenless server answers loopback names only (127.0.0.1, localhost, [::1]); bind with --host and a --token to serve other names`,
    });
  }
  const found = table.find(request.method ?? "GET", url.pathname);
  if (found === undefined) return sendJson(response, 404, { error: `no route for ${url.pathname}` });
  if (!("handler" in found)) {
    response.setHeader("allow", found.allow.join(", "));
    return sendJson(response, 405, {
      error: `${request.method} not allowed on ${url.pathname}; it allows ${found.allow.join(", ")}`,
    });
  }
  try {
    const result = await found.handler(request, response, url);
    // A handler that sent headers owns the response (a stream stays open); else undefined means empty.
    if (result !== undefined) sendJson(response, 200, result);
    else if (!response.headersSent) response.end();
    // A HEAD answered by a GET stream: the headers were all it asked for.
    else if (request.method === "HEAD" && !response.writableEnded) response.end();
  } catch (error) {
    table.failed(found, error);
    sendJson(response, 500, { error: describeError(error) });
  }
}

/** Starts the server (on 127.0.0.1 by default); rejects with PortInUseError when the port is taken. */
export async function startHttpServer(
  table: RouteTable,
  port: number,
  access: ServerAccess = {},
): Promise<Server> {
  const { hostname = "127.0.0.1", token } = access;
  const server = createServer((request, response) => {
    void handle(table, request, response, token);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "EADDRINUSE" ? new PortInUseError(port, { cause: error }) : error);
    });
    server.listen(port, hostname, () => resolve());
  });
  return server;
}

/** Stops accepting, ends idle keep-alive connections, and resolves once the server is closed. */
export function stopHttpServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

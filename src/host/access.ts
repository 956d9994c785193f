/**
 * Who may use the host's HTTP server, and the headers every answer carries. Loopback needs no
 * token; any other address does, and then every route asks for it.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Name of the cookie that carries the token after the first visit with `?token=`. */
export const TOKEN_COOKIE = "agent_bus_token";

/** Environment variable read for the token when `--token` is not given. */
export const TOKEN_ENV = "AGENT_BUS_TOKEN";

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

/** True for addresses only this machine can reach. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127(\.\d{1,3}){3}$/u.test(hostname);
}

/** Throws a TypeError unless the bind address and token go together. */
export function checkAccess(hostname: string, token: string | undefined): void {
  if (typeof hostname !== "string" || hostname.trim() === "" || /\s/u.test(hostname)) {
    throw new TypeError(`hostname must be an address to bind to, got ${JSON.stringify(hostname)}`);
  }
  if (token !== undefined && (typeof token !== "string" || token.length < 8)) {
    throw new TypeError("token must be a string of at least 8 characters");
  }
  if (!isLoopback(hostname) && token === undefined) {
    throw new TypeError(
      `binding to ${hostname} exposes the bus beyond this machine: give a token with --token or ${TOKEN_ENV}`,
    );
  }
}

/**
 * True when a request without a token may go on: its Host header names this machine. A page of
 * another site can point its own name at 127.0.0.1 (DNS rebinding) and then reach a loopback
 * server as if it were its own origin; the Host header still carries that name.
 */
export function localHostHeader(request: IncomingMessage): boolean {
  const host = request.headers.host;
  if (host === undefined) return true; // HTTP/1.0 without Host: no browser sends that.
  // `name`, `name:port`, `[v6]` or `[v6]:port`; a trailing dot is the same name, fully qualified.
  const parts = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::\d*)?$/u.exec(host);
  const name = parts?.[1] ?? parts?.[2]?.replace(/\.$/u, "");
  return name !== undefined && isLoopback(name.toLowerCase());
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function same(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

export function applySecurityHeaders(response: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
}

/**
 * Lets the request through (true) or answers it (false): 401 without a valid token, or a redirect
 * that trades `?token=` in the address bar for a cookie.
 */
export function admit(request: IncomingMessage, response: ServerResponse, url: URL, token: string): boolean {
  const header = request.headers.authorization;
  const bearer = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
  if (same(bearer, token) || same(cookie(request, TOKEN_COOKIE), token)) return true;
  const query = url.searchParams.get("token") ?? undefined;
  if (same(query, token)) {
    response.setHeader(
      "set-cookie",
      `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
    );
    if (request.method !== "GET") return true;
    url.searchParams.delete("token");
    response.writeHead(303, { location: `${url.pathname}${url.search}` });
    response.end();
    return false;
  }
  response.writeHead(401, {
    "content-type": "application/json; charset=utf-8",
    "www-authenticate": "Bearer",
  });
  response.end(
    `${JSON.stringify({ error: "a token is required: open the page with ?token=<token> or send Authorization: Bearer <token>" })}\n`,
  );
  return false;
}

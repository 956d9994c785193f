/** Arbitraries for fuzzing the inputs that cross a boundary: names, wire frames, JSON with traps. */
import fc from "fast-check";

/** Characters that make names interesting: separators, wildcards, whitespace of every kind, wide ones. */
const TRICKY = [
  ".",
  ".",
  "*",
  ">",
  " ",
  "\t",
  "\n",
  "\r",
  "\u00a0",
  "\u2028",
  "\u3000",
  "\ufeff",
  "\u200b",
  "\u0000",
  "\u007f",
  "a",
  "b",
  "Z",
  "0",
  "_",
  "-",
  "é",
  "日",
  "🚀",
  "\ud800",
  "$",
  "%",
  "/",
  ":",
  "#",
  "\\",
];

/** Event types and patterns from tricky characters, unicode, and lengths around the 1024 limit. */
export const name: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom(...TRICKY), maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("a", "é", "🚀", "a.", "*."), fc.integer({ min: 500, max: 1100 }))
      .map(([unit, count]) => unit.repeat(count).slice(0, count)),
  },
);

/** The reference rule for an event type, as README states it. */
export function validEventType(value: string): boolean {
  if (value.length === 0 || value.length > 1024 || /\s/u.test(value) || /\p{Cs}/u.test(value)) return false;
  return value.split(".").every((token) => token !== "" && !token.includes("*") && !token.includes(">"));
}

/** The reference rule for a pattern, as README states it. */
export function validPattern(value: string): boolean {
  if (value.length === 0 || value.length > 1024 || /\s/u.test(value) || /\p{Cs}/u.test(value)) return false;
  const tokens = value.split(".");
  return tokens.every(
    (token, index) =>
      token !== "" &&
      (token === "*" ||
        (token === ">" && index === tokens.length - 1) ||
        (!token.includes("*") && !token.includes(">"))),
  );
}

/** JSON texts that try to reach Object.prototype through `__proto__` and `constructor`. */
export const POLLUTING_JSON = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"a":{"__proto__":{"polluted":"yes"}},"b":[{"__proto__":{"polluted":"yes"}}]}',
  '{"__proto__":{"__proto__":{"polluted":"yes"}},"constructor":"x","prototype":{"polluted":"yes"}}',
  '[{"__proto__":{"polluted":"yes"}}]',
];

/** True when nothing anywhere reached Object.prototype. */
export function prototypeClean(): boolean {
  const probe: Record<string, unknown> = {};
  return (
    probe.polluted === undefined &&
    !Object.hasOwn(Object.prototype, "polluted") &&
    ([] as unknown as Record<string, unknown>).polluted === undefined
  );
}

/**
 * True when a delivered value is plain data: every object's prototype is Object.prototype or
 * Array.prototype, and `polluted` reads as undefined on each.
 */
export function plainData(value: unknown, depth = 0): boolean {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return true;
  if (depth > 64) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype) return false;
  if ((value as Record<string, unknown>).polluted !== undefined && !Object.hasOwn(value, "polluted"))
    return false;
  return Object.values(value).every((inner) => plainData(inner, depth + 1));
}

const JSON_BODIES = [
  ...POLLUTING_JSON,
  '{"ok":1}',
  '{"ok":',
  '{"ok":1}}',
  "",
  "null",
  '"text"',
  "1e999",
  "[",
  "\u0000",
  "{'single':1}",
];

/** Bodies of raw frames: polluting and truncated JSON, random bytes, invalid UTF-8, strings. */
export const body: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...JSON_BODIES).map((text) => new TextEncoder().encode(text)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.constantFrom(new Uint8Array([0xc3, 0x28]), new Uint8Array([0xff, 0xfe, 0x7b])) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** Header maps of raw frames: each attribute present, missing, wrong or junk. */
export function headers(eventType: string): fc.Arbitrary<Record<string, string>> {
  const maybe = (values: string[]) => fc.option(fc.constantFrom(...values), { freq: 4 });
  return fc
    .record({
      "ce-specversion": maybe(["1.0", "1.0", "0.3", "", "1.0 "]),
      "ce-id": maybe(["id-1", "", "x".repeat(300)]),
      "ce-type": maybe([eventType, eventType, "other", "", `${eventType}.x`]),
      "ce-source": maybe(["fuzz", "", "__proto__"]),
      "ce-time": maybe(["2024-01-01T00:00:00Z", "not a time", ""]),
      "content-type": maybe([
        "application/json",
        "application/json; charset=utf-8",
        "application/cloudevents+json",
        "text/plain",
        "application/octet-stream",
        "image/png",
        "",
        "APPLICATION/JSON",
      ]),
    })
    .map((record) => {
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(record)) if (value !== null) out[key] = value;
      return out;
    });
}

/**
 * Checks of the arguments the API takes, each throwing a TypeError that names the argument and
 * what it got. They run before anything is registered, so a bad call leaves the bus as it was.
 * patterns.ts imports this module, and the inspector's page imports both in the browser (see
 * ASSETS in src/inspector/index.ts): it must import nothing itself.
 */

/** A value as an error message shows it: its type, and its text where that is short to say. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return "a function";
  // JSON would write Infinity and NaN as null, and cannot write a BigInt.
  if (typeof value !== "object") return `${typeof value} ${String(value)}`;
  try {
    return `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
  } catch {
    return typeof value;
  }
}

/** A value in a message about what it should have been: a number plainly, else as describeValue. */
export function shownValue(value: unknown): string {
  return typeof value === "number" ? String(value) : describeValue(value);
}

/** An options argument: left out, or an object. */
export function assertOptions(options: unknown, argument = "options"): void {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options)))
    throw new TypeError(`${argument} must be an object, got ${describeValue(options)}`);
}

/** `signal`: left out, or an AbortSignal (by its members, so that one from another realm passes). */
export function assertSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal === undefined) return;
  const candidate = signal as Partial<AbortSignal> | null;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof candidate.aborted !== "boolean" ||
    typeof candidate.addEventListener !== "function" ||
    typeof candidate.removeEventListener !== "function"
  )
    throw new TypeError(`signal must be an AbortSignal, got ${describeValue(signal)}`);
}

/** A flag: left out, or a boolean (a string such as "yes" would otherwise read as false). */
export function assertFlag(value: unknown, argument: string): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== "boolean")
    throw new TypeError(`${argument} must be a boolean, got ${describeValue(value)}`);
}

/** The longest delay setTimeout keeps: a longer one fires after 1 ms instead (Node warns). */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/** A timeout in milliseconds, up to MAX_TIMEOUT; zero allowed only where `zero` says so. */
export function assertTimeout(timeout: unknown, { zero }: { zero: boolean }): asserts timeout is number {
  if (typeof timeout === "number" && (zero ? timeout >= 0 : timeout > 0) && timeout <= MAX_TIMEOUT) return;
  const kind = zero ? "a non-negative" : "a positive";
  throw new TypeError(
    `timeout must be ${kind} number of milliseconds, at most ${MAX_TIMEOUT} (about 24.8 days), got ${describeValue(timeout)}`,
  );
}

/** An optional text attribute: left out, or a non-empty string. */
export function assertText(value: unknown, argument: string): asserts value is string | undefined {
  if (value !== undefined && (typeof value !== "string" || value === ""))
    throw new TypeError(`${argument} must be a non-empty string, got ${describeValue(value)}`);
}

/** Redis test helpers: cleaning up what a namespace left on the shared server. */
import type { Redis } from "ioredis";

/** Deletes the keys of these namespaces (stream, routes, dedupe and claim keys). */
export async function deleteNamespaces(raw: Redis, names: Iterable<string>): Promise<void> {
  for (const namespace of names) {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await raw.scan(cursor, "MATCH", `${namespace}:*`, "COUNT", 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== "0");
    if (keys.length > 0) await raw.del(...keys);
  }
}

/** metrics: the seed's Example 3, counters fed by `metric` events, reported on request and at shutdown. */
import type { ExtensionContext } from "agent-bus/host";

export const params = { display_name: "Metrics" };

/** Adds one `metric` event `{ name, value = 1 }` to the counters; returns why not when it cannot. */
export function count(counters: Map<string, number>, data: unknown): string | undefined {
  const { name, value = 1 } = (data ?? {}) as { name?: unknown; value?: unknown };
  if (typeof name !== "string" || name === "")
    return `name must be a non-empty string, got ${JSON.stringify(name)}`;
  if (typeof value !== "number" || !Number.isFinite(value))
    return `value must be a number, got ${JSON.stringify(value)}`;
  counters.set(name, (counters.get(name) ?? 0) + value);
  return undefined;
}

export function setup(ctx: ExtensionContext) {
  const counters = new Map<string, number>();
  const report = () => Object.fromEntries(counters);
  ctx.bus.subscribe(
    "metric",
    (data: unknown) => {
      const problem = count(counters, data);
      if (problem !== undefined) ctx.log.warn(`ignored a metric event: ${problem}`);
    },
    { signal: ctx.signal },
  );
  const offResponder = ctx.bus.respond("metrics.report", report);
  // Not /metrics: that path is the Prometheus convention, which the inspector serves.
  ctx.http.route("GET", "/metrics/counters", report);
  return () => {
    offResponder();
    const lines = [...counters].map(([name, value]) => `  ${name}: ${value}`);
    ctx.log.info(lines.length === 0 ? "no metrics" : `report\n${lines.join("\n")}`);
  };
}

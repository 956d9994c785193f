/** `GET /metrics`: the tap's counters in the Prometheus text exposition format (0.0.4). */
import { type BusTap, DURATION_BUCKETS, type TypeCounters } from "./tap.js";

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function family(name: string, type: string, help: string, lines: string[]): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines].join("\n");
}

function perType(tap: BusTap, field: keyof TypeCounters): string[] {
  return [...tap.types].map(
    ([eventType, counters]) => `{type="${escapeLabel(eventType)}"} ${counters[field]}`,
  );
}

/** Renders every metric family, one block each. */
export function renderMetrics(tap: BusTap, extra: { clients: number; dropped: number }): string {
  const name = (metric: string, lines: string[]) => lines.map((line) => `${metric}${line}`);
  const buckets = DURATION_BUCKETS.map(
    (bound, i) => `agent_bus_callback_duration_seconds_bucket{le="${bound}"} ${tap.durationBuckets[i]}`,
  );
  const count = tap.durationBuckets[DURATION_BUCKETS.length] ?? 0;
  const subscribers = Object.entries(tap.subscribers()).map(
    ([pattern, n]) => `agent_bus_subscriptions{pattern="${escapeLabel(pattern)}"} ${n}`,
  );
  return `${[
    family(
      "agent_bus_events_published_total",
      "counter",
      "Events seen on the bus, per event type.",
      name("agent_bus_events_published_total", perType(tap, "published")),
    ),
    family(
      "agent_bus_deliveries_total",
      "counter",
      "Callback calls that succeeded, per event type.",
      name("agent_bus_deliveries_total", perType(tap, "delivered")),
    ),
    family(
      "agent_bus_delivery_failures_total",
      "counter",
      "Callback calls that threw or rejected, per event type.",
      name("agent_bus_delivery_failures_total", perType(tap, "failed")),
    ),
    family("agent_bus_callback_duration_seconds", "histogram", "Time callbacks took.", [
      ...buckets,
      `agent_bus_callback_duration_seconds_bucket{le="+Inf"} ${count}`,
      `agent_bus_callback_duration_seconds_sum ${tap.durationSum}`,
      `agent_bus_callback_duration_seconds_count ${count}`,
    ]),
    family("agent_bus_subscriptions", "gauge", "Subscriptions per event type or pattern.", subscribers),
    family("agent_bus_inspector_clients", "gauge", "Open live-feed connections.", [
      `agent_bus_inspector_clients ${extra.clients}`,
    ]),
    family("agent_bus_inspector_dropped_total", "counter", "Live-feed frames dropped for slow clients.", [
      `agent_bus_inspector_dropped_total ${extra.dropped}`,
    ]),
  ].join("\n\n")}\n`;
}

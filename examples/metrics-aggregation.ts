// The seed's Example 3: metrics aggregation.
import { bus } from "agent-bus";

interface Metric {
  name?: string;
  value?: number;
}

class MetricsAggregator {
  readonly counters = new Map<string, number>();

  constructor() {
    bus.subscribe("metric", (data: Metric) => this.onMetric(data));
  }

  onMetric(data: Metric): void {
    const name = data.name ?? "unnamed";
    this.counters.set(name, (this.counters.get(name) ?? 0) + (data.value ?? 1));
  }

  report(): void {
    for (const [name, value] of this.counters) console.log(`${name}: ${value}`);
  }
}

const metrics = new MetricsAggregator();

// Publish metrics from anywhere
bus.publish("metric", { name: "requests", value: 1 });
bus.publish("metric", { name: "errors", value: 1 });
bus.publish("metric", { name: "requests", value: 1 });

metrics.report();
// Output:
// requests: 2
// errors: 1

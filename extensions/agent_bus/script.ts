/**
 * agent_bus: the bus itself. The host runs every extension on one bus, the one that
 * `import { bus } from "agent-bus"` gives; this extension reports on it.
 */
import { bus as sharedBus } from "agent-bus";
import type { ExtensionContext } from "agent-bus/host";

export const params = { display_name: "Agent Bus" };

export function setup(ctx: ExtensionContext) {
  const { bus, log } = ctx;
  const stats = () => ({
    source: bus.source,
    eventTypes: bus.eventTypes(),
    listeners: bus.listenerCount(),
  });
  if (bus !== sharedBus) {
    log.info('the host runs on its own bus: use ctx.bus, not `import { bus } from "agent-bus"`');
  }
  const offResponder = bus.respond("agent_bus.stats", stats);
  ctx.http.route("GET", "/bus", stats);
  log.info(`bus ready (source ${bus.source})`);
  return offResponder;
}

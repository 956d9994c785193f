/**
 * The scenarios: each builds its emitter with an adapter and returns the operation to time,
 * plus how many listener calls that operation must make (checked before timing).
 */

import { asyncListeners, envelopeListeners, listeners, makeListener, payload } from "./_listeners.mjs";

const TYPE = "task.completed";
const TYPES_64 = Array.from({ length: 64 }, (_, j) => `agent${j}.task.completed`);

const syncLibs = (adapter) => adapter.sync === true;
const agentBusOnly = (adapter, id) => id === "agent-bus" || adapter.baseline === true;

function publishToOneType(count, callbacks = listeners) {
  return {
    applies: syncLibs,
    setup(adapter) {
      const em = adapter.create();
      for (let k = 0; k < count; k++) adapter.sub(em, TYPE, callbacks[k]);
      return { op: () => adapter.emit(em, TYPE, payload), callsPerOp: count };
    },
  };
}

/** 64 types with 3 listeners each, published in turn; optionally with pattern subscriptions. */
function setupTypes64(adapter, em) {
  for (let j = 0; j < 64; j++) {
    for (let k = 0; k < 3; k++) adapter.sub(em, TYPES_64[j], listeners[(3 * j + k) % listeners.length]);
  }
  let i = 0;
  return () => {
    i = (i + 1) & 63;
    adapter.emit(em, TYPES_64[i], payload);
  };
}

/**
 * The patterns present: 8 match (agent0.task.*, agent8.task.*, … agent56.task.*: one in eight
 * published types gets one more call), the rest never match: half `agent<i>.job.*` (they share
 * the first token with the published types, so a trie has to look one level deeper), half
 * `worker<i>.>` (no shared token).
 */
export function patternSet(count, { matching = true } = {}) {
  const patterns = [];
  if (matching) for (let j = 0; j < 64; j += 8) patterns.push(`agent${j}.task.*`);
  for (let i = 0; patterns.length < count; i++) {
    patterns.push(i % 2 === 0 ? `agent${i >> 1}.job.*` : `worker${i >> 1}.>`);
  }
  return patterns;
}

function withPatterns(count, { matching = true } = {}) {
  return {
    applies: (adapter) => adapter.patterns === true || adapter.baseline === true,
    setup(adapter) {
      const em = adapter.create({ wildcard: true, unlimited: true });
      const op = setupTypes64(adapter, em);
      if (adapter.baseline) return { op, callsPerOp: 3, note: "no patterns" };
      const extra = makeListener(-1);
      for (const pattern of patternSet(count, { matching })) adapter.sub(em, adapter.pattern(pattern), extra);
      // Over 64 publishes (one round), 8 types have one pattern match each.
      return { op, callsPerOp: matching ? 3 + 8 / 64 : 3 };
    },
  };
}

/** An emitter whose TYPE keeps 3 listeners, and the 4th listener, which the operation adds. */
function typeWithThree(adapter) {
  const em = adapter.create();
  for (let k = 0; k < 3; k++) adapter.sub(em, TYPE, listeners[k]);
  return { em, fn: listeners[3] };
}

/** Scenarios by id, in the row order of the report. `feature` rows compare agent-bus with itself and stay out of the peer target. */
export const scenarios = {
  "publish-1": { title: "publish, 1 listener", ...publishToOneType(1) },
  "publish-3": { title: "publish, 3 listeners", ...publishToOneType(3) },
  "publish-10": { title: "publish, 10 listeners", ...publishToOneType(10) },
  "types-64": {
    title: "64 types × 3 listeners, round-robin",
    applies: syncLibs,
    setup(adapter) {
      return { op: setupTypes64(adapter, adapter.create()), callsPerOp: 3 };
    },
  },
  "sub-unsub": {
    title: "subscribe + unsubscribe (type has 3 listeners)",
    applies: (adapter) => adapter.sync === true || adapter.churn === true,
    // Promise jobs queued by a subscribe (emittery) run between batches, not after the sample.
    drain: true,
    setup(adapter) {
      const { em, fn } = typeWithThree(adapter);
      return {
        op: () => adapter.unsub(em, TYPE, fn, adapter.sub(em, TYPE, fn)),
        callsPerOp: 0,
      };
    },
  },
  "sub-pub-unsub": {
    title: "subscribe + publish + unsubscribe (transient listener)",
    applies: syncLibs,
    setup(adapter) {
      const { em, fn } = typeWithThree(adapter);
      const reply = "task.reply";
      return {
        op: () => {
          const handle = adapter.sub(em, reply, fn);
          adapter.emit(em, reply, payload);
          adapter.unsub(em, reply, fn, handle);
        },
        callsPerOp: 1,
      };
    },
  },
  // A listener that stays for a few publishes: three is agent-bus's worst case, as the third
  // publish of an unchanged list builds its unrolled walk, which the leave then drops.
  "join-pub3-leave": {
    title: "a 4th listener joins, 3 publishes, it leaves (type has 3 listeners)",
    applies: syncLibs,
    setup(adapter) {
      const { em, fn } = typeWithThree(adapter);
      return {
        op: () => {
          const handle = adapter.sub(em, TYPE, fn);
          adapter.emit(em, TYPE, payload);
          adapter.emit(em, TYPE, payload);
          adapter.emit(em, TYPE, payload);
          adapter.unsub(em, TYPE, fn, handle);
        },
        callsPerOp: 12,
      };
    },
  },
  "patterns-1k": { title: "64 types + 1,000 pattern subscriptions", ...withPatterns(1_000) },
  "patterns-10k": { title: "64 types + 10,000 pattern subscriptions", ...withPatterns(10_000) },
  "patterns-10k-miss": {
    title: "64 types + 10,000 pattern subscriptions, none matching",
    feature: true,
    ...withPatterns(10_000, { matching: false }),
  },
  "publish-async": {
    title: "publishAsync / emittery.emit, 3 async listeners",
    kind: "async",
    applies: (adapter) => adapter.async === true,
    setup(adapter) {
      const em = adapter.create();
      for (let k = 0; k < 3; k++) adapter.sub(em, TYPE, asyncListeners[k]);
      return { op: () => adapter.emitAsync(em, TYPE, payload), callsPerOp: 3 };
    },
  },
  "envelope-3": {
    title: "publish, 3 listeners `(data, envelope)`",
    feature: true,
    applies: agentBusOnly,
    ...publishToOneType(3, envelopeListeners),
  },
  "options-3": {
    title: "publish with options {correlationid}, 3 one-parameter listeners",
    feature: true,
    applies: agentBusOnly,
    setup(adapter) {
      const em = adapter.create();
      for (let k = 0; k < 3; k++) adapter.sub(em, TYPE, listeners[k]);
      if (adapter.baseline) return { op: () => adapter.emit(em, TYPE, payload), callsPerOp: 3 };
      const options = { correlationid: "c-1" };
      return { op: () => em.publish(TYPE, payload, options), callsPerOp: 3 };
    },
  },
  "groups-3": {
    title: "publish, 3 listeners; a group subscription on another type",
    feature: true,
    applies: agentBusOnly,
    setup(adapter) {
      const em = adapter.create();
      for (let k = 0; k < 3; k++) adapter.sub(em, TYPE, listeners[k]);
      if (!adapter.baseline) {
        em.subscribe("task.assigned", listeners[4], { group: "workers" });
        em.subscribe("task.assigned", listeners[5], { group: "workers" });
      }
      return { op: () => adapter.emit(em, TYPE, payload), callsPerOp: 3 };
    },
  },
  "responder-3": {
    title: "publish, 3 listeners; a request responder on another type",
    feature: true,
    applies: agentBusOnly,
    setup(adapter) {
      const em = adapter.create();
      for (let k = 0; k < 3; k++) adapter.sub(em, TYPE, listeners[k]);
      if (!adapter.baseline) em.respond("task.lookup", (data) => data);
      return { op: () => adapter.emit(em, TYPE, payload), callsPerOp: 3 };
    },
  },
};

export { TYPE, TYPES_64 };

/**
 * One adapter per library: the idiomatic way to create an emitter, subscribe, unsubscribe and
 * publish with it. A case process loads one adapter and one scenario only, so every call site
 * below stays monomorphic and the JIT inlines these thin wrappers away.
 */

import { EventEmitter as NodeEventEmitter } from "node:events";
import Emittery from "emittery";
import EventEmitter2 from "eventemitter2";
import EventEmitter3 from "eventemitter3";
import mitt from "mitt";
import { createNanoEvents } from "nanoevents";
import { EventEmitter as TseepEmitter } from "tseep";
import { EventBus } from "../dist/index.js";
import { Floor } from "./_floor.mjs";
import { SlotSketch } from "./_sketch.mjs";

function report(error) {
  console.error(`[bench] listener error: ${error}`);
}

/** The plain loop: a Map from type to an array of listeners, called in a for loop. */
class PlainLoop {
  map = new Map();
  on(type, fn) {
    const list = this.map.get(type);
    if (list === undefined) this.map.set(type, [fn]);
    else list.push(fn);
  }
  off(type, fn) {
    const list = this.map.get(type);
    const index = list === undefined ? -1 : list.indexOf(fn);
    if (index !== -1) list.splice(index, 1);
  }
  emit(type, data) {
    const list = this.map.get(type);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) list[i](data);
  }
  emitAsync(type, data) {
    const list = this.map.get(type);
    if (list === undefined) return Promise.resolve();
    const pending = [];
    for (let i = 0; i < list.length; i++) pending.push(list[i](data));
    return Promise.all(pending);
  }
}

/** The same loop with error isolation around each call, as agent-bus does. */
class TryCatchLoop extends PlainLoop {
  emit(type, data) {
    const list = this.map.get(type);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      try {
        list[i](data);
      } catch (error) {
        report(error);
      }
    }
  }
  emitAsync(type, data) {
    const list = this.map.get(type);
    if (list === undefined) return Promise.resolve();
    const pending = [];
    for (let i = 0; i < list.length; i++) {
      try {
        pending.push(list[i](data));
      } catch (error) {
        report(error);
      }
    }
    return Promise.allSettled(pending);
  }
}

const loopAdapter = (Loop) => ({
  sync: true,
  async: true,
  create: () => new Loop(),
  sub: (em, type, fn) => em.on(type, fn),
  unsub: (em, type, fn) => em.off(type, fn),
  emit: (em, type, data) => em.emit(type, data),
  emitAsync: (em, type, data) => em.emitAsync(type, data),
  unsubByCallback: (em, type, fn) => em.off(type, fn),
  count: (em, type) => em.map.get(type)?.length ?? 0,
});

/**
 * A reference emitter written for this benchmark (the floor, the sketch): `on` returns the
 * unsubscribe handle, and the leak warning's limit is lifted for the cases that need many listeners.
 */
const referenceAdapter = (label, Emitter) => ({
  label,
  baseline: true,
  sync: true,
  create: ({ unlimited } = {}) => new Emitter(unlimited ? Number.POSITIVE_INFINITY : 100),
  sub: (em, type, fn) => em.on(type, fn),
  unsub: (_em, _type, _fn, off) => off(),
  emit: (em, type, data) => em.emit(type, data),
});

/** Adapters by id, in the column order of the report. */
export const adapters = {
  "plain-loop": { label: "plain loop", baseline: true, ...loopAdapter(PlainLoop) },
  "try-catch-loop": { label: "try/catch loop", baseline: true, ...loopAdapter(TryCatchLoop) },
  // agent-bus's guarantees in plain code (see _floor.mjs): what they cost, apart from agent-bus's own code.
  floor: referenceAdapter("floor", Floor),
  "agent-bus": {
    label: "agent-bus",
    sync: true,
    async: true,
    patterns: true,
    create: ({ unlimited } = {}) => new EventBus(unlimited ? { maxListeners: 0 } : {}),
    sub: (bus, type, fn) => bus.subscribe(type, fn),
    unsub: (_bus, _type, _fn, off) => off(),
    unsubByCallback: (bus, type, fn) => bus.unsubscribe(type, fn),
    count: (bus, type) => bus.listenerCount(type),
    emit: (bus, type, data) => bus.publish(type, data),
    emitAsync: (bus, type, data) => bus.publishAsync(type, data),
    pattern: (pattern) => pattern,
  },
  "node-events": {
    label: "node:events",
    sync: true,
    create: ({ unlimited } = {}) => {
      const em = new NodeEventEmitter();
      if (unlimited) em.setMaxListeners(0);
      return em;
    },
    sub: (em, type, fn) => em.on(type, fn),
    unsub: (em, type, fn) => em.off(type, fn),
    unsubByCallback: (em, type, fn) => em.off(type, fn),
    count: (em, type) => em.listenerCount(type),
    emit: (em, type, data) => em.emit(type, data),
  },
  eventemitter3: {
    label: "eventemitter3",
    sync: true,
    create: () => new EventEmitter3(),
    sub: (em, type, fn) => em.on(type, fn),
    unsub: (em, type, fn) => em.off(type, fn),
    emit: (em, type, data) => em.emit(type, data),
  },
  mitt: {
    label: "mitt",
    sync: true,
    create: () => mitt(),
    sub: (em, type, fn) => em.on(type, fn),
    unsub: (em, type, fn) => em.off(type, fn),
    emit: (em, type, data) => em.emit(type, data),
  },
  nanoevents: {
    label: "nanoevents",
    sync: true,
    create: () => createNanoEvents(),
    sub: (em, type, fn) => em.on(type, fn),
    unsub: (_em, _type, _fn, unbind) => unbind(),
    emit: (em, type, data) => em.emit(type, data),
  },
  tseep: {
    label: "tseep",
    sync: true,
    create: () => new TseepEmitter(),
    sub: (em, type, fn) => em.on(type, fn),
    unsub: (em, type, fn) => em.off(type, fn),
    emit: (em, type, data) => em.emit(type, data),
  },
  eventemitter2: {
    label: "EventEmitter2",
    sync: true,
    patterns: true,
    create: ({ wildcard, unlimited } = {}) =>
      new EventEmitter2(
        wildcard ? { wildcard: true, delimiter: ".", maxListeners: 0 } : unlimited ? { maxListeners: 0 } : {},
      ),
    sub: (em, type, fn) => em.on(type, fn),
    unsub: (em, type, fn) => em.off(type, fn),
    emit: (em, type, data) => em.emit(type, data),
    // agent-bus's ">" (one or more trailing tokens) is EventEmitter2's "**".
    pattern: (pattern) => pattern.replace(/(^|\.)>$/u, "$1**"),
  },
  emittery: {
    label: "emittery",
    sync: false,
    async: true,
    churn: true,
    create: () => new Emittery(),
    sub: (em, type, fn) => em.on(type, fn),
    unsub: (_em, _type, _fn, off) => off(),
    emitAsync: (em, type, data) => em.emit(type, data),
  },
};

export const libraryIds = Object.keys(adapters);

/**
 * Experiments that run only when named, never in a report's columns (see _sketch.mjs): what a
 * design could cost, set beside the libraries by bench:profile, bench:instructions --only and
 * bench/case.mjs.
 */
export const sketches = {
  sketch: referenceAdapter("slot sketch", SlotSketch),
};

const known = { ...adapters, ...sketches };
/** Every id `adapterFor` knows: the libraries in report order, then the sketches. */
export const knownIds = Object.keys(known);

/** The adapter of a library or a sketch, by id; undefined for neither. */
export function adapterFor(id) {
  return Object.hasOwn(known, id) ? known[id] : undefined;
}

/**
 * The floor: agent-bus's guarantees for the benchmark's operations, kept in plain code, with none
 * of agent-bus's optimizations (no walks, no lone or fast fields). It is here to tell the cost of
 * the guarantees from the cost of agent-bus's own code.
 *
 * Kept, as agent-bus keeps them (test/bench-floor.test.ts checks each on both): a throw from one
 * listener reported and the others still called; a rejected promise from a listener reported;
 * listeners added during a publish not called by it, and listeners removed during a publish not
 * called after their removal; a publish depth limit (a cycle of listeners publishing gets an
 * error, not a stack overflow); the envelope only for listeners that declare a second parameter
 * (the arity read once, at a listener's first call); O(1) unsubscribe by handle; calls in
 * subscription order; a warning when a type's listeners pass a limit (a leak). Not kept, as the
 * benchmark's rows do not use them: patterns and the order across them, groups, once, the
 * envelope's id and time, transports.
 *
 * A reference, not a lower bound: agent-bus's tuned paths beat it where they apply. A peer ahead
 * of the floor does less per operation than these guarantees ask when they are written plainly.
 */

const DEPTH_LIMIT = 32;

function report(error) {
  console.error(`[bench] listener error: ${error}`);
}

export class Floor {
  // A plain object, as nanoevents keeps its types: a null-prototype one is a dictionary, whose
  // lookups cost ~100 instructions more a publish (callgrind).
  lists = {};
  depth = 0;
  /** Subscriptions made so far: a node's `seq` tells a publish whether it came after it. */
  seq = 0;

  /** @param maxListeners listeners on one type above which it warns once. */
  constructor(maxListeners = 100) {
    this.maxListeners = maxListeners;
  }

  on(type, fn) {
    let list = this.lists[type];
    if (list === undefined) {
      list = { head: undefined, tail: undefined, size: 0, warned: false };
      this.lists[type] = list;
    }
    if (++list.size > this.maxListeners && !list.warned) {
      list.warned = true;
      console.warn(`[bench] more than ${this.maxListeners} listeners on ${type}: a leak?`);
    }
    // arity: -1 until the first call reads it.
    const node = { fn, seq: ++this.seq, arity: -1, active: true, prev: list.tail, next: undefined };
    if (list.tail === undefined) list.head = node;
    else list.tail.next = node;
    list.tail = node;
    return () => this.remove(list, node);
  }

  remove(list, node) {
    if (!node.active) return false;
    node.active = false;
    list.size--;
    // node.next stays: a publish standing on this node walks on through it.
    const { prev, next } = node;
    if (prev === undefined) list.head = next;
    else prev.next = next;
    if (next === undefined) list.tail = prev;
    else next.prev = prev;
    return true;
  }

  emit(type, data) {
    const list = this.lists[type];
    if (list === undefined) return;
    if (this.depth >= DEPTH_LIMIT) throw new Error(`publish depth over ${DEPTH_LIMIT} on ${type}`);
    // Listeners added by this publish's listeners are newer: not called. (Stopping after the
    // tail as it was is not enough: that one may be removed, and new ones linked after another.)
    const newest = this.seq;
    let envelope;
    this.depth++;
    try {
      for (let node = list.head; node !== undefined && node.seq <= newest; node = node.next) {
        if (node.active) {
          let arity = node.arity;
          if (arity < 0) arity = node.arity = node.fn.length;
          try {
            let result;
            if (arity === 1) result = node.fn(data);
            else {
              envelope ??= { type, data };
              result = node.fn(data, envelope);
            }
            if (result !== undefined && typeof result?.then === "function") result.then(undefined, report);
          } catch (error) {
            report(error);
          }
        }
      }
    } finally {
      this.depth--;
    }
  }
}

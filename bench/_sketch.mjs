/**
 * The slot sketch: how little a design could do per operation while keeping agent-bus's API on
 * the rows where a peer leads. An experiment, not a baseline of the report: it runs only when
 * named (`npm run bench:profile -- sketch <scenario>`, `bench:instructions --only "^sketch "`,
 * `node bench/case.mjs sketch <case>`), and docs/bench.md quotes what it showed.
 *
 * It is the layout the array-based peers use, one array slot per subscription holding the bare
 * callback, with only what agent-bus's API asks on top: a throw or a rejected promise reported and
 * the other listeners still called; listeners added during a publish left for the next one and
 * those removed during it skipped; a depth limit; the envelope only for listeners that declare a
 * second parameter (the arity read once, at the first publish that reaches the listener); a
 * returned unsubscribe function that carries `Symbol.dispose` and removes its own registration
 * once; a leak warning. Patterns, groups, once, the envelope's id and time and the transports are
 * left out: each would only add.
 *
 * What it cannot keep, by design, is the point of it: a slot holds no position. A removal leaves
 * a hole (or pops the tail), and once holes are half the array it is compacted, which moves the
 * slots that the older handles point at; such a handle then finds its callback by a scan, which
 * makes removing 100,000 subscriptions by handle in subscription order quadratic, and with the
 * same callback registered twice the scan may take the other registration. Keeping positions
 * right takes state per subscription, which is what agent-bus's node is.
 */

const DEPTH_LIMIT = 32;

function report(error) {
  console.error(`[bench] listener error: ${error}`);
}

/** A slot whose listener takes the envelope: the settled form of a callback of arity other than 1. */
class Wide {
  constructor(fn) {
    this.fn = fn;
  }
}

class Slots {
  /** Callbacks (arity 1 or not read yet), Wide records, and null for holes. */
  fns = [];
  holes = 0;
  /** Slots below this have had their arity read. */
  settled = 0;
  /** Publishes of this list in progress: no compaction under them. */
  walking = 0;
  /** Compactions so far: a handle from an earlier one no longer knows its slot. */
  generation = 0;
  warned = false;
}

function settle(slots, upTo) {
  const { fns } = slots;
  for (let i = slots.settled; i < upTo; i++) {
    const f = fns[i];
    if (typeof f === "function" && f.length !== 1) fns[i] = new Wide(f);
  }
  slots.settled = upTo;
}

function compact(slots) {
  const { fns } = slots;
  let kept = 0;
  let settled = 0;
  for (let i = 0; i < fns.length; i++) {
    const f = fns[i];
    if (f === null) continue;
    fns[kept++] = f;
    if (i < slots.settled) settled = kept;
  }
  fns.length = kept;
  slots.settled = settled;
  slots.holes = 0;
  slots.generation++;
}

function holds(slot, fn) {
  return slot === fn || (slot instanceof Wide && slot.fn === fn);
}

function removeAt(slots, index, fn, generation) {
  const { fns } = slots;
  let at = index;
  if (slots.generation !== generation || !holds(fns[at], fn)) {
    // The slot moved in a compaction: the scan the layout cannot avoid.
    at = fns.findIndex((slot) => holds(slot, fn));
    if (at === -1) return false;
  }
  if (at === fns.length - 1 && slots.walking === 0) {
    fns.pop();
    while (fns.length > 0 && fns[fns.length - 1] === null) {
      fns.pop();
      slots.holes--;
    }
    if (slots.settled > fns.length) slots.settled = fns.length;
    return true;
  }
  fns[at] = null;
  if (++slots.holes * 2 > fns.length && slots.walking === 0) compact(slots);
  return true;
}

/** A listener's returned promise: its rejection is reported too. */
function watch(result) {
  if (result !== undefined && typeof result?.then === "function") result.then(undefined, report);
}

export class SlotSketch {
  // A plain object, as in the floor: a null-prototype one is a dictionary.
  lists = {};
  room = DEPTH_LIMIT;

  /** @param maxListeners listeners on one type above which it warns once. */
  constructor(maxListeners = 100) {
    this.maxListeners = maxListeners;
  }

  on(type, fn) {
    let slots = this.lists[type];
    if (slots === undefined) {
      slots = new Slots();
      this.lists[type] = slots;
    }
    const { fns } = slots;
    const index = fns.length;
    fns.push(fn);
    if (index - slots.holes >= this.maxListeners && !slots.warned) {
      slots.warned = true;
      console.warn(`[bench] more than ${this.maxListeners} listeners on ${type}: a leak?`);
    }
    const { generation } = slots;
    let live = true;
    const off = () => {
      if (!live) return false;
      live = false;
      return removeAt(slots, index, fn, generation);
    };
    off[Symbol.dispose] = off;
    return off;
  }

  emit(type, data) {
    const slots = this.lists[type];
    if (slots === undefined) return;
    if (this.room <= 0) throw new Error(`publish depth over ${DEPTH_LIMIT} on ${type}`);
    const { fns } = slots;
    // Listeners pushed by this publish's listeners lie beyond n: not called.
    const n = fns.length;
    if (slots.settled < n) settle(slots, n);
    this.room--;
    slots.walking++;
    let envelope;
    for (let i = 0; i < n; i++) {
      const f = fns[i];
      if (typeof f === "function") {
        try {
          watch(f(data));
        } catch (error) {
          this.fail(error, slots);
        }
      } else if (f !== null) {
        envelope ??= { type, data };
        try {
          watch(f.fn(data, envelope));
        } catch (error) {
          this.fail(error, slots);
        }
      }
    }
    slots.walking--;
    this.room++;
    if (slots.holes * 2 > fns.length && slots.walking === 0) compact(slots);
  }

  /**
   * Reports a listener's throw. A throw can leave a publish only from here (reporting failed),
   * so the counts are given back here rather than in a try/finally around every publish, as
   * agent-bus does.
   */
  fail(error, slots) {
    try {
      report(error);
    } catch (fatal) {
      slots.walking--;
      this.room++;
      throw fatal;
    }
  }
}

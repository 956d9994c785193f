/**
 * The listeners every library gets: distinct functions (not closures of one factory), so that
 * call sites in the libraries see as many targets as real code would. Each counts its calls,
 * which lets the harness check that a library really delivered before timing it.
 */

export const state = { calls: 0, sink: 0, last: undefined };

/** One-parameter listeners: agent-bus does not build the envelope for these. */
export const listeners = [
  (data) => {
    state.calls++;
    state.sink = (state.sink + data.n) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink ^ data.n) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink - data.n) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink + 2 * data.n) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink ^ (data.n << 1)) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink + 3 * data.n) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink ^ (data.n << 2)) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink - 2 * data.n) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink + 5 * data.n) | 0;
  },
  (data) => {
    state.calls++;
    state.sink = (state.sink ^ (data.n << 3)) | 0;
  },
];

/** Two-parameter listeners: agent-bus builds one envelope per publish for them. */
export const envelopeListeners = [
  (data, envelope) => {
    state.calls++;
    state.sink = (state.sink + data.n) | 0;
    state.last = envelope;
  },
  (data, envelope) => {
    state.calls++;
    state.sink = (state.sink ^ data.n) | 0;
    state.last = envelope;
  },
  (data, envelope) => {
    state.calls++;
    state.sink = (state.sink - data.n) | 0;
    state.last = envelope;
  },
];

/** Async listeners, for publishAsync and emittery's emit. */
export const asyncListeners = [
  async (data) => {
    state.calls++;
    state.sink = (state.sink + data.n) | 0;
  },
  async (data) => {
    state.calls++;
    state.sink = (state.sink ^ data.n) | 0;
  },
  async (data) => {
    state.calls++;
    state.sink = (state.sink - data.n) | 0;
  },
];

/**
 * A distinct one-parameter closure per index, for the memory and scale cases. The sink is masked
 * before the sum: with indexes up to 100,000 an unmasked sum leaves V8's small-integer range within
 * a few million calls, and the deoptimization that follows, mid-warm-up, re-optimizes the caller
 * in a shape that depends on each library's call tree (agent-bus over 1,000 types: 33 → 45–57
 * M/s once it was gone).
 */
export function makeListener(index) {
  return (data) => {
    state.calls++;
    state.sink = ((state.sink & 0xfffffff) + index + data.n) | 0;
  };
}

export const payload = { n: 1 };

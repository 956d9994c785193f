// The benchmark report judges the targets from the measured rows; these check its rules
// on made-up rows, so that a wrong verdict cannot hide behind real, noisy figures.
import { describe, expect, it } from "vitest";
// @ts-expect-error: the bench scripts are plain ES modules without type declarations
import { checkTargets } from "../bench/_report.mjs";

interface Target {
  target: string;
  met: boolean | null;
  detail: string;
}

/** A speed row: ops/s median per library, spread 2 %. */
function row(id: string, medians: Record<string, number>, feature = false) {
  const results = Object.fromEntries(
    Object.entries(medians).map(([lib, median]) => [lib, { median, spread: 2 }]),
  );
  return { id, feature, results };
}

function judge(rows: ReturnType<typeof row>[]): Target[] {
  return checkTargets(rows, {}) as Target[];
}

const peerTarget = (targets: Target[]) =>
  targets.find((t) => t.target.startsWith("agent-bus at or above every peer")) as Target;

describe("the benchmark report's targets", () => {
  it("leaves tseep out of the peer target on single-type publish rows only, and says so", () => {
    const onOneType = judge([row("publish-1", { "agent-bus": 100, tseep: 300, nanoevents: 90 })]);
    expect(peerTarget(onOneType).met).toBe(true);
    expect(peerTarget(onOneType).detail).toMatch(/left out.*publish-1: tseep 3\.00x/u);

    const onManyTypes = judge([row("types-64", { "agent-bus": 100, tseep: 130 })]);
    expect(peerTarget(onManyTypes).met).toBe(false);
    expect(peerTarget(onManyTypes).detail).toMatch(/peers ahead: types-64: tseep 1\.30x/u);

    const otherPeer = judge([row("publish-1", { "agent-bus": 100, nanoevents: 120 })]);
    expect(peerTarget(otherPeer).met).toBe(false);
  });

  it("counts a peer that holds a subscription in fewer bytes as ahead, and names the figures", () => {
    const memory = (peerBytes: number) =>
      peerTarget(
        checkTargets(
          [row("types-64", { "agent-bus": 100, nanoevents: 90 })],
          {},
          {
            "memory-1type": {
              "agent-bus": { 100000: { median: 88 } },
              nanoevents: { 100000: { median: peerBytes } },
            },
          },
        ) as Target[],
      );
    expect(memory(9).met).toBe(false);
    expect(memory(9).detail).toMatch(/memory-1type: 88 B a subscription, fewer for nanoevents 9 B/u);
    expect(memory(120).met).toBe(true);
    expect(memory(120).detail).not.toMatch(/memory/u);
  });

  it("tells the peers ahead of the floor too from those ahead of agent-bus only, and is not a target", () => {
    const targets = judge([
      row("publish-1", { "agent-bus": 100, floor: 80, nanoevents: 110 }),
      row("sub-pub-unsub", { "agent-bus": 100, floor: 130, nanoevents: 120, mitt: 90 }),
      row("publish-3", { "agent-bus": 300, floor: 100, tseep: 400 }),
    ]);
    const floor = targets.find((t) => t.target.startsWith("the guarantees' own cost")) as Target;
    expect(floor.met).toBeNull();
    expect(floor.detail).toMatch(/ahead of the floor too: publish-1: nanoevents 1\.38x the floor\./u);
    expect(floor.detail).toMatch(
      /Ahead of agent-bus only: sub-pub-unsub: nanoevents \(the floor 1\.08x it\)\./u,
    );
    // tseep's generated code on one type stays out, as in the peer target; mitt is behind agent-bus.
    expect(floor.detail).not.toMatch(/tseep|mitt/u);
    expect(floor.detail).toMatch(
      /agent-bus ÷ floor: publish-1 1\.25x, sub-pub-unsub 0\.77x, publish-3 3\.00x$/u,
    );
    // The peer target itself is judged as before: the floor is a baseline, never a peer.
    expect(peerTarget(targets).detail).not.toMatch(/floor/u);

    const withoutFloor = judge([row("publish-1", { "agent-bus": 100, nanoevents: 110 })]);
    expect(withoutFloor.some((t) => t.target.startsWith("the guarantees' own cost"))).toBe(false);
  });

  it("counts only a cost against an unused feature, not a faster result", () => {
    const verdict = (groups: number) =>
      judge([row("publish-3", { "agent-bus": 100 }), row("groups-3", { "agent-bus": groups }, true)]).find(
        (t) => t.target.startsWith("unused feature"),
      ) as Target;
    expect(verdict(110).met).toBe(true); // 9 % faster
    expect(verdict(98).met).toBe(true); // 2 % slower, inside 5 %
    expect(verdict(80).met).toBe(false); // 25 % slower
  });

  it("shows the cost of attributes passed to a publish without judging it: that publish uses them", () => {
    const targets = judge([
      row("publish-3", { "agent-bus": 100 }),
      row("options-3", { "agent-bus": 80 }, true),
    ]);
    const options = targets.find((t) => t.target.includes("attributes passed to a publish")) as Target;
    expect(options.met).toBeNull();
    expect(options.detail).toMatch(/^\+25\.0% time per publish/u);
    expect(targets.some((t) => t.target.startsWith("unused feature"))).toBe(false);
  });
});

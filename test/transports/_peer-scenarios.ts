/**
 * Fault scenarios with real Node peer processes that every broker's fault tests run the same way:
 * a durable subscriber killed and replaced, and two peers sharing events, groups and requests.
 */
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { EventBus } from "../../src/index.js";
import { waitFor } from "../conformance/helpers.js";
import { Peer } from "./_processes.js";

const peerScript = fileURLToPath(new URL("./fixtures/peer.ts", import.meta.url));

const got = (peer: Peer) => peer.lines.filter((line) => "got" in line);

/** Starts a durable peer process (`audit-<n>`) and waits until it says it is ready. */
export async function durablePeer(
  url: string,
  namespace: string,
  name: string,
  peers: Peer[],
): Promise<Peer> {
  const peer = new Peer(peerScript, [url, namespace, "durable", name]);
  peers.push(peer);
  await waitFor(() => peer.lines.some((line) => "ready" in line), "the durable peer", 15_000);
  return peer;
}

/** 20 entries reach the first durable peer; it is killed; a new one gets the 40 sent meanwhile, in order. */
export async function expectDurableCatchUp(
  first: Peer,
  publisher: EventBus,
  url: string,
  namespace: string,
  peers: Peer[],
): Promise<void> {
  for (let i = 0; i < 20; i++) publisher.publish("audit.entry", i);
  await waitFor(() => got(first).length === 20, "20 entries before the kill", 10_000);
  await first.stop("SIGKILL");
  for (let i = 20; i < 60; i++) publisher.publish("audit.entry", i);
  const second = new Peer(peerScript, [url, namespace, "durable", "audit-2"]);
  peers.push(second);
  await waitFor(() => got(second).length >= 40, "40 entries after restart", 15_000);
  expect(got(second).map((line) => line.got)).toEqual(Array.from({ length: 40 }, (_, i) => i + 20));
}

/** Two peers greet and ask each other; 40 group jobs from this process are split between them. */
export async function expectPeersExchange(
  url: string,
  namespace: string,
  peers: Peer[],
  busOn: (namespace: string) => Promise<EventBus>,
): Promise<void> {
  const [a, b] = ["alice", "bob"].map((name) => new Peer(peerScript, [url, namespace, "peer", name])) as [
    Peer,
    Peer,
  ];
  peers.push(a, b);
  await waitFor(
    () => [a, b].every((p) => p.lines.some((line) => "asked" in line)),
    "both peers to ask each other",
    15_000,
  );
  expect(a.lines).toContainEqual({ hello: "bob" });
  expect(a.lines).toContainEqual({ asked: "bob", reply: "bob" });
  expect(b.lines).toContainEqual({ asked: "alice", reply: "alice" });
  const parent = await busOn(namespace);
  for (let job = 0; job < 40; job++) parent.publish("job.run", job);
  const jobs = () =>
    [...a.lines, ...b.lines].filter((line) => "job" in line).map((line) => line.job as number);
  await waitFor(() => jobs().length >= 40, "40 jobs", 10_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(jobs().sort((x, y) => x - y)).toEqual([...Array(40).keys()]);
  expect(a.lines.some((line) => "job" in line) && b.lines.some((line) => "job" in line)).toBe(true);
}

import { describe, expectTypeOf, it } from "vitest";
import {
  createHost,
  type ExtensionContext,
  type FailureKind,
  type Host,
  type HostOptions,
} from "../../src/host/index.js";
import type { EventBus } from "../../src/index.js";

describe("ExtensionContext", () => {
  it("types ctx.params from the script's own params", () => {
    const params = { display_name: "Demo", interval_ms: 400, agents: "a,b" };
    expectTypeOf<ExtensionContext<typeof params>["params"]["interval_ms"]>().toEqualTypeOf<number>();
    expectTypeOf<ExtensionContext<typeof params>["params"]["agents"]>().toEqualTypeOf<string>();
    expectTypeOf<ExtensionContext["bus"]>().toEqualTypeOf<EventBus>();
    expectTypeOf<ExtensionContext["signal"]>().toEqualTypeOf<AbortSignal>();
  });

  it("refuses params that are not an object of settings", () => {
    // @ts-expect-error: params are an object, not a string
    expectTypeOf<ExtensionContext<string>>().toBeObject();
  });
});

describe("createHost", () => {
  it("resolves to a Host whose extensions say what loaded and why others failed", () => {
    expectTypeOf(createHost).returns.resolves.toEqualTypeOf<Host>();
    expectTypeOf<Host["extensions"]["failed"][number]["kind"]>().toEqualTypeOf<FailureKind>();
    expectTypeOf<Host["url"]>().toEqualTypeOf<string | undefined>();
  });

  it("takes a port number and a list of names, nothing else", () => {
    // @ts-expect-error: the port is a number
    const badPort: HostOptions = { port: "4319" };
    // @ts-expect-error: extensions are a list of names
    const badNames: HostOptions = { extensions: "demo" };
    expectTypeOf(badPort).toEqualTypeOf<HostOptions>();
    expectTypeOf(badNames).toEqualTypeOf<HostOptions>();
  });
});

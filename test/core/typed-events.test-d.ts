import { describe, expectTypeOf, it } from "vitest";
import { bus, type Envelope, EventBus } from "../../src/index.js";

interface Events {
  "task.started": { taskId: number };
  "task.completed": { taskId: number; success: boolean };
  "model.loaded": { modelName: string };
  "model.unloaded": undefined;
  "chat.message": { user: string; text: string } | undefined;
}

interface Replies {
  "task.started": "accepted" | "rejected";
}

describe("typed events", () => {
  const typed = new EventBus<Events, Replies>();

  it("infers the payload of an exact subscription", () => {
    typed.subscribe("task.completed", (data, event) => {
      expectTypeOf(data).toEqualTypeOf<{ taskId: number; success: boolean }>();
      expectTypeOf(event).toEqualTypeOf<Envelope<{ taskId: number; success: boolean }>>();
    });
  });

  it("infers the union of the matched payloads for a pattern", () => {
    typed.subscribe("task.*", (data) => {
      expectTypeOf(data).toEqualTypeOf<{ taskId: number } | { taskId: number; success: boolean }>();
    });
    typed.subscribe("model.>", (data) => {
      expectTypeOf(data).toEqualTypeOf<{ modelName: string } | undefined>();
    });
  });

  it("takes a generic key of the map in subscribe, once and events", () => {
    function on<K extends keyof Events & string>(type: K, callback: (data: Events[K]) => void) {
      return typed.subscribe(type, callback);
    }
    function next<K extends keyof Events & string>(type: K) {
      return typed.once(type);
    }
    function stream<K extends keyof Events & string>(type: K) {
      return typed.events(type);
    }
    on("task.started", (data) => expectTypeOf(data).toEqualTypeOf<{ taskId: number }>());
    expectTypeOf(next("model.loaded")).toEqualTypeOf<Promise<{ modelName: string }>>();
    expectTypeOf(stream("task.completed")).toMatchTypeOf<
      AsyncIterable<Envelope<{ taskId: number; success: boolean }>>
    >();
  });

  it("rejects types and patterns that match no declared event", () => {
    // @ts-expect-error "task.unknown" is not an event of the map
    typed.subscribe("task.unknown", () => undefined);
    // @ts-expect-error no event has three tokens
    typed.subscribe("task.*.x", () => undefined);
  });

  it("checks published payloads", () => {
    typed.publish("task.started", { taskId: 1 });
    // @ts-expect-error taskId must be a number
    typed.publish("task.started", { taskId: "1" });
    // @ts-expect-error a payload is required when it does not admit undefined
    typed.publish("task.started");
    // @ts-expect-error unknown event type
    typed.publish("task.nope", {});
  });

  it("lets data be left out only when the payload admits undefined", () => {
    typed.publish("model.unloaded");
    typed.publish("chat.message");
    typed.publish("chat.message", { user: "John", text: "Hello" });
  });

  it("types request and respond from the event and reply maps", () => {
    typed.respond("task.started", (data) => {
      expectTypeOf(data).toEqualTypeOf<{ taskId: number }>();
      return "accepted" as const;
    });
    // @ts-expect-error the reply must be one of the declared replies
    typed.respond("task.started", () => "maybe");
    typed.respond("task.started", (data) => (data.taskId > 0 ? "accepted" : "rejected"));
    // TypeScript widens a bare literal returned before it knows the event type: README says to
    // write `as const`, which also holds in an async responder.
    typed.respond("task.started", async () => "accepted" as const);
    expectTypeOf(typed.request("task.started", { taskId: 1 })).toEqualTypeOf<
      Promise<"accepted" | "rejected">
    >();
    expectTypeOf(typed.request("model.loaded", { modelName: "x" })).toEqualTypeOf<Promise<unknown>>();
    // @ts-expect-error wrong request payload
    void typed.request("task.started", { taskId: false });
  });

  it("types once and events", () => {
    expectTypeOf(typed.once("model.loaded")).toEqualTypeOf<Promise<{ modelName: string }>>();
    const stream = typed.events("task.completed");
    expectTypeOf(stream.next()).resolves.toMatchTypeOf<
      IteratorResult<Envelope<{ taskId: number; success: boolean }>>
    >();
  });
});

describe("the untyped default", () => {
  it("accepts the seed's code unchanged: any type, any payload, data optional", () => {
    bus.subscribe("my_event", (data) => {
      expectTypeOf(data).toBeAny();
    });
    bus.publish("my_event", { message: "Hello, World!" });
    bus.publish("simple_event");
    bus.publish("metric", 42);
    const untyped = new EventBus();
    untyped.subscribe("task.*", (data: { task_id: number }) => data.task_id);
  });

  it("returns an unsubscribe function that is also disposable", () => {
    const off = bus.subscribe("x", () => undefined);
    expectTypeOf(off).returns.toEqualTypeOf<boolean>();
    expectTypeOf(off[Symbol.dispose]).toBeFunction();
  });
});

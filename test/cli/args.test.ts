import { describe, expect, it } from "vitest";
import { parseOptions, UsageError } from "../../src/cli/args.js";
import { runOptions } from "../../src/cli/run.js";

describe("run options", () => {
  it("takes extension names as a,b, as a b, and as both mixed, in order", () => {
    expect(runOptions(["--extensions", "a,b"]).extensions).toEqual(["a", "b"]);
    expect(runOptions(["--extensions", "a", "b", "--port", "0"]).extensions).toEqual(["a", "b"]);
    expect(runOptions(["--extensions", "a,b", "c", "--extensions=d,,e"]).extensions).toEqual([
      "a",
      "b",
      "c",
      "d",
      "e",
    ]);
  });

  it("maps every option to the host option of the same meaning", () => {
    expect(
      runOptions([
        "--extensions-dir",
        "ext",
        "--config=c.yaml",
        "--data-dir",
        "data",
        "--port",
        "0",
        "--extensions",
        "x",
      ]),
    ).toEqual({ extensions: ["x"], extensionsDir: "ext", config: "c.yaml", dataDir: "data", port: 0 });
  });

  it("refuses a stray word, a flag with a value, and a negative port", () => {
    expect(() => runOptions(["demo"])).toThrow(/unexpected argument "demo" \(names go after --extensions\)/u);
    expect(() => runOptions(["--help=yes"])).toThrow(/--help takes no value/u);
    expect(() => runOptions(["--port", "-1"])).toThrow(UsageError);
  });

  it("refuses names of Object.prototype's members as unknown options", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      expect(() => runOptions([`--${name}`, "x"])).toThrow(
        new RegExp(`unknown option --${name} for "run"`, "u"),
      );
      expect(() => parseOptions([`--${name}=x`], { help: "flag" }, "tail")).toThrow(/unknown option/u);
    }
  });

  it("does not take a single-dash word for a long option", () => {
    expect(() => parseOptions(["-port", "1"], { port: "port" }, "run")).toThrow(/unknown option -port/u);
  });
});

import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);

describe("or / orValue as cel-go evaluates them (kube-apiserver 1.32, kyverno 1.15)", () => {
  const object = {
    spec: { containers: [{ securityContext: { capabilities: { add: ["NET_BIND_SERVICE"] } } }] },
  };

  it("returns a value that is not an optional unchanged (kyverno/policies disallow-capabilities-strict)", () => {
    expect(run("object.spec.containers[0].securityContext.capabilities.add.orValue([])", { object })).toEqual(
      ["NET_BIND_SERVICE"],
    );
    expect(run("object.spec.containers.orValue([]).size()", { object })).toBe(1n);
    expect(run("object.spec.or(optional.of(1))", { object })).toEqual(object.spec);
  });

  it("still unwraps optionals, evaluating the default only for an empty one", () => {
    expect(run("object.spec.?hostPID.orValue(false)", { object })).toBe(false);
    expect(run("object.spec.?containers.orValue([]).size()", { object })).toBe(1n);
    // The default is not evaluated when the optional has a value (1/0 would be an error).
    expect(run("optional.of(2).orValue(1 / 0)")).toBe(2n);
    expect(run("optional.of(2).or(optional.of(1 / 0)).value()")).toBe(2n);
    expect(run("optional.none().or(optional.of(3)).value()")).toBe(3n);
  });

  it("keeps the receiver's own error: a missing field is no such key, not the default", () => {
    expect(() => run("object.spec.initContainers.orValue([])", { object })).toThrowError(/No such key/);
  });

  it("rejects a receiver statically known not to be optional, as cel-go's checker does", () => {
    expect(() => run("[1, 2].orValue([])")).toThrowError(/must be optional/);
  });
});

import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);
const all = (cases: Array<[string, unknown]>, vars: Record<string, unknown> = {}) => {
  for (const [expr, want] of cases) expect(run(expr, vars), expr).toEqual(want);
};

describe("two-variable comprehensions (cel-go ext.TwoVarComprehensions, Kubernetes 1.32+)", () => {
  it("runs the library's doc-comment examples", () => {
    all([
      ["[1, 2, 3].all(i, j, i < j)", true],
      ["{'hello': 'world', 'taco': 'taco'}.all(k, v, k != v)", false],
      ["{'h': ['hello', 'hi'], 'j': ['joke', 'jog']}.all(k, vals, vals.all(v, v.startsWith(k)))", true],
      [
        "{'greeting': 'hello', 'farewell': 'goodbye'}.exists(k, v, k.startsWith('good') || v.endsWith('bye'))",
        true,
      ],
      ["[1, 2, 4, 8, 16].exists(i, v, v == 1024 && i == 10)", false],
      ["[1, 2, 1, 3, 1, 4].existsOne(i, v, i == 1 || v == 1)", false],
      ["[1, 1, 2, 2, 3, 3].existsOne(i, v, i == 2 && v == 2)", true],
      ["{'i': 0, 'j': 1, 'k': 2}.existsOne(i, v, i == 'l' || v == 1)", true],
      ["[1, 1, 2].exists_one(i, v, v == 2)", true],
      ["[1, 2, 3].transformList(indexVar, valueVar, (indexVar * valueVar) + valueVar)", [1n, 4n, 9n]],
      [
        "[1, 2, 3].transformList(indexVar, valueVar, indexVar % 2 == 0, (indexVar * valueVar) + valueVar)",
        [1n, 9n],
      ],
      ["{'greeting': 'hello', 'farewell': 'goodbye'}.transformList(k, _, k)", ["greeting", "farewell"]],
      ["{'greeting': 'hello', 'farewell': 'goodbye'}.transformList(_, v, v)", ["hello", "goodbye"]],
      [
        "[1, 2, 3].transformMap(indexVar, valueVar, (indexVar * valueVar) + valueVar)",
        new Map([
          [0n, 1n],
          [1n, 4n],
          [2n, 9n],
        ]),
      ],
      [
        "[1, 2, 3].transformMap(indexVar, valueVar, indexVar % 2 == 0, (indexVar * valueVar) + valueVar)",
        new Map([
          [0n, 1n],
          [2n, 9n],
        ]),
      ],
      ["{'greeting': 'hello'}.transformMap(k, v, v + '!')", { greeting: "hello!" }],
      [
        "{'greeting': 'hello'}.transformMapEntry(keyVar, valueVar, {valueVar: keyVar})",
        { hello: "greeting" },
      ],
      // cel-js turns a map literal's keys into object property names, so int keys come back as strings.
      [
        "[1, 2, 3].transformMapEntry(indexVar, valueVar, {valueVar: indexVar})",
        { "1": 0n, "2": 1n, "3": 2n },
      ],
      ["[1, 2, 3].transformMapEntry(i, v, {v: i})[2]", 1n],
      ["[1, 2, 3].transformMap(i, v, v * 10)[2]", 30n],
    ]);
    expect(() =>
      run(
        "{'greeting': 'aloha', 'farewell': 'aloha'}.transformMapEntry(keyVar, valueVar, {valueVar: keyVar})",
      ),
    ).toThrow("insert failed: key aloha already exists");
  });

  it("works on admission objects as Kubernetes policies write them", () => {
    const object = {
      metadata: { labels: { app: "web", "app.kubernetes.io/name": "web", team: "a" } },
      spec: {
        containers: [
          { name: "a", image: "acr.io/a:1", ports: [{ containerPort: 80n }] },
          { name: "b", image: "acr.io/b:1", ports: [{ containerPort: 8080n }] },
        ],
      },
    };
    all(
      [
        ["object.metadata.labels.all(k, v, k.size() < 64 && v.size() < 64)", true],
        ["object.metadata.labels.exists(k, v, k.startsWith('app') && v == 'web')", true],
        ["object.spec.containers.all(i, c, i == 0 || c.name != object.spec.containers[i - 1].name)", true],
        ["object.spec.containers.transformList(i, c, c.name + ':' + string(i))", ["a:0", "b:1"]],
        [
          "object.spec.containers.transformMapEntry(i, c, {c.name: c.image})",
          { a: "acr.io/a:1", b: "acr.io/b:1" },
        ],
        [
          "object.metadata.labels.transformMap(k, v, k.startsWith('app'), v.upperAscii())",
          { app: "WEB", "app.kubernetes.io/name": "WEB" },
        ],
        [
          "object.spec.containers.exists(i, c, c.ports.exists(j, p, p.containerPort == 8080 && i == 1 && j == 0))",
          true,
        ],
        [
          "cel.bind(names, object.spec.containers.map(c, c.name), names.all(i, n, names.indexOf(n) == i))",
          true,
        ],
      ],
      { object },
    );
  });

  it("absorbs errors like logical and/or, as cel-go's two-variable all/exists do", () => {
    expect(run("[0, 1].exists(i, v, 10 / v == 10)")).toBe(true);
    expect(run("[0, 2].all(i, v, 10 / v == 10)")).toBe(false);
    expect(() => run("[0, 1].all(i, v, 10 / v == 10)")).toThrow(/division by zero/);
    expect(() => run("[0, 1].existsOne(i, v, 10 / v == 10)")).toThrow(/division by zero/);
    expect(() => run("x.all(i, v, v)", { x: [1n] })).toThrow(/must return bool/);
  });

  it("rejects what cel-go rejects at compile time", () => {
    expect(() => engine.compile("[1].all(i.x, v, true)")).toThrow(/argument must be a simple name/);
    expect(() => engine.compile("[1].all(i, i, true)")).toThrow(/iteration variables must differ/);
    expect(() => run("[1].transformList(i, v, 'x', v)")).toThrow(/filter must return bool/);
    expect(() => run("'abc'.all(i, v, true)")).toThrow(/cannot be range of a comprehension/);
  });
});

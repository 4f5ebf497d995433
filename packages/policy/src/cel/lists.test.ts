import { Optional } from "@marcbachmann/cel-js";
import { describe, expect, it } from "vitest";
import { createCelEngine } from "./engine.ts";

const engine = createCelEngine();
const run = (expr: string, vars: Record<string, unknown> = {}) => engine.compile(expr).eval(vars);
const all = (cases: Array<[string, unknown]>, vars: Record<string, unknown> = {}) => {
  for (const [expr, want] of cases) expect(run(expr, vars), expr).toEqual(want);
};

describe("Kubernetes list library", () => {
  it("runs the kubernetes.io examples", () => {
    const vars = {
      names: ["a", "b", "should-be-first"],
      items: [{ weight: 0.25 }, { weight: 0.75 }],
      lowPriorities: [{ priority: 1n }, { priority: 3n }],
      highPriorities: [{ priority: 10n }, { priority: 4n }],
    };
    all(
      [
        ["names.isSorted()", true],
        ["items.map(x, x.weight).sum() == 1.0", true],
        ["lowPriorities.map(x, x.priority).max() < highPriorities.map(x, x.priority).min()", true],
        ["names.indexOf('should-be-first') == 2", true],
      ],
      vars,
    );
  });

  it("runs the library's doc-comment examples", () => {
    all([
      ["[1, 2, 3].isSorted()", true],
      ["['a', 'b', 'b', 'c'].isSorted()", true],
      ["[2.0, 1.0].isSorted()", false],
      ["[1].isSorted()", true],
      ["[].isSorted()", true],
      ["[1, 3].sum()", 4n],
      ["[1.0, 3.0].sum()", 4],
      ["[duration('1m'), duration('1s')].sum() == duration('61s')", true],
      ["[].sum()", 0n],
      ["[1, 3].min()", 1n],
      ["[1, 3].max()", 3n],
      ["[1].min()", 1n],
      ["([0] + []).min()", 0n],
      ["[1, 2, 2, 3].indexOf(2)", 1n],
      ["['a', 'b', 'b', 'c'].lastIndexOf('b')", 2n],
      ["[1.0].indexOf(1.1)", -1n],
      ["[].indexOf('string')", -1n],
      ["['b', 'a'].min()", "a"],
      [
        "[timestamp('2024-01-01T00:00:00Z'), timestamp('2023-01-01T00:00:00Z')].max() == timestamp('2024-01-01T00:00:00Z')",
        true,
      ],
      ["[true, false].min()", false],
      ["[1u, 2u].sum() == 3u", true],
    ]);
    expect(() => run("[].min()")).toThrow("min called on empty list");
    expect(() => run("[].max()")).toThrow("max called on empty list");
    expect(() => run("[9223372036854775807, 1].sum()")).toThrow("integer overflow");
  });

  it("dispatches on the runtime element type for untyped data", () => {
    const vars = { object: { ints: [3n, 1n, 2n], doubles: [0.5, 0.25], empty: [], strs: ["b", "a"] } };
    all(
      [
        ["object.ints.sum()", 6n],
        ["object.doubles.sum()", 0.75],
        ["object.empty.sum()", 0n],
        ["object.ints.min()", 1n],
        ["object.strs.isSorted()", false],
        ["object.ints.indexOf(2)", 2n],
        ["object.strs.lastIndexOf('a')", 1n],
      ],
      vars,
    );
    expect(() => run("object.mixed.sum()", { object: { mixed: [1n, 0.5] } })).toThrow(/no such overload/);
  });
});

describe("cel-go ext.Lists (version 3, Kubernetes 1.34+)", () => {
  it("runs the library's doc-comment examples", () => {
    // Mixed-type list literals do not compile with homogeneous aggregate literals (as in the apiserver), so the
    // nested lists come in as data.
    const data = {
      a: [1n, [2n, 3n], [4n]],
      b: [1n, [2n, [3n, 4n]]],
      c: [1n, 2n, [], [], [3n, 4n]],
      d: [1n, [2n, [3n, [4n]]]],
    };
    all(
      [
        ["a.flatten()", [1n, 2n, 3n, 4n]],
        ["b.flatten()", [1n, 2n, [3n, 4n]]],
        ["c.flatten()", [1n, 2n, 3n, 4n]],
        ["d.flatten(2)", [1n, 2n, 3n, [4n]]],
        ["[[1], [2, 3]].flatten()", [1n, 2n, 3n]],
      ],
      data,
    );
    expect(() => run("d.flatten(-1)", data)).toThrow("level must be non-negative");
    expect(() => run("x.sort()", { x: [1n, "b"] })).toThrow("list elements must have the same type");
    all([
      ["[1, 2, 3, 4].slice(1, 3)", [2n, 3n]],
      ["[1, 2, 3, 4].slice(2, 4)", [3n, 4n]],
      ["[1, 2, 2, 3, 3, 3].distinct()", [1n, 2n, 3n]],
      ["['b', 'b', 'c', 'a', 'c'].distinct()", ["b", "c", "a"]],
      ["lists.range(5)", [0n, 1n, 2n, 3n, 4n]],
      ["lists.range(0)", []],
      ["[5, 3, 1, 2].reverse()", [2n, 1n, 3n, 5n]],
      ["[3, 2, 1].sort()", [1n, 2n, 3n]],
      ["['b', 'c', 'a'].sort()", ["a", "b", "c"]],
    ]);
    const players = [
      { name: "foo", score: 0n },
      { name: "bar", score: -10n },
      { name: "baz", score: 1000n },
    ];
    expect(run("players.sortBy(e, e.score).map(e, e.name)", { players })).toEqual(["bar", "foo", "baz"]);
    expect(() => run("[1, 2, 3].slice(2, 1)")).toThrow(
      "cannot slice(2, 1), start index must be less than or equal to end index",
    );
    expect(() => run("[1, 2, 3].slice(1, 5)")).toThrow("cannot slice(1, 5), list is length 3");
    expect(() => run("[[1, 2, 3]].sort()")).toThrow("list elements must be comparable");
  });
});

describe("cel-go ext.Sets", () => {
  it("runs the library's doc-comment examples", () => {
    const mixed = {
      m1: [1n, 2.0],
      m2: [1.0, 3n],
      m3: [3n, 2.0, 1n],
      m4: [
        [1n, 2n],
        [2n, 3.0],
      ],
    };
    all(
      [
        ["sets.contains([], [])", true],
        ["sets.contains([], [1])", false],
        ["sets.contains([1, 2, 3, 4], [2, 3])", true],
        ["sets.contains(m1, m2)", false],
        ["sets.contains([1, 2, 3], m3)", true],
        ["sets.equivalent([], [])", true],
        ["sets.equivalent([1], [1, 1])", true],
        ["sets.equivalent([1, 2, 3], m3)", true],
        ["sets.intersects([1], [])", false],
        ["sets.intersects([1], [1, 2])", true],
        ["sets.intersects([[1], [2, 3]], m4)", true],
        ["sets.intersects(['a'], ['b'])", false],
      ],
      mixed,
    );
  });
});

describe("optional helpers", () => {
  it("has optional.of/none, hasValue, value, or, orValue and the cel-go additions", () => {
    all([
      ["optional.of(1).hasValue()", true],
      ["optional.none().hasValue()", false],
      ["optional.of(1).value()", 1n],
      ["optional.none().or(optional.of(2)).value()", 2n],
      ["optional.none().orValue(3)", 3n],
      ["{'a': 1}.?b.orValue(0)", 0n],
      ["optional.ofNonZeroValue(0).hasValue()", false],
      ["optional.ofNonZeroValue('') == optional.none()", true],
      ["optional.ofNonZeroValue([1]).value()", [1n]],
      ["optional.of(2).optMap(x, x * 2).value()", 4n],
      ["optional.none().optMap(x, x * 2).hasValue()", false],
      ["{'a': {'b': 1}}.?a.optFlatMap(x, x.?b).value()", 1n],
      ["{'a': {}}.?a.optFlatMap(x, x.?b).hasValue()", false],
      ["[].first().hasValue()", false],
      ["[1, 2, 3].first().value()", 1n],
      ["[1, 2, 3].last().value()", 3n],
      ["optional.unwrap([optional.of(42), optional.none()])", [42n]],
      ["[optional.of(42), optional.none()].unwrapOpt()", [42n]],
    ]);
    expect(run("optional.none()")).toBe(Optional.none());
  });
});

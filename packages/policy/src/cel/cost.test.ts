import { describe, expect, it } from "vitest";
import {
  CelCostLimitError,
  createCelEngine,
  createCostBudget,
  PER_CALL_LIMIT,
  RUNTIME_CEL_COST_BUDGET,
} from "./engine.ts";

const engine = createCelEngine();
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ n: BigInt(i), name: `item-${i}` }));

describe("runtime cost limits", () => {
  it("uses the apiserver's limits", () => {
    expect(PER_CALL_LIMIT).toBe(1_000_000);
    expect(RUNTIME_CEL_COST_BUDGET).toBe(10_000_000);
  });

  it("charges loop bodies once per iteration, so nested loops multiply", () => {
    const one = engine.compile("object.items.all(a, a.n >= 0)");
    const nested = engine.compile("object.items.all(a, object.items.all(b, a.n >= 0))");
    const c10 = one.evalWithCost({ object: { items: items(10) } }).cost;
    const c100 = one.evalWithCost({ object: { items: items(100) } }).cost;
    expect(c100).toBeGreaterThan(9 * c10);
    const n10 = nested.evalWithCost({ object: { items: items(10) } }).cost;
    const n20 = nested.evalWithCost({ object: { items: items(20) } }).cost;
    expect(n20).toBeGreaterThan(3.5 * n10);
    // Every comprehension form is counted, including the engine's own macros and the two-variable ones.
    for (const expr of [
      "object.items.map(a, a.n)",
      "object.items.filter(a, a.n > 0)",
      "object.items.exists(a, a.n < 0)",
      "object.items.exists_one(a, a.n == 0)",
      "object.items.all(i, a, a.n >= i)",
      "object.items.transformList(i, a, a.n)",
      "object.items.sortBy(a, -a.n)",
    ]) {
      const p = engine.compile(expr);
      expect(p.evalWithCost({ object: { items: items(200) } }).cost, expr).toBeGreaterThan(200);
    }
  });

  it("charges regex and string functions by size", () => {
    const p = engine.compile("s.matches('^[a-z]+$')");
    const short = p.evalWithCost({ s: "a" }).cost;
    const long = p.evalWithCost({ s: "a".repeat(10_000) }).cost;
    expect(long).toBeGreaterThan(1000 + short);
  });

  it("aborts a huge nested comprehension with 'running out of cost budget'", () => {
    const object = { items: items(2000) };
    const p = engine.compile("object.items.all(a, object.items.all(b, a.n != b.n || a.name == b.name))");
    const started = performance.now();
    expect(() => p.eval({ object })).toThrow(/running out of cost budget/);
    expect(performance.now() - started).toBeLessThan(2000);
    try {
      p.eval({ object });
    } catch (err) {
      expect(err).toBeInstanceOf(CelCostLimitError);
      expect((err as CelCostLimitError).scope).toBe("expression");
      expect((err as CelCostLimitError).cost).toBeGreaterThan(PER_CALL_LIMIT);
    }
    // Two-variable comprehensions are bounded the same way.
    expect(() =>
      engine.compile("object.items.all(i, a, object.items.all(j, b, i == j || a != b))").eval({ object }),
    ).toThrow(/running out of cost budget/);
  });

  it("cannot be absorbed by ||, && or exists", () => {
    const object = { items: items(2000) };
    for (const expr of [
      "object.items.exists(a, object.items.exists(b, a.n < 0)) || true",
      "false && object.items.all(a, object.items.all(b, true)) || object.items.all(a, object.items.all(b, true)) || true",
      "[1, 2].exists(x, x == 2 || object.items.all(a, object.items.all(b, true)))",
      "[1, 2].exists(x, object.items.all(a, object.items.all(b, true)) || x == 2)",
    ]) {
      expect(() => engine.compile(expr).eval({ object }), expr).toThrow(/running out of cost budget/);
    }
  });

  it("shares a runtime budget across the expressions of one evaluation", () => {
    const budget = createCostBudget(5_000);
    const p = engine.compile("object.items.all(a, a.n >= 0)");
    const object = { items: items(500) };
    const first = p.evalWithCost({ object }, { budget });
    expect(first.value).toBe(true);
    expect(budget.used).toBe(first.cost);
    let error: unknown;
    for (let i = 0; i < 10 && !error; i++) {
      try {
        p.eval({ object }, { budget });
      } catch (err) {
        error = err;
      }
    }
    expect(error).toBeInstanceOf(CelCostLimitError);
    expect((error as CelCostLimitError).scope).toBe("budget");
    expect((error as Error).message).toMatch(
      /running out of cost budget, no further validation rules will be run/,
    );
    // Once exhausted, every further expression of the evaluation is refused.
    expect(() => engine.compile("true").eval({}, { budget })).toThrow(/running out of cost budget/);
  });

  it("honours a custom per-call limit and leaves ordinary expressions alone", () => {
    const p = engine.compile("object.items.all(a, a.n >= 0)");
    expect(() => p.eval({ object: { items: items(100) } }, { perCallLimit: 50 })).toThrow(
      /per-call limit of 50/,
    );
    expect(p.eval({ object: { items: items(100) } })).toBe(true);
    expect(engine.compile("1 + 1").evalWithCost({}).cost).toBeLessThan(5);
  });
});

// Runtime cost limits for CEL, approximating the apiserver's (k8s.io/apiserver/pkg/apis/cel/config.go).
// cel-js tracks no cost, so the engine counts what makes an expression expensive:
//   - once per evaluation, the expression's nodes outside loop bodies (literals 0, list literals 10, map
//     literals 30, every other node 1 — cel-go's base costs);
//   - once per comprehension iteration (all/exists/exists_one/map/filter and the two-variable forms), the
//     nodes of the loop body, so nested loops multiply as they do in cel-go;
//   - inside library functions, cel-go's/Kubernetes' size-based call costs (regex, quantity, IP/CIDR, URL,
//     list and string functions; see each library).
// Not counted by size: built-in string/list operators the engine implements itself (`+`, `in`, `size`,
// `contains`, `startsWith`, `endsWith`, `split`, `join`, equality of big lists/maps) — each costs 1 as a node.
// Once a limit is exceeded the evaluation aborts and stays aborted: the error cannot be absorbed by `||`,
// `&&`, `exists` or `all`, as cel-go cancels the whole evaluation.

/** cel-go `PerCallLimit`: the cost one expression may use in one evaluation. */
export const PER_CALL_LIMIT = 1_000_000;
/** `RuntimeCELCostBudget`: the cost all expressions of one (policy, binding, param) evaluation may use. */
export const RUNTIME_CEL_COST_BUDGET = 10_000_000;
/** `RuntimeCELCostBudgetMatchConditions`: the budget shared by a policy's matchConditions. */
export const RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS = 2_500_000;

/** A budget shared by several evaluations (e.g. every expression of one policy evaluation). */
export interface CelCostBudget {
  readonly limit: number;
  used: number;
}

/** Creates a shared runtime budget; pass it to every `eval` of one (policy, binding, param) evaluation. */
export function createCostBudget(limit: number = RUNTIME_CEL_COST_BUDGET): CelCostBudget {
  return { limit, used: 0 };
}

/** Thrown when an evaluation exceeds its per-call limit or its shared budget; callers apply failurePolicy. */
export class CelCostLimitError extends Error {
  readonly scope: "expression" | "budget";
  readonly limit: number;
  readonly cost: number;
  constructor(scope: "expression" | "budget", limit: number, cost: number) {
    super(
      scope === "expression"
        ? `operation cancelled: actual cost limit exceeded (running out of cost budget: the expression's cost exceeded the per-call limit of ${limit})`
        : `running out of cost budget, no further validation rules will be run (the runtime cost budget of ${limit} is exhausted)`,
    );
    this.name = "CelCostLimitError";
    this.scope = scope;
    this.limit = limit;
    this.cost = cost;
  }
}

/** The cost state of one evaluation in progress. */
export interface CostFrame {
  used: number;
  limit: number;
  budget: CelCostBudget | undefined;
  error: CelCostLimitError | undefined;
}

/**
 * Counts the cost of the evaluation in progress. One meter belongs to one engine; evaluations are synchronous,
 * so a stack of frames (nested for lazily evaluated variables) identifies the current one. Frames are reused:
 * a frame's fields are valid until its exit().
 */
export class CostMeter {
  readonly #frames: CostFrame[] = [];
  #depth = 0;
  #top: CostFrame | undefined;

  /** Adds `n` to the current evaluation's cost; throws once a limit is exceeded (and on every later charge). */
  charge(n: number): void {
    const f = this.#top;
    if (!f) return;
    if (f.error) throw f.error;
    if (n <= 0) return;
    f.used += n;
    if (f.used > f.limit) throw this.#trip(f, new CelCostLimitError("expression", f.limit, f.used));
    const b = f.budget;
    if (b) {
      b.used += n;
      if (b.used > b.limit) throw this.#trip(f, new CelCostLimitError("budget", b.limit, b.used));
    }
  }

  /** Starts an evaluation under a per-call limit and an optional shared budget; pair with exit(). */
  enter(limit: number, budget: CelCostBudget | undefined): CostFrame {
    let frame = this.#frames[this.#depth];
    if (!frame) {
      frame = { used: 0, limit, budget, error: undefined };
      this.#frames.push(frame);
    } else {
      frame.used = 0;
      frame.limit = limit;
      frame.budget = budget;
      frame.error = undefined;
    }
    if (budget && budget.used > budget.limit)
      frame.error = new CelCostLimitError("budget", budget.limit, budget.used);
    this.#depth++;
    this.#top = frame;
    return frame;
  }

  /** Ends the innermost evaluation (the one the matching enter() started). */
  exit(): void {
    if (this.#depth > 0) this.#depth--;
    this.#top = this.#depth > 0 ? this.#frames[this.#depth - 1] : undefined;
  }

  /** Runs one evaluation; returns its value and cost. A limit error wins over any error it caused. */
  measure<T>(limit: number, budget: CelCostBudget | undefined, run: () => T): { value: T; cost: number } {
    const frame = this.enter(limit, budget);
    try {
      const value = run();
      if (frame.error) throw frame.error;
      return { value, cost: frame.used };
    } catch (err) {
      throw frame.error ?? err;
    } finally {
      this.exit();
    }
  }

  #trip(f: CostFrame, error: CelCostLimitError): CelCostLimitError {
    f.error = error;
    // An exhausted shared budget also ends every enclosing evaluation that draws on it.
    if (error.scope === "budget") {
      for (let i = 0; i < this.#depth; i++) {
        const o = this.#frames[i]!;
        if (o.budget === f.budget) o.error ??= error;
      }
    }
    return error;
  }
}

/** cel-go's `common.StringTraversalCostFactor`. */
export const STRING_TRAVERSAL_COST_FACTOR = 0.1;
/** cel-go's `common.RegexStringLengthCostFactor`. */
export const REGEX_STRING_LENGTH_COST_FACTOR = 0.25;

/** Cost of traversing a string of `size` characters once. */
export function stringCost(size: number, factor = 1): number {
  return Math.ceil(size * STRING_TRAVERSAL_COST_FACTOR * factor);
}

/** Kubernetes' `traversalCost`: strings cost a tenth of their size, list and map entries 1 each plus their content. */
export function traversalCost(v: unknown): number {
  if (typeof v === "string") return Math.floor(v.length * STRING_TRAVERSAL_COST_FACTOR);
  if (v instanceof Uint8Array) return Math.floor(v.length * STRING_TRAVERSAL_COST_FACTOR);
  if (Array.isArray(v)) {
    let c = 0;
    for (const x of v) c += traversalCost(x);
    return c;
  }
  if (v instanceof Set) {
    let c = 0;
    for (const x of v) c += traversalCost(x);
    return c;
  }
  if (v instanceof Map) {
    let c = 0;
    for (const [k, x] of v) c += traversalCost(k) + traversalCost(x);
    return c;
  }
  if (v && typeof v === "object" && (v.constructor === Object || v.constructor === undefined)) {
    let c = 0;
    for (const [k, x] of Object.entries(v)) c += traversalCost(k) + traversalCost(x);
    return c;
  }
  return 1;
}

// ---------------------------------------------------------------------------------------------------------
// AST instrumentation. cel-js exposes its parsed AST (`parse(...).ast`): nodes have `op`, `args` and a `meta`
// holding a macro's expansion (`alternate`, for the built-in comprehensions) or a custom macro object. The walk
// relies on that shape of @marcbachmann/cel-js 8.0.0 (pinned); engine.test.ts checks that loops are counted.

interface CelNodeMeta {
  alternate?: CelNode;
  macro?: Record<string | symbol, unknown>;
  evaluate: (this: CelNode, ev: unknown, ast: CelNode, ctx: unknown) => unknown;
}

interface CelNode {
  op: string;
  args: unknown;
  readonly meta: CelNodeMeta;
  evaluate: (ev: unknown, ast: CelNode, ctx: unknown) => unknown;
}

/** Marks a custom macro object whose body runs once per iteration; the walk stores the body's cost on it. */
export const LOOP_MACRO: unique symbol = Symbol("cel.loopMacro");

/** A custom macro that loops: `bodies` are its per-iteration expressions, `iterationCost` is filled in. */
export interface LoopMacro {
  [LOOP_MACRO]: true;
  receiver: unknown;
  bodies: unknown[];
  iterationCost: number;
}

const NODE_COST: Record<string, number> = { value: 0, list: 10, map: 30, accuValue: 0, accuInc: 0 };

function isNode(x: unknown): x is CelNode {
  return !!x && typeof x === "object" && typeof (x as { op?: unknown }).op === "string" && "meta" in x;
}

/**
 * Installs per-iteration charging on every comprehension body of a parsed expression and returns the cost
 * of its nodes outside loops, to be charged once per evaluation.
 */
export function instrumentCost(root: unknown, meter: CostMeter): number {
  const seen = new Set<object>();

  const walkAny = (x: unknown): number => {
    if (isNode(x)) return walk(x);
    if (Array.isArray(x)) {
      let c = 0;
      for (const y of x) c += walkAny(y);
      return c;
    }
    return 0;
  };

  const walk = (node: CelNode): number => {
    if (seen.has(node)) return 0;
    seen.add(node);
    const meta = node.meta;
    if (meta.alternate) return walk(meta.alternate);
    if (meta.macro) return walkMacro(meta.macro);
    if (node.op === "comprehension") {
      const a = node.args as { iterable: unknown; init: unknown; step: unknown };
      const cost = 1 + walkAny(a.iterable) + walkAny(a.init);
      if (isNode(a.step)) chargePerIteration(a.step, Math.max(1, walk(a.step)), meter);
      return cost;
    }
    return (NODE_COST[node.op] ?? 1) + walkAny(node.args);
  };

  const walkMacro = (macro: Record<string | symbol, unknown>): number => {
    if (seen.has(macro)) return 0;
    seen.add(macro);
    if (macro[LOOP_MACRO]) {
      const m = macro as unknown as LoopMacro;
      m.iterationCost = Math.max(1, walkAny(m.bodies));
      return 1 + walkAny(m.receiver);
    }
    let cost = 1;
    for (const [k, v] of Object.entries(macro)) if (k !== "ast") cost += walkAny(v);
    return cost;
  };

  return walkAny(root);
}

type Evaluate = (ev: unknown, ast: CelNode, ctx: unknown) => unknown;

function chargePerIteration(step: CelNode, cost: number, meter: CostMeter): void {
  // Resolves the node's evaluation as ASTNode.prototype.evaluate does (alternate, then macro, then the
  // operator) on the first call — after the type check that may replace it — and charges on every call.
  let target: Evaluate | undefined;
  step.evaluate = (ev, ast, ctx) => {
    meter.charge(cost);
    if (!target) {
      const m = step.meta;
      const alt = m.alternate;
      const macro = m.macro as { evaluate: (e: unknown, mm: unknown, c: unknown) => unknown } | undefined;
      const op = m.evaluate;
      target = alt
        ? (e, _a, c) => alt.evaluate(e, alt, c)
        : macro
          ? (e, _a, c) => macro.evaluate(e, macro, c)
          : (e, a, c) => op.call(step, e, a, c);
    }
    return target(ev, ast, ctx);
  };
}

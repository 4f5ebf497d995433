import { PlatformError } from "@platform/core/errors";
import {
  type CelEngine,
  type CelProgram,
  createCostBudget,
  RUNTIME_CEL_COST_BUDGET,
  RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS,
} from "../cel/engine.ts";

/** The CEL parts every admission-policy format shares (VAP, Gatekeeper K8sNativeValidation, Kyverno). */
export interface ValidationSource {
  matchConditions?: Array<{ name: string; expression: string }>;
  variables?: Array<{ name: string; expression: string }>;
  validations?: Array<{ expression: string; message?: string; messageExpression?: string; reason?: string }>;
}

export type ValidationOutcome =
  | { kind: "skipped"; reason: string }
  | { kind: "evaluated"; failures: Array<{ message: string; reason?: string; error: boolean }> };

export interface CompiledValidation {
  /** Evaluates with the activation (object, oldObject, request, params, namespaceObject…); variables are lazy. */
  run(activation: Record<string, unknown>): ValidationOutcome;
}

const MAX_MESSAGE_BYTES = 5 * 1024;

/**
 * Compiles the shared CEL parts once. Semantics follow the apiserver: all matchConditions must be true for
 * the policy to apply (an error counts as a failure, per failurePolicy, reported as `error`); variables
 * are evaluated on first use and cached for this activation; a failing validation's message is its
 * messageExpression's result when that is a non-empty single line, else `message`, else the expression.
 */
export function compileValidation(
  src: ValidationSource,
  engine: CelEngine,
  where: { policy: string; file?: string; line?: number },
): CompiledValidation {
  const compile = (expr: unknown, field: string): CelProgram => {
    if (typeof expr !== "string" || expr.trim() === "") {
      throw new PlatformError(
        "POLICY_INVALID",
        `${where.policy}: ${field} must be a non-empty CEL expression`,
        { file: where.file, line: where.line, hint: "Fix the policy document." },
      );
    }
    return engine.compile(expr, { policy: where.policy, field, file: where.file, line: where.line });
  };
  const conditions = (src.matchConditions ?? []).map((c, i) => ({
    name: c.name,
    source: c.expression,
    program: compile(c.expression, `matchConditions[${i}]`),
  }));
  const variables = (src.variables ?? []).map((v, i) => ({
    name: v.name,
    program: compile(v.expression, `variables[${i}]`),
  }));
  const validations = (src.validations ?? []).map((v, i) => ({
    program: compile(v.expression, `validations[${i}].expression`),
    message: v.message,
    messageExpression: v.messageExpression
      ? compile(v.messageExpression, `validations[${i}].messageExpression`)
      : undefined,
    reason: v.reason,
    source: v.expression,
  }));

  const makeVariables = lazyObjectFactory(variables.map((v) => v.name));
  return {
    run(activation) {
      // The apiserver's budgets: one for the matchConditions, one shared by the rest of this evaluation.
      const conditionBudget = { budget: createCostBudget(RUNTIME_CEL_COST_BUDGET_MATCH_CONDITIONS) };
      const budget = { budget: createCostBudget(RUNTIME_CEL_COST_BUDGET) };
      const cache: Array<{ value?: unknown; error?: unknown } | undefined> = new Array(variables.length);
      const ctx: Record<string, unknown> = { ...activation };
      ctx.variables = makeVariables((i) => {
        let c = cache[i];
        if (!c) {
          try {
            c = { value: variables[i]!.program.eval(ctx, budget) };
          } catch (error) {
            // cel-go's composition library wraps a variable's error so the referencing expression names it.
            c = {
              error: new Error(
                `composited variable "${variables[i]!.name}" fails to evaluate: ${celErrorText(error)}`,
              ),
            };
          }
          cache[i] = c;
        }
        if (c.error) throw c.error;
        return c.value;
      });
      // As the apiserver's matcher: every condition is evaluated; any false one skips the policy, even when
      // another failed; otherwise the errors (aggregated as utilerrors.NewAggregate prints them) decide.
      const conditionErrors: string[] = [];
      for (const c of conditions) {
        let ok: unknown;
        try {
          ok = c.program.eval(ctx, conditionBudget);
        } catch (err) {
          conditionErrors.push(`expression '${c.source}' resulted in error: ${celErrorText(err)}`);
          continue;
        }
        if (ok === false) return { kind: "skipped", reason: `matchCondition "${c.name}" is false` };
        if (ok !== true) conditionErrors.push(`expression '${c.source}' returned ${String(ok)}, not a bool`);
      }
      if (conditionErrors.length)
        return {
          kind: "evaluated",
          failures: [
            {
              message: conditionErrors.length === 1 ? conditionErrors[0]! : `[${conditionErrors.join(", ")}]`,
              error: true,
            },
          ],
        };
      const failures: Array<{ message: string; reason?: string; error: boolean }> = [];
      for (const v of validations) {
        let ok: unknown;
        try {
          ok = v.program.eval(ctx, budget);
        } catch (err) {
          // The apiserver quotes the expression as written (activation.go), untrimmed.
          failures.push({
            message: `expression '${v.source}' resulted in error: ${celErrorText(err)}`,
            error: true,
          });
          continue;
        }
        if (ok === true) continue;
        if (ok !== false) {
          failures.push({
            message: `expression '${v.source}' returned ${String(ok)}, not a bool`,
            error: true,
          });
          continue;
        }
        // validator.go: the messageExpression's result trimmed, unless it failed, is not a string, is empty,
        // is longer than 5 KiB or spans lines; then the static message trimmed; then the expression.
        let message = "";
        if (v.messageExpression) {
          try {
            const m = v.messageExpression.eval(ctx, budget);
            if (typeof m === "string") {
              const t = m.trim();
              if (Buffer.byteLength(t) <= MAX_MESSAGE_BYTES && !t.includes("\n")) message = t;
            }
          } catch {
            // As the apiserver does: a failing messageExpression keeps the static message; the verdict stands.
          }
        }
        if (message === "" && v.message?.trim()) message = v.message.trim();
        if (message === "") message = `failed expression: ${v.source.trim()}`;
        failures.push({ message, reason: v.reason, error: false });
      }
      return { kind: "evaluated", failures };
    },
  };
}

/**
 * A factory for the `variables` object: a plain object literal whose getters evaluate on first use. Built
 * as one literal per policy (instead of defineProperty per evaluation, which leaves V8 a slow dictionary
 * object and cost a third of the evaluation time at 10,000 objects); CEL only reads plain objects.
 * Names are CEL identifiers, checked before they become property keys.
 */
function lazyObjectFactory(names: string[]): (get: (i: number) => unknown) => Record<string, unknown> {
  const key = JSON.stringify(names);
  let factory = factories.get(key);
  if (!factory) {
    factory = newLazyObjectFactory(names);
    if (factories.size > 1_000) factories.clear();
    factories.set(key, factory);
  }
  return factory;
}

/** Factories by variable names (templates share their names' prefix; each new Function is a compile). */
const factories = new Map<string, (get: (i: number) => unknown) => Record<string, unknown>>();

function newLazyObjectFactory(names: string[]): (get: (i: number) => unknown) => Record<string, unknown> {
  for (const n of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
      throw new PlatformError("POLICY_INVALID", `variable name "${n}" is not a CEL identifier`, {
        hint: "Rename the variable.",
      });
  }
  const body = `return { ${names.map((n, i) => `get ${JSON.stringify(n)}() { return get(${i}); }`).join(", ")} };`;
  return new Function("get", body) as (get: (i: number) => unknown) => Record<string, unknown>;
}

/** An evaluation error as cel-go words it (the apiserver puts that text into the denial). */
export function celErrorText(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
  return text.replace(/^No such key: /, "no such key: ");
}

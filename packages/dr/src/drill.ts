import { readFile } from "node:fs/promises";
import {
  type ErrorCategory,
  errorMessage,
  type Logger,
  PlatformError,
  writeFileAtomic,
} from "@platform/core";
import type { ArmClient } from "./arm.ts";
import { runLro } from "./lro.ts";
import type { ArmCall, DrillPlan, StepId } from "./plan.ts";
import { type Observation, runnerFor, type StepContext } from "./steps.ts";

/** One try at a step. `interrupted`: the run died during it (crash, cancelled job); it lasted until the last heartbeat. */
export interface Attempt {
  startedAt: string;
  endedAt: string;
  seconds: number;
  outcome: "succeeded" | "already-done" | "failed" | "interrupted";
  reason?: string;
}

/** What a re-run needs to continue where a run stopped. */
export interface DrillState {
  schema: "platform.dr/drill-state@1";
  /** Fingerprint of the plan (a state of another topology is not resumed). */
  plan: string;
  startedAt: string;
  /** Written on every poll: an interrupted attempt counts until here. */
  heartbeatAt: string;
  attempts: Partial<Record<StepId, Attempt[]>>;
  completed: StepId[];
  /** The step that was running, and the long-running operation it had in flight. */
  current?: { step: StepId; startedAt: string; lro?: { path: string; poller: string } };
}

export interface StateStore {
  load(): Promise<DrillState | undefined>;
  save(state: DrillState): Promise<void>;
}

/** The drill state in a JSON file, written atomically on every change and heartbeat. */
export function fileStateStore(path: string): StateStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new PlatformError(
          "DR_STATE_UNREADABLE",
          `cannot read the drill state ${path}: ${errorMessage(err)}`,
          {
            input: "state",
            cause: err,
          },
        );
      }
      try {
        const s = JSON.parse(text) as DrillState;
        if (s.schema === "platform.dr/drill-state@1") return s;
      } catch {
        // fall through: a state file we cannot read must not be silently replaced
      }
      throw new PlatformError(
        "DR_STATE_INVALID",
        `${path} is not a drill state file (platform.dr/drill-state@1)`,
        {
          input: "state",
          file: path,
          hint: "Pass the state file of an earlier `platform dr drill --apply`, or remove it to start a new drill.",
        },
      );
    },
    save: (s) => writeFileAtomic(path, `${JSON.stringify(s, null, 2)}\n`, { input: "state" }),
  };
}

export interface StepReport {
  id: StepId;
  title: string;
  budgetSeconds: number;
  /** Time spent in the step over all attempts (interrupted ones until their last heartbeat). */
  seconds: number;
  verdict: "ok" | "over-budget" | "failed" | "not-run";
  attempts: Attempt[];
  /** What ARM showed at the end of the step. */
  detail?: string;
  reason?: string;
}

export interface DrillResult {
  schema: "platform.dr/drill-result@1";
  status: "succeeded" | "failed";
  resumed: boolean;
  from: string;
  to: string;
  startedAt: string;
  endedAt: string;
  /** Sum of the steps' measured times. */
  seconds: number;
  /** Wall clock from the first start to the end (includes the time between an interrupted run and its re-run). */
  elapsedSeconds: number;
  budgetSeconds: number;
  steps: StepReport[];
  /** The step that failed the drill; `category` tells a verdict (the failover did not make it) from an error. */
  failed?: { step: StepId; code: string; reason: string; hint?: string; category: ErrorCategory };
}

export interface DrillDeps {
  arm: ArmClient;
  state: StateStore;
  log?: Logger;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Aborting it stops the run at once, as a crash would (nothing more is written). */
  signal?: AbortSignal;
  /** Poll interval override (ms); the plan's pollInterval otherwise. */
  pollMs?: number;
  onStep?: (step: StepId, phase: "started" | "resumed" | "done" | "failed", detail: string) => void;
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });

const iso = (ms: number) => new Date(ms).toISOString();
const secondsBetween = (a: string, b: string) => Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000);

/** Interruptions (the caller's signal) are rethrown untouched; they are not a step failure. */
class Interrupted extends Error {}

/**
 * Runs the failover plan through ARM, step by step, timing each against its budget. Every step first reads
 * ARM: what is already in place is not repeated (a re-run after a failure or crash resumes where it
 * stopped, and an operation left in flight is polled to its end). A failed step stops the drill; a step
 * that finished past its budget fails the drill too, but the failover goes on.
 */
export async function runDrill(plan: DrillPlan, deps: DrillDeps): Promise<DrillResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const pollMs = deps.pollMs ?? plan.pollIntervalSeconds * 1000;
  const log = deps.log;
  const outer = deps.signal ?? new AbortController().signal;

  let state = await deps.state.load();
  if (state && state.plan !== plan.fingerprint) {
    throw new PlatformError(
      "DR_STATE_OTHER_PLAN",
      `the state file belongs to another drill (plan ${state.plan}, this one is ${plan.fingerprint})`,
      {
        input: "state",
        hint: "platform.yaml dr changed since that run: finish or discard it (remove the state file) before a new drill.",
      },
    );
  }
  const resumed = state !== undefined;
  const st: DrillState = state ?? {
    schema: "platform.dr/drill-state@1",
    plan: plan.fingerprint,
    startedAt: iso(now()),
    heartbeatAt: iso(now()),
    attempts: {},
    completed: [],
  };
  state = st;
  // Saves go out one after the other, each with the state as it was when it was asked for: a heartbeat from
  // a poll must not land after (and undo) the save that closed the step.
  let writing: Promise<void> = Promise.resolve();
  const save = async () => {
    if (outer.aborted) throw new Interrupted();
    st.heartbeatAt = iso(now());
    const snapshot = structuredClone(st);
    const next = writing.then(() => deps.state.save(snapshot));
    writing = next.catch(() => {});
    await next;
  };
  const record = (step: StepId, a: Attempt) => {
    st.attempts[step] = [...(st.attempts[step] ?? []), a];
  };

  // A run that died mid-step: its attempt lasted until the last heartbeat, and the operation it had in
  // flight is polled to its end rather than sent again.
  const interrupted = st.current;
  if (st.current) {
    record(st.current.step, {
      startedAt: st.current.startedAt,
      endedAt: st.heartbeatAt,
      seconds: secondsBetween(st.current.startedAt, st.heartbeatAt),
      outcome: "interrupted",
      reason: "the run stopped during this step (crash or cancelled job)",
    });
    log?.info(`resuming: ${st.current.step} was interrupted at ${st.heartbeatAt}`);
  }

  const details: Partial<Record<StepId, string>> = {};
  let failed: DrillResult["failed"];
  try {
    for (const step of plan.steps) {
      const runner = runnerFor(plan, step);
      const inFlight = interrupted?.step === step.id ? interrupted.lro : undefined;
      const startedAt = now();
      st.current = { step: step.id, startedAt: iso(startedAt), ...(inFlight ? { lro: inFlight } : {}) };
      await save();
      const deadline = startedAt + step.budgetSeconds * 1000;
      const timer = new AbortController();
      // A second's grace: waits end on their own at the deadline, with what ARM showed last; the timer
      // stops what cannot (a long-running operation still in flight).
      const t = setTimeout(() => timer.abort(new Error("deadline")), Math.max(0, deadline - now()) + 1000);
      const signal = AbortSignal.any([outer, timer.signal]);
      const patch = async (call: ArmCall) => {
        const restore = st.current?.lro?.path === call.path ? st.current.lro.poller : undefined;
        log?.info(`${step.id}: ${restore ? "resuming" : "PATCH"} ${call.path}`);
        await runLro(
          deps.arm,
          {
            path: call.path,
            apiVersion: call.apiVersion,
            body: call.body,
            what: `${step.id}: ${call.purpose}`,
          },
          {
            intervalMs: pollMs,
            signal,
            ...(restore ? { restoreFrom: restore } : {}),
            onSubmitted: async (poller) => {
              st.current = { step: step.id, startedAt: iso(startedAt), lro: { path: call.path, poller } };
              await save();
            },
            onPoll: save,
          },
        );
        if (st.current) delete st.current.lro;
        await save();
      };
      const ctx: StepContext = {
        arm: deps.arm,
        plan,
        signal,
        now,
        deadline,
        since: Date.parse(st.startedAt),
        pollMs,
        sleep,
        heartbeat: save,
        patch,
      };
      let outcome: Attempt["outcome"] = "succeeded";
      let obs: Observation;
      try {
        deps.onStep?.(step.id, inFlight ? "resumed" : "started", step.title);
        // ARM decides whether the step is done, also for steps an earlier run completed.
        obs = await runner.observe(ctx);
        if (obs.done && !inFlight) outcome = "already-done";
        else {
          await runner.act(ctx);
          obs = await runner.observe(ctx);
          if (!obs.done)
            throw new PlatformError(
              "DR_STEP_NOT_DONE",
              `${step.id}: ARM does not show the step done: ${obs.detail}`,
              {
                category: "verdict",
                hint: "Another change may have raced the drill; inspect the resources named and re-run.",
              },
            );
        }
      } catch (err) {
        clearTimeout(t);
        if (outer.aborted || err instanceof Interrupted) throw new Interrupted();
        const e =
          timer.signal.aborted && !(err instanceof PlatformError && err.code === "DR_STEP_DEADLINE")
            ? new PlatformError(
                "DR_STEP_DEADLINE",
                `${step.id} did not finish within its budget of ${step.budgetSeconds}s (an ARM operation was still running)`,
                {
                  category: "verdict",
                  hint: "Re-run the drill to let it finish (it resumes the operation); raise dr.rto if the budget is unrealistic.",
                },
              )
            : err instanceof PlatformError
              ? err
              : new PlatformError("DR_STEP_ERROR", `${step.id}: ${errorMessage(err)}`, {
                  category: "environment",
                  cause: err,
                });
        const end = now();
        record(step.id, {
          startedAt: iso(startedAt),
          endedAt: iso(end),
          seconds: (end - startedAt) / 1000,
          outcome: "failed",
          reason: e.message,
        });
        delete st.current;
        await save();
        deps.onStep?.(step.id, "failed", e.message);
        failed = {
          step: step.id,
          code: e.code,
          reason: e.message,
          category: e.category,
          ...(e.hint ? { hint: e.hint } : {}),
        };
        break;
      }
      clearTimeout(t);
      const end = now();
      details[step.id] = obs.detail;
      record(step.id, {
        startedAt: iso(startedAt),
        endedAt: iso(end),
        seconds: (end - startedAt) / 1000,
        outcome,
        reason: outcome === "already-done" ? `already in place: ${obs.detail}` : undefined,
      });
      if (!st.completed.includes(step.id)) st.completed.push(step.id);
      delete st.current;
      await save();
      deps.onStep?.(step.id, "done", obs.detail);
    }
  } catch (err) {
    if (err instanceof Interrupted) {
      throw new PlatformError(
        "DR_INTERRUPTED",
        "the drill was interrupted; re-run it with the same state file to resume",
        {
          category: "environment",
          cause: err,
        },
      );
    }
    throw err;
  }
  return result(plan, st, resumed, iso(now()), details, failed);
}

function result(
  plan: DrillPlan,
  st: DrillState,
  resumed: boolean,
  endedAt: string,
  details: Partial<Record<StepId, string>>,
  failed: DrillResult["failed"],
): DrillResult {
  const steps: StepReport[] = plan.steps.map((s) => {
    const attempts = st.attempts[s.id] ?? [];
    const seconds = attempts.reduce((n, a) => n + a.seconds, 0);
    const last = attempts.at(-1);
    const verdict: StepReport["verdict"] = !last
      ? "not-run"
      : last.outcome === "failed" || last.outcome === "interrupted"
        ? "failed"
        : seconds > s.budgetSeconds
          ? "over-budget"
          : "ok";
    return {
      id: s.id,
      title: s.title,
      budgetSeconds: s.budgetSeconds,
      seconds,
      verdict,
      attempts,
      ...(details[s.id] ? { detail: details[s.id] } : {}),
      ...(verdict === "failed"
        ? { reason: last?.reason }
        : verdict === "over-budget"
          ? {
              reason: `took ${seconds.toFixed(1)}s over ${attempts.length} attempt(s), budget ${s.budgetSeconds}s`,
            }
          : {}),
    };
  });
  const overBudget = steps.find((s) => s.verdict === "over-budget");
  const ok = !failed && steps.every((s) => s.verdict === "ok");
  return {
    schema: "platform.dr/drill-result@1",
    status: ok ? "succeeded" : "failed",
    resumed,
    from: plan.from.region,
    to: plan.to.region,
    startedAt: st.startedAt,
    endedAt,
    seconds: steps.reduce((n, s) => n + s.seconds, 0),
    elapsedSeconds: secondsBetween(st.startedAt, endedAt),
    budgetSeconds: plan.budgetSeconds,
    steps,
    ...(failed
      ? { failed }
      : overBudget
        ? {
            failed: {
              step: overBudget.id,
              code: "DR_STEP_OVER_BUDGET",
              reason: overBudget.reason ?? "",
              category: "verdict",
            },
          }
        : {}),
  };
}

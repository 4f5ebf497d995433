import { PlatformError } from "@platform/core";
import { type ArmClient, getResource } from "./arm.ts";
import type { ArmCall, DrillPlan, DrillStep, StepId } from "./plan.ts";

/** What a step sees of ARM right now: done, and why (or why not). */
export interface Observation {
  done: boolean;
  detail: string;
}

/** What a step may do while it runs; the drill supplies it per attempt. */
export interface StepContext {
  arm: ArmClient;
  plan: DrillPlan;
  /** Aborts at the step's deadline or when the run is interrupted. */
  signal: AbortSignal;
  /** ms since the epoch (injectable for tests). */
  now: () => number;
  /** The step's deadline, in `now()` time. */
  deadline: number;
  /** When the drill first started (ms): a Flux status synced before it may predate the suspension. */
  since: number;
  pollMs: number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Runs (or resumes, when a crashed run left it in flight) the long-running PATCH of `call`. */
  patch: (call: ArmCall) => Promise<void>;
  heartbeat: () => Promise<void>;
}

/** A failover step: reads its state from ARM, and acts until that state is the wanted one. */
export interface StepRunner {
  observe(ctx: StepContext): Promise<Observation>;
  act(ctx: StepContext): Promise<void>;
}

/** A step that could not finish: the reason names what ARM showed last. */
export class StepFailure extends PlatformError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, { category: "verdict", hint });
  }
}

interface AfdOrigin {
  properties?: { priority?: number; enabledState?: string; provisioningState?: string };
}
interface FluxConfiguration {
  properties?: {
    suspend?: boolean;
    provisioningState?: string;
    complianceState?: string;
    errorMessage?: string | null;
    statusUpdatedAt?: string | null;
    statuses?: Array<{
      name?: string;
      namespace?: string;
      kind?: string;
      complianceState?: string;
      statusConditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
    }>;
  };
}
interface Replication {
  location?: string;
  properties?: {
    provisioningState?: string;
    regionEndpointEnabled?: boolean;
    status?: { displayStatus?: string; message?: string };
  };
}

const patches = (step: DrillStep) => step.calls.filter((c) => c.method === "PATCH");

/** The resource shows every property the call's PATCH body sets. */
function shows(resource: { properties?: object }, call: ArmCall): boolean {
  const want = (call.body as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const have = (resource.properties ?? {}) as Record<string, unknown>;
  return Object.entries(want).every(([k, v]) => have[k] === v);
}
const tail = (path: string) => path.slice(path.lastIndexOf("/") + 1);

async function waitUntil(ctx: StepContext, runner: Pick<StepRunner, "observe">, what: string): Promise<void> {
  for (;;) {
    const o = await runner.observe(ctx);
    if (o.done) return;
    await ctx.heartbeat();
    if (ctx.now() >= ctx.deadline) {
      throw new StepFailure(
        "DR_STEP_DEADLINE",
        `${what} was not reached within the step's budget: ${o.detail}`,
        "Look at the named objects on the standby cluster (flux get kustomizations -A); fix them and re-run the drill, which resumes at this step.",
      );
    }
    await ctx.sleep(Math.min(ctx.pollMs, ctx.deadline - ctx.now()), ctx.signal);
  }
}

/** Front Door: the standby origin enabled at priority 1, then the primary at priority 2. */
function frontDoor(step: DrillStep): StepRunner {
  const [promote, demote] = patches(step) as [ArmCall, ArmCall];
  const read = (ctx: StepContext, c: ArmCall) =>
    getResource<AfdOrigin>(ctx.arm, c.path, c.apiVersion, `origin ${tail(c.path)}`, ctx.signal);
  const state = async (ctx: StepContext) =>
    Promise.all([promote, demote].map(async (c) => ({ c, o: await read(ctx, c) })));
  const settled = (o: AfdOrigin, c: ArmCall) =>
    shows(o, c) && o.properties?.provisioningState === "Succeeded";
  return {
    async observe(ctx) {
      const s = await state(ctx);
      return {
        done: s.every(({ c, o }) => settled(o, c)),
        detail: s
          .map(
            ({ c, o }) =>
              `${tail(c.path)} priority ${o.properties?.priority ?? "unset"}${o.properties?.enabledState === "Disabled" ? " disabled" : ""} (${o.properties?.provisioningState ?? "no state"})`,
          )
          .join(", "),
      };
    },
    async act(ctx) {
      // One origin after the other, re-reading each: a re-run does not repeat what ARM already shows.
      for (const c of [promote, demote]) {
        if (!settled(await read(ctx, c), c)) await ctx.patch(c);
      }
    },
  };
}

const fluxGets = (step: DrillStep) => step.calls.filter((c) => c.method === "GET");
const readFlux = (ctx: StepContext, c: ArmCall) =>
  getResource<FluxConfiguration>(
    ctx.arm,
    c.path,
    c.apiVersion,
    `Flux configuration ${tail(c.path)}`,
    ctx.signal,
  );

/** Flux: every standby configuration reconciles again (suspend false). */
function fluxResume(step: DrillStep): StepRunner {
  const resumed = (f: FluxConfiguration) =>
    f.properties?.suspend === false && f.properties?.provisioningState === "Succeeded";
  return {
    async observe(ctx) {
      const all = await Promise.all(fluxGets(step).map(async (c) => ({ c, f: await readFlux(ctx, c) })));
      return {
        done: all.every(({ f }) => resumed(f)),
        detail: all
          .map(
            ({ c, f }) =>
              `${tail(c.path)} ${f.properties?.suspend === false ? "resumed" : "suspended"} (${f.properties?.provisioningState ?? "no state"})`,
          )
          .join(", "),
      };
    },
    async act(ctx) {
      for (const c of patches(step)) {
        if (!resumed(await readFlux(ctx, c))) await ctx.patch(c);
      }
    },
  };
}

/** Why a Flux configuration is not Ready yet ("" when it is). */
function notReady(name: string, f: FluxConfiguration, since: number): string {
  const p = f.properties ?? {};
  if (p.suspend !== false) return `${name} is still suspended`;
  // A suspended Kustomization keeps its last Ready=True: only a status synced during the drill counts.
  const synced = p.statusUpdatedAt ? Date.parse(p.statusUpdatedAt) : Number.NaN;
  if (!(synced >= since))
    return `${name} has not synced its status since the drill started (statusUpdatedAt ${p.statusUpdatedAt ?? "unset"})`;
  const kustomizations = (p.statuses ?? []).filter((s) => s.kind === "Kustomization");
  // "Checked nothing" is not Ready: a configuration that reports no Kustomization has not reconciled.
  if (kustomizations.length === 0)
    return `${name} reports no Kustomization yet (complianceState ${p.complianceState ?? "unset"})`;
  const waiting = kustomizations
    .map((k) => ({ k, ready: k.statusConditions?.find((c) => c.type === "Ready") }))
    .filter(({ ready }) => ready?.status !== "True")
    .map(
      ({ k, ready }) =>
        `${k.namespace ? `${k.namespace}/` : ""}${k.name} ${ready ? `Ready=${ready.status}${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ""})` : ""}` : "has no Ready condition"}`,
    );
  if (waiting.length) return `${name}: Kustomization ${waiting.join("; ")}`;
  if (p.complianceState !== "Compliant") return `${name} is ${p.complianceState ?? "of unknown compliance"}`;
  return "";
}

/** Flux: wait until every Kustomization of every standby configuration is Ready. */
function kustomizationsReady(step: DrillStep): StepRunner {
  const runner: StepRunner = {
    async observe(ctx) {
      const why = await Promise.all(
        fluxGets(step).map(async (c) => notReady(tail(c.path), await readFlux(ctx, c), ctx.since)),
      );
      const open = why.filter(Boolean);
      return {
        done: open.length === 0,
        detail: open.length
          ? open.join("; ")
          : `${why.length} configuration(s) Compliant, every Kustomization Ready`,
      };
    },
    act: (ctx) => waitUntil(ctx, runner, "Every Kustomization Ready"),
  };
  return runner;
}

/** ACR: the standby region's replica serves pulls (Ready, regional endpoint on). */
function acrReplica(step: DrillStep, region: string): StepRunner {
  const get = step.calls.find((c) => c.method === "GET")!;
  const enable = patches(step)[0]!;
  const read = (ctx: StepContext) =>
    getResource<Replication>(ctx.arm, get.path, get.apiVersion, `replication ${tail(get.path)}`, ctx.signal);
  const runner: StepRunner = {
    async observe(ctx) {
      const r = await read(ctx);
      const p = r.properties ?? {};
      if (r.location && r.location.replace(/\s/g, "").toLowerCase() !== region) {
        throw new StepFailure(
          "DR_REPLICA_REGION",
          `replication ${tail(get.path)} is in ${r.location}, not in the standby region ${region}`,
          "Point dr.regions[standby].replication at the registry's replication in the standby region.",
        );
      }
      const ok =
        p.provisioningState === "Succeeded" &&
        p.status?.displayStatus === "Ready" &&
        p.regionEndpointEnabled !== false;
      return {
        done: ok,
        detail: `${tail(get.path)} ${p.provisioningState ?? "no state"}, status ${p.status?.displayStatus ?? "unknown"}${p.status?.message ? ` (${p.status.message})` : ""}, regional endpoint ${p.regionEndpointEnabled === false ? "disabled" : "enabled"}`,
      };
    },
    async act(ctx) {
      if ((await read(ctx)).properties?.regionEndpointEnabled === false) await ctx.patch(enable);
      await waitUntil(ctx, runner, "A Ready geo-replica");
    },
  };
  return runner;
}

/** The runner of a plan step. */
export function runnerFor(plan: DrillPlan, step: DrillStep): StepRunner {
  const runners: Record<StepId, () => StepRunner> = {
    "front-door": () => frontDoor(step),
    "flux-resume": () => fluxResume(step),
    "kustomizations-ready": () => kustomizationsReady(step),
    "acr-replica": () => acrReplica(step, plan.to.region),
  };
  return runners[step.id]();
}

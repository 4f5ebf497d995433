// What both doors share: request parameters → gate input, the evaluation (cached, bounded in time, with
// a backend per Prometheus URL), what is remembered per canary revision, and the JSON answer.
import { errorMessage, isPlatformError, type Logger, PlatformError } from "@platform/core";
import type { DecisionKind, DecisionRule, Evidence } from "../decide.ts";
import { evaluateGate, type GateDecision, type GateInput } from "../gate.ts";
import { type GateOptions, gateInput } from "../options.ts";
import type { MetricsBackend } from "../sources.ts";
import type { FlaggerHook } from "./flagger.ts";

/** Where metrics come from and how evaluations run: the server options the judge reads. */
export interface JudgeOptions {
  /**
   * Where metrics come from: one backend, or a factory called with the request's `prometheus-url`
   * (else `prometheusUrl`). The server sends its credentials wherever the factory points them, so a
   * factory must refuse URLs it does not trust (throw a usage PlatformError: the request gets a 400).
   */
  backend: MetricsBackend | ((url: string) => MetricsBackend | Promise<MetricsBackend>);
  /** The URL handed to a backend factory when a request names none. */
  prometheusUrl?: string;
  /** Inputs every evaluation starts from (mesh, interval, max duration, decide options…); a request's own parameters win. */
  defaults: Partial<GateInput>;
  log: Logger;
  clock?: () => Date;
  /** Answer `error` when an evaluation takes longer than this (default 8 s, under Flagger's and Argo's 10 s webhook timeouts). */
  timeoutSeconds?: number;
  /** Reuse an evaluation of the same canary for this long (default 5 s): Flagger calls several hooks per interval. */
  cacheSeconds?: number;
}

/** The JSON body both doors answer with (Flagger's leaves out the evidence unless asked: its events quote the body). */
export interface ServeAnswer {
  decision: DecisionKind;
  rule: DecisionRule;
  reason: string;
  promote: boolean;
  rollback: boolean;
  /** Flagger only: the hook this path serves, and whether the status lets Flagger go on. */
  hook?: FlaggerHook;
  proceed?: boolean;
  canary: { namespace: string; service: string; revision?: string; startedAt?: string };
  /** A rollback decided earlier for this revision, repeated: a rejection by the sequential test is final. */
  remembered?: boolean;
  error?: GateDecision["error"];
  evidence?: Evidence;
}

/** A decision, possibly without evidence (a timeout or an unusable backend has none). */
export type Verdict = Omit<GateDecision, "evidence"> & { evidence?: Evidence };

/** What the server remembers per canary revision (Flagger's checksum, Argo's pod-template hash). */
export interface RevisionState {
  revision: string;
  firstSeen: number;
  rollback?: Verdict;
  /** Traffic increases approved while the canary had no data (only the first one is). */
  blindIncreases: number;
}

/** Request parameters, as Flagger metadata, Argo query strings or JSON bodies spell them. */
export interface RequestParams extends Partial<Omit<GateOptions, "mesh">> {
  mesh?: string;
  prometheusUrl?: string;
  revision?: string;
  evidence?: string;
}

const PARAM_KEYS: Record<string, keyof RequestParams> = {
  namespace: "namespace",
  service: "service",
  mesh: "mesh",
  "canary-selector": "canarySelector",
  canarySelector: "canarySelector",
  "primary-selector": "primarySelector",
  primarySelector: "primarySelector",
  queries: "queries",
  slo: "slo",
  interval: "interval",
  "max-duration": "maxDuration",
  maxDuration: "maxDuration",
  at: "at",
  "prometheus-url": "prometheusUrl",
  prometheusUrl: "prometheusUrl",
  revision: "revision",
  evidence: "evidence",
};

const MAX_REMEMBERED = 10_000;
const MAX_BACKENDS = 64;

/** The outcome of judging one request. */
export interface Judgement {
  verdict: Verdict;
  state: RevisionState | undefined;
  remembered: boolean;
  input: GateInput;
}

/** Builds the input, evaluates (or repeats a remembered rollback) and records the revision's state. */
export type Judge = (
  door: "flagger" | "argo",
  id: { namespace: string; service: string; name: string; revision: string | undefined },
  params: RequestParams,
) => Promise<Judgement>;

/** What a door (Flagger, Argo) needs from the server. */
export interface DoorContext {
  judge: Judge;
  log: Logger;
  maxBody: number;
}

/** A judge for one server: its caches and revision memory live as long as it does. */
export function createJudge(opts: JudgeOptions): Judge {
  const log = opts.log;
  const now = () => (opts.clock?.() ?? new Date()).getTime();
  const timeoutMs = (opts.timeoutSeconds ?? 8) * 1000;
  const cacheMs = (opts.cacheSeconds ?? 5) * 1000;
  const revisions = new Map<string, RevisionState>();
  const evaluations = new Map<string, { until: number; decision: Promise<GateDecision> }>();
  const backends = new Map<string, Promise<MetricsBackend>>();

  async function backendFor(
    requested: string | undefined,
  ): Promise<{ backend: MetricsBackend; key: string }> {
    const b = opts.backend;
    if (typeof b !== "function") {
      if (requested) {
        throw new PlatformError(
          "SERVE_URL_NOT_ALLOWED",
          "This server reads one Prometheus; a request cannot name another",
          {
            input: "prometheus-url",
            hint: "Leave prometheus-url out of the webhook's metadata or the request.",
          },
        );
      }
      return { backend: b, key: b.describe };
    }
    const url = requested ?? opts.prometheusUrl;
    if (!url) {
      throw new PlatformError(
        "SERVE_URL_MISSING",
        "No Prometheus URL: the request names none and the server has no default",
        {
          input: "prometheus-url",
          hint: "Pass prometheus-url in the request, or start the server with a default URL.",
        },
      );
    }
    let pending = backends.get(url);
    if (!pending) {
      pending = Promise.resolve().then(() => b(url));
      // A failed open is not cached, so the next request tries again.
      pending.catch(() => backends.delete(url));
      backends.set(url, pending);
      // Requests choose the URL, so the cache must not grow with them.
      if (backends.size > MAX_BACKENDS) backends.delete(backends.keys().next().value ?? url);
    }
    return { backend: await pending, key: url };
  }

  function evaluate(input: GateInput, backend: MetricsBackend, backendKey: string): Promise<Verdict> {
    const key = `${backendKey}\n${JSON.stringify(input)}`;
    const t = now();
    for (const [k, e] of evaluations) if (e.until <= t) evaluations.delete(k);
    let entry = evaluations.get(key);
    if (!entry) {
      const decision = evaluateGate(input, { backend, log, ...(opts.clock ? { clock: opts.clock } : {}) });
      entry = { until: t + cacheMs, decision };
      evaluations.set(key, entry);
      // Also keeps a rejection that lands after a timeout from going unhandled.
      decision.catch(() => evaluations.delete(key));
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Verdict>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            decision: "error",
            rule: "error.query",
            reason: `The metrics were not read from ${backend.describe} within ${timeoutMs / 1000} s; answering before the controller's webhook times out. No evidence either way.`,
            error: {
              code: "CANARY_QUERY_TIMEOUT",
              message: `evaluation took longer than ${timeoutMs / 1000} s`,
              hint: "Check the Prometheus endpoint's latency; the server's timeout must stay under the webhook's.",
            },
          }),
        timeoutMs,
      );
    });
    return Promise.race([entry.decision, late]).finally(() => clearTimeout(timer));
  }

  function revisionState(key: string, revision: string | undefined): RevisionState | undefined {
    // Without a revision id a new rollout cannot be told from the last one, so nothing is remembered.
    if (!revision) return undefined;
    const existing = revisions.get(key);
    revisions.delete(key);
    const state =
      existing && existing.revision === revision
        ? existing
        : { revision, firstSeen: now(), blindIncreases: 0 };
    revisions.set(key, state);
    if (revisions.size > MAX_REMEMBERED) {
      const oldest = revisions.keys().next().value;
      if (oldest !== undefined) revisions.delete(oldest);
    }
    return state;
  }

  const judge: Judge = async (door, id, params) => {
    const input = buildInput(opts.defaults, params, id.namespace, id.service);
    // Resolved before the memory is consulted, so a request this server refuses is a 400 every time.
    let opened: { backend: MetricsBackend; key: string } | undefined;
    let failure: unknown;
    try {
      opened = await backendFor(params.prometheusUrl);
    } catch (err) {
      if (isPlatformError(err) && err.category === "usage") throw err;
      failure = err;
    }
    const state = revisionState(`${door}/${id.namespace}/${id.name}`, id.revision);
    if (state?.rollback) return { verdict: state.rollback, state, remembered: true, input };
    let verdict: Verdict | undefined;
    if (opened) {
      // A replay has its own timeline, so the wall-clock first sighting means nothing there; the
      // engine finds the start from the metrics instead.
      if (state && input.startedAt === undefined && opened.backend.lastTimestamp === undefined)
        input.startedAt = state.firstSeen;
      try {
        verdict = await evaluate(input, opened.backend, opened.key);
      } catch (err) {
        if (isPlatformError(err) && err.category === "usage") throw err;
        failure = err;
      }
    }
    if (!verdict) {
      log.warn(`canary metrics backend failed: ${errorMessage(failure)}`);
      const e = isPlatformError(failure) ? failure : undefined;
      verdict = {
        decision: "error",
        rule: "error.query",
        reason: `The metrics could not be read: ${errorMessage(failure)}. No evidence either way.`,
        error: {
          code: e?.code ?? "CANARY_BACKEND_FAILED",
          message: errorMessage(failure),
          ...(e?.hint ? { hint: e.hint } : {}),
        },
      };
    }
    if (state && verdict.decision === "rollback") state.rollback = verdict;
    return { verdict, state, remembered: false, input };
  };

  return judge;
}

/** Gate parameters from Flagger metadata, an Argo query string or a JSON body (`where` names it in errors). */
export function readParams(src: Record<string, unknown>, where: string): RequestParams {
  const out: RequestParams = {};
  for (const [key, value] of Object.entries(src)) {
    const field = PARAM_KEYS[key];
    if (!field || value === undefined || value === null) continue;
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new PlatformError("SERVE_BAD_PARAM", `${where}.${key} must be a string`, {
        input: key,
        hint: "Gate parameters are strings, as in Flagger webhook metadata: e.g. interval: 1m.",
      });
    }
    const text = String(value).trim();
    if (text !== "") out[field] = text;
  }
  return out;
}

function buildInput(
  defaults: Partial<GateInput>,
  p: RequestParams,
  namespace: string,
  service: string,
): GateInput {
  const parsed = gateInput({
    namespace,
    service,
    mesh: (p.mesh ?? defaults.mesh ?? "istio") as GateOptions["mesh"],
    ...(p.canarySelector ? { canarySelector: p.canarySelector } : {}),
    ...(p.primarySelector ? { primarySelector: p.primarySelector } : {}),
    ...(p.queries ? { queries: p.queries } : {}),
    ...(p.slo ? { slo: p.slo } : {}),
    ...(p.interval ? { interval: p.interval } : {}),
    ...(p.maxDuration ? { maxDuration: p.maxDuration } : {}),
    ...(p.at ? { at: p.at } : {}),
  });
  const { decide, ...rest } = parsed;
  const input: GateInput = { ...defaults, ...rest };
  const merged = {
    ...defaults.decide,
    ...decide,
    ...(defaults.decide?.latency || decide?.latency
      ? { latency: { ...defaults.decide?.latency, ...decide?.latency } }
      : {}),
  };
  if (Object.keys(merged).length > 0) input.decide = merged;
  return input;
}

/** The JSON answer for a verdict (evidence only when asked for). */
export function toAnswer(
  v: Verdict,
  input: GateInput,
  state: RevisionState | undefined,
  remembered: boolean,
  withEvidence: boolean,
): ServeAnswer {
  const startedAt = v.evidence?.startedAt ?? input.startedAt;
  return {
    decision: v.decision,
    rule: v.rule,
    reason: v.reason,
    promote: v.decision === "promote",
    rollback: v.decision === "rollback",
    canary: {
      namespace: input.namespace,
      service: input.service,
      ...(state ? { revision: state.revision } : {}),
      ...(startedAt !== undefined ? { startedAt: new Date(startedAt).toISOString() } : {}),
    },
    ...(remembered ? { remembered: true } : {}),
    ...(v.error ? { error: v.error } : {}),
    ...(withEvidence && v.evidence ? { evidence: v.evidence } : {}),
  };
}

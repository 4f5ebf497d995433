import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage, isPlatformError, type Logger, PlatformError } from "@platform/core";
import type { DecisionKind, DecisionRule, Evidence } from "./decide.ts";
import { evaluateGate, type GateDecision, type GateInput } from "./gate.ts";
import { type GateOptions, gateInput } from "./options.ts";
import type { MetricsBackend } from "./sources.ts";

/** The Flagger hook a path serves; Flagger does not say which hook is calling, so the path does. */
export type FlaggerHook = "rollout" | "confirm-traffic-increase" | "confirm-promotion" | "rollback";

const FLAGGER_PATHS: Record<string, FlaggerHook> = {
  "/flagger": "rollout",
  "/flagger/rollout": "rollout",
  "/flagger/pre-rollout": "rollout",
  "/flagger/confirm-traffic-increase": "confirm-traffic-increase",
  "/flagger/confirm-promotion": "confirm-promotion",
  "/flagger/rollback": "rollback",
};

export interface CanaryServerOptions {
  /** TCP port (default 8080; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default 127.0.0.1; in a pod, 0.0.0.0). */
  host?: string;
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
  /** Largest request body (default 1 MiB); larger ones get 413. */
  maxBodyBytes?: number;
}

export interface CanaryServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  close(): Promise<void>;
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
type Verdict = Omit<GateDecision, "evidence"> & { evidence?: Evidence };

/** What the server remembers per canary revision (Flagger's checksum, Argo's pod-template hash). */
interface RevisionState {
  revision: string;
  firstSeen: number;
  rollback?: Verdict;
  /** Traffic increases approved while the canary had no data (only the first one is). */
  blindIncreases: number;
}

/** Request parameters, as Flagger metadata, Argo query strings or JSON bodies spell them. */
interface RequestParams extends Partial<Omit<GateOptions, "mesh">> {
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

/**
 * Starts `platform canary serve` (resolves once it listens): the gate's engine behind HTTP, so a
 * cluster running Flagger or Argo Rollouts gets the canary-vs-primary sequential test without
 * replacing its controller.
 *
 * Flagger POSTs `{name, namespace, phase, checksum, metadata}` and proceeds on 200–202. It does not
 * say which hook is calling, so the path does:
 *
 * | path                                | hook type                  | 2xx when                        |
 * |-------------------------------------|----------------------------|---------------------------------|
 * | `/flagger`, `/flagger/rollout`      | `rollout`, `pre-rollout`   | anything but rollback (409)     |
 * | `/flagger/confirm-traffic-increase` | `confirm-traffic-increase` | promote, continue               |
 * | `/flagger/confirm-promotion`        | `confirm-promotion`        | promote                         |
 * | `/flagger/rollback`                 | `rollback`                 | rollback                        |
 *
 * Argo Rollouts (web metric provider): `GET /argo?namespace=…&service=…`, or `POST /argo` with the
 * same as a JSON body, always answers 200 with `{decision, rule, reason, promote, rollback, evidence}`
 * (a non-2xx would be a measurement error, and enough of those abort the rollout); the
 * AnalysisTemplate's conditions turn the answer into a measurement:
 *
 * ```yaml
 * metrics:
 *   - name: canary-gate
 *     interval: 1m
 *     successCondition: "result.decision in ['promote', 'continue', 'hold']"
 *     failureCondition: "result.rollback"
 *     failureLimit: 0
 *     inconclusiveLimit: 3   # `error` is inconclusive: it pauses the rollout, never aborts it
 *     provider:
 *       web:
 *         method: POST
 *         url: http://platform-canary-gate.argo-rollouts/argo
 *         jsonBody: { namespace: "{{args.namespace}}", service: "{{args.service}}", revision: "{{args.revision}}", interval: 1m, evidence: false }
 *         jsonPath: "{$}"
 * ```
 *
 * `CANARY_SERVE_MARKDOWN` has the whole story: the status of every decision on every hook and why,
 * and the Canary, AnalysisTemplate and Rollout snippets.
 */
export async function startCanaryServer(opts: CanaryServerOptions): Promise<CanaryServer> {
  const log = opts.log;
  const now = () => (opts.clock?.() ?? new Date()).getTime();
  const timeoutMs = (opts.timeoutSeconds ?? 8) * 1000;
  const cacheMs = (opts.cacheSeconds ?? 5) * 1000;
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
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

  /** Builds the input, evaluates (or repeats a remembered rollback) and records the revision's state. */
  async function judge(
    door: "flagger" | "argo",
    id: { namespace: string; service: string; name: string; revision: string | undefined },
    params: RequestParams,
  ): Promise<{ verdict: Verdict; state: RevisionState | undefined; remembered: boolean; input: GateInput }> {
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
  }

  async function flagger(
    req: IncomingMessage,
    res: ServerResponse,
    hook: FlaggerHook,
    query: URLSearchParams,
  ) {
    const body = parseJson(await readBody(req, maxBody), true);
    const payload = flaggerPayload(body);
    const params = readParams(payload.metadata ?? {}, "metadata");
    // The canary's namespace is Flagger's to say; metadata may only rename the target.
    delete params.namespace;
    const service = params.service ?? payload.name;
    const { verdict, state, remembered, input } = await judge(
      "flagger",
      { namespace: payload.namespace, service, name: payload.name, revision: payload.checksum },
      params,
    );
    let status = flaggerStatus(hook, verdict.decision);
    if (
      hook === "confirm-traffic-increase" &&
      verdict.rule === "hold.no-canary-data" &&
      (!state || state.blindIncreases === 0)
    ) {
      // At weight 0 the canary cannot have data; refusing the first step would wait forever.
      status = 200;
      if (state) state.blindIncreases++;
    }
    const evidence = truthy(params.evidence ?? query.get("evidence") ?? undefined, false);
    const answer = toAnswer(verdict, input, state, remembered, evidence);
    answer.hook = hook;
    answer.proceed = status >= 200 && status <= 202;
    log.info(
      `flagger ${hook} ${payload.namespace}/${payload.name}${payload.checksum ? `@${payload.checksum}` : ""}: ${verdict.decision} (${verdict.rule}) → ${status}`,
    );
    send(res, status, answer);
  }

  async function argo(req: IncomingMessage, res: ServerResponse, query: URLSearchParams) {
    const fromQuery = readParams(Object.fromEntries(query), "query");
    let params = fromQuery;
    if (req.method !== "GET") {
      const body = parseJson(await readBody(req, maxBody), false) ?? {};
      if (!isRecord(body)) {
        throw new PlatformError(
          "SERVE_BAD_BODY",
          "The request body must be a JSON object of gate parameters",
          {
            hint: 'Send e.g. {"namespace": "shop", "service": "orders"} (Argo Rollouts: provider.web.jsonBody).',
          },
        );
      }
      params = { ...fromQuery, ...readParams(body, "body") };
    } else {
      req.resume();
    }
    if (!params.namespace || !params.service) {
      throw new PlatformError(
        "SERVE_MISSING_TARGET",
        `The request needs ${!params.namespace ? "namespace" : "service"}: which canary to judge`,
        {
          input: !params.namespace ? "namespace" : "service",
          hint: "Pass ?namespace=…&service=… (or both in the JSON body); service is the canary's workload, the primary is <service>-primary unless selectors say otherwise.",
        },
      );
    }
    const { verdict, state, remembered, input } = await judge(
      "argo",
      {
        namespace: params.namespace,
        service: params.service,
        name: params.service,
        revision: params.revision,
      },
      params,
    );
    const answer = toAnswer(verdict, input, state, remembered, truthy(params.evidence, true));
    log.info(
      `argo ${params.namespace}/${params.service}${params.revision ? `@${params.revision}` : ""}: ${verdict.decision} (${verdict.rule})`,
    );
    // Always 200: Argo reads a non-2xx as a measurement error, and enough of those abort the rollout.
    send(res, 200, answer);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    if (path === "/healthz") {
      req.resume();
      if (method !== "GET" && method !== "HEAD") return methodNotAllowed(res, "GET, HEAD");
      return send(res, 200, { status: "ok" }, method === "HEAD");
    }
    const hook = FLAGGER_PATHS[path];
    if (hook) {
      if (method !== "POST") {
        req.resume();
        return methodNotAllowed(res, "POST");
      }
      return flagger(req, res, hook, url.searchParams);
    }
    if (path === "/argo") {
      if (method !== "GET" && method !== "POST" && method !== "PUT") {
        req.resume();
        return methodNotAllowed(res, "GET, POST, PUT");
      }
      return argo(req, res, url.searchParams);
    }
    req.resume();
    send(res, 404, {
      error: {
        code: "SERVE_NOT_FOUND",
        message: `No endpoint ${path}`,
        hint: `Flagger hooks: ${Object.keys(FLAGGER_PATHS).join(", ")}; Argo Rollouts web metric: /argo; probes: /healthz.`,
      },
    });
  }

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = isPlatformError(err, "SERVE_BODY_TOO_LARGE")
        ? 413
        : isPlatformError(err) && err.category === "usage"
          ? 400
          : 500;
      if (status === 500) log.error(`canary serve: ${req.method} ${req.url}: ${errorMessage(err)}`);
      else log.warn(`canary serve: ${req.method} ${req.url}: ${status} ${errorMessage(err)}`);
      const e = isPlatformError(err) ? err : undefined;
      send(res, status, {
        error: {
          code: e?.code ?? "SERVE_INTERNAL",
          message: errorMessage(err),
          ...(e?.input ? { input: e.input } : {}),
          ...(e?.hint ? { hint: e.hint } : {}),
        },
      });
    });
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new PlatformError(
          "SERVE_LISTEN_FAILED",
          `Cannot listen on ${host}:${opts.port ?? 8080}: ${err.message}`,
          {
            category: "environment",
            input: "port",
            hint: "Pick a free port (--port), or stop whatever holds this one.",
            cause: err,
          },
        ),
      );
    server.once("error", onError);
    server.listen(opts.port ?? 8080, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info(`canary gate serving on ${url} (Flagger: /flagger…, Argo Rollouts: /argo, probes: /healthz)`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** The HTTP status Flagger gets for a decision on each hook (see CANARY_SERVE_MARKDOWN for why). */
export function flaggerStatus(hook: FlaggerHook, decision: DecisionKind): number {
  switch (hook) {
    case "rollout":
      // Non-2xx here is a failed check and `threshold` of them roll back: only evidence of harm may do that.
      return decision === "rollback" ? 409 : 200;
    case "confirm-traffic-increase":
      return decision === "promote" || decision === "continue"
        ? 200
        : decision === "rollback"
          ? 409
          : decision === "error"
            ? 503
            : 403;
    case "confirm-promotion":
      return decision === "promote" ? 200 : decision === "rollback" ? 409 : decision === "error" ? 503 : 403;
    case "rollback":
      // 2xx tells Flagger to roll back now; anything else means "not signalling a rollback".
      return decision === "rollback" ? 200 : decision === "error" ? 503 : 403;
  }
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

function toAnswer(
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

function flaggerPayload(body: unknown): {
  name: string;
  namespace: string;
  checksum?: string;
  metadata?: Record<string, unknown>;
} {
  const hint =
    'Flagger sends {"name", "namespace", "phase", "checksum", "metadata"}; point a Canary\'s analysis.webhooks[].url here.';
  if (!isRecord(body))
    throw new PlatformError("SERVE_BAD_PAYLOAD", "The Flagger webhook payload must be a JSON object", {
      hint,
    });
  for (const field of ["name", "namespace"] as const) {
    const v = body[field];
    if (typeof v !== "string" || v.trim() === "")
      throw new PlatformError("SERVE_BAD_PAYLOAD", `The Flagger webhook payload has no ${field}`, {
        input: field,
        hint,
      });
  }
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && !isRecord(metadata))
    throw new PlatformError("SERVE_BAD_PAYLOAD", "The Flagger webhook payload's metadata must be an object", {
      input: "metadata",
      hint: "Webhook metadata is a map of strings, e.g. mesh: istio, interval: 1m.",
    });
  const checksum = typeof body.checksum === "string" && body.checksum !== "" ? body.checksum : undefined;
  return {
    name: (body.name as string).trim(),
    namespace: (body.namespace as string).trim(),
    ...(checksum ? { checksum } : {}),
    ...(isRecord(metadata) ? { metadata } : {}),
  };
}

function readParams(src: Record<string, unknown>, where: string): RequestParams {
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

function truthy(v: string | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  return !/^(false|0|no|off)$/i.test(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseJson(text: string, required: boolean): unknown {
  if (text.trim() === "") {
    if (!required) return undefined;
    throw new PlatformError("SERVE_BAD_BODY", "The request has no body", {
      hint: "Flagger POSTs a JSON payload; send one.",
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PlatformError("SERVE_BAD_BODY", `The request body is not JSON: ${errorMessage(err)}`, {
      hint: "Send a JSON object with Content-Type: application/json.",
    });
  }
}

/** Reads the body up to `max` bytes; a larger one is drained (not buffered) and refused, so the client still gets the 413. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    let over = Number.isFinite(declared) && declared > max;
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      if (over) chunks.length = 0;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (over)
        reject(
          new PlatformError("SERVE_BODY_TOO_LARGE", `The request body is larger than ${max} bytes`, {
            hint: "Webhook payloads are small; send only the gate parameters.",
          }),
        );
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(head ? undefined : text);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader("allow", allow);
  send(res, 405, {
    error: {
      code: "SERVE_METHOD_NOT_ALLOWED",
      message: `Use ${allow}`,
      hint: `This endpoint accepts ${allow}.`,
    },
  });
}

/** README section: endpoints, the status each decision gets and why, and the Flagger and Argo Rollouts snippets. */
export const CANARY_SERVE_MARKDOWN = `### \`platform canary serve\`: the gate inside Flagger or Argo Rollouts

\`platform canary serve\` runs the same engine as \`platform canary gate\` behind HTTP, so a cluster that
already runs Flagger or Argo Rollouts gets the canary-vs-primary sequential test — anytime-valid, and
never fooled by missing data — without replacing its controller.

| endpoint | caller |
|---|---|
| \`POST /flagger\` (also \`/flagger/rollout\`, \`/flagger/pre-rollout\`) | Flagger \`rollout\` webhook: the guard, every interval |
| \`POST /flagger/confirm-traffic-increase\` | Flagger \`confirm-traffic-increase\` webhook: holds the weight while there is no evidence |
| \`POST /flagger/confirm-promotion\` | Flagger \`confirm-promotion\` webhook: promotes only on \`promote\` |
| \`POST /flagger/rollback\` | Flagger \`rollback\` webhook: rolls back at once on \`rollback\` |
| \`GET\` or \`POST /argo\` | Argo Rollouts web metric provider |
| \`GET /healthz\` | liveness and readiness probes |

Flagger posts \`{name, namespace, phase, checksum, metadata}\`. The canary's workload is \`name\` (or
\`metadata.service\`), the primary \`<name>-primary\`; \`metadata\` may set any gate parameter by its
action-input name: \`mesh\`, \`interval\`, \`max-duration\`, \`canary-selector\`, \`primary-selector\`,
\`slo\`, \`queries\`. Argo sends the same parameters plus \`namespace\` and \`service\` as a query string
or JSON body. Each canary revision (Flagger's \`checksum\`, Argo's \`revision\`) is remembered: its
start is the first request for it (so the previous revision's traffic is never counted), and a
rollback, once decided, is repeated until a new revision arrives — a rejection by the sequential test
is final.

Status codes. Flagger proceeds on 200–202 and treats anything else as "halt"; on a \`rollout\` hook a
halt is also a failed check, and \`analysis.threshold\` failed checks roll the canary back.

| decision | \`/flagger\` (rollout) | confirm-traffic-increase | confirm-promotion | rollback hook | \`/argo\` |
|---|---|---|---|---|---|
| promote | 200 | 200 | 200 | 403 | 200 |
| continue | 200 | 200 | 403 | 403 | 200 |
| hold | 200 | 403¹ | 403 | 403 | 200 |
| rollback | 409 | 409 | 409 | 200 | 200 |
| error | 200 | 503 | 503 | 503 | 200 |
| bad request | 400 | 400 | 400 | 400 | 400 |

- **hold → 200 on the rollout hook.** \`hold\` means too little data or no traffic. A non-2xx would be
  counted as a failed check and end in a rollback — exactly the "missing data read as failure" this
  gate exists to avoid. Holding is the confirm hooks' job: they pause the weight and the promotion
  without counting failures. ¹The first traffic increase of a revision is allowed while the canary
  has no data yet, since at weight 0 it cannot have any.
- **error → 200 on the rollout hook, 503 on the confirm hooks.** \`error\` means Prometheus could not be
  read (after retries, or within 8 s, under the webhooks' 10 s default timeout). A failed check would
  let an outage or an expired token roll back every canary in the cluster at once; instead the
  confirm hooks freeze the canary — no more weight, no promotion — until the metrics are back. The
  body carries the error either way, and Flagger records it in the canary's events.
- **rollback → 409** (a verdict, not a server fault; a 4xx is not retried by Flagger's retrying
  client). Register the \`rollback\` hook as well, so the rollback happens at once rather than after
  \`threshold\` failed checks.
- **403** is "gate closed, not yet", as Flagger's own load tester answers for a closed gate.
- **Argo always gets 200** with \`{decision, rule, reason, promote, rollback, evidence}\`: Argo reads a
  non-2xx as a measurement *error*, and \`consecutiveErrorLimit\` errors abort the rollout; the
  AnalysisTemplate's conditions decide instead.

Non-2xx bodies are short JSON (decision, rule, reason, no evidence) because Flagger quotes them in its
events; add \`evidence: "true"\` to the metadata to get the counts and statistics too.

#### Flagger

\`\`\`yaml
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: shop
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 50
    stepWeight: 10
    # Flagger's fixed-threshold metrics are optional now; the gate compares canary with primary.
    webhooks:
      - name: canary-gate
        type: rollout
        url: http://platform-canary-gate.flagger-system/flagger
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
      - name: canary-gate-traffic
        type: confirm-traffic-increase
        url: http://platform-canary-gate.flagger-system/flagger/confirm-traffic-increase
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
      - name: canary-gate-promotion
        type: confirm-promotion
        url: http://platform-canary-gate.flagger-system/flagger/confirm-promotion
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
      - name: canary-gate-rollback
        type: rollback
        url: http://platform-canary-gate.flagger-system/flagger/rollback
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
\`\`\`

Give every hook the same metadata: the hooks of one interval then share one evaluation (cached 5 s).
Set \`interval\` to the analysis interval.

#### Argo Rollouts

\`\`\`yaml
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: canary-gate
spec:
  args:
    - name: namespace
    - name: service
    - name: revision
  metrics:
    # Fails (aborts the rollout) only on evidence of harm; continue and hold pass; an unreadable
    # Prometheus is inconclusive — more than 3 such looks pause the rollout, never abort it.
    - name: canary-gate
      interval: 1m
      successCondition: "result.decision in ['promote', 'continue', 'hold']"
      failureCondition: "result.rollback"
      failureLimit: 0
      inconclusiveLimit: 3
      provider:
        web:
          method: POST
          url: http://platform-canary-gate.argo-rollouts/argo
          timeoutSeconds: 10
          jsonBody:
            namespace: "{{args.namespace}}"
            service: "{{args.service}}"
            revision: "{{args.revision}}"
            interval: 1m
            max-duration: 30m
            evidence: false   # keeps each measurement stored in the AnalysisRun small
          jsonPath: "{$}"
---
# Optional promotion gate, run as a step: waits for "promote", fails on "rollback".
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: canary-gate-promotion
spec:
  args:
    - name: namespace
    - name: service
    - name: revision
  metrics:
    - name: canary-promotion
      interval: 1m
      successCondition: "result.promote"
      failureCondition: "result.rollback"
      consecutiveSuccessLimit: 1   # Argo Rollouts 1.8+
      failureLimit: 0
      inconclusiveLimit: 60        # a person decides after an hour without a verdict
      provider:
        web:
          method: POST
          url: http://platform-canary-gate.argo-rollouts/argo
          timeoutSeconds: 10
          jsonBody: { namespace: "{{args.namespace}}", service: "{{args.service}}", revision: "{{args.revision}}", interval: 1m, max-duration: 30m, evidence: false }
          jsonPath: "{$}"
\`\`\`

\`\`\`yaml
# In the Rollout:
  strategy:
    canary:
      analysis:
        templates: [{ templateName: canary-gate }]
        args:
          - name: namespace
            valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
          - name: service
            value: podinfo
          - name: revision
            valueFrom: { podTemplateHashValue: Latest }
      steps:
        - setWeight: 10
        - pause: { duration: 5m }
        - analysis:
            templates: [{ templateName: canary-gate-promotion }]
            args:
              - name: namespace
                valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
              - name: service
                value: podinfo
              - name: revision
                valueFrom: { podTemplateHashValue: Latest }
        - setWeight: 50
\`\`\`

Argo Rollouts runs both arms under one workload name, so unless they are separate workloads named
\`<service>\` and \`<service>-primary\`, add \`canary-selector\` and \`primary-selector\` (\`label=value\`
as the mesh's metrics label each arm) to the \`jsonBody\`.
`;

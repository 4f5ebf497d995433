// A local HTTPS stand-in for Azure Resource Manager (and other Azure REST services described by Swagger):
// every request is matched to an operation of the published API description (test/fakes/arm/swagger.ts),
// checked against it, answered by the test's handler for that operationId, and the answer is checked too.
// What a spec does not describe is an error the test sees (`mismatches`), never silently accepted.
//
// Long-running operations follow the ARM async pattern the SDK pollers implement: the first answer carries
// `Azure-AsyncOperation` (a status monitor returning {status: InProgress|Succeeded|Failed|Canceled, error})
// and `Location` (the final result); the operation advances one step per status poll, so a test decides
// exactly how many polls an upgrade takes and can stop the client between two of them.
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedCertificate } from "../entra.ts";
import { type MatchedOperation, SPECS_ROOT, SwaggerCatalog, type SwaggerOperation } from "./swagger.ts";

export { SPECS_ROOT, SwaggerCatalog, type SwaggerOperation } from "./swagger.ts";

export interface ArmRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (form bodies as a record), or undefined. */
  body: unknown;
  rawBody: string;
  /** Path parameters of the matched template (e.g. subscriptionId, resourceName). */
  params: Record<string, string>;
  operationId: string;
}

export interface ArmReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RecordedArmRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  operationId: string;
  status: number;
  injected: boolean;
  body: unknown;
}

export interface LongRunningOptions {
  /** Status polls answered InProgress before the terminal status (default 1). */
  polls?: number;
  outcome?: "Succeeded" | "Failed" | "Canceled";
  /** For Failed: the operation's error, as ARM reports it ({code, message, details?}). */
  error?: { code: string; message: string; details?: unknown[] };
  /** First answer's status (PUT/PATCH: 200 or 201; POST/DELETE: 202). */
  status?: number;
  /** First answer's body (e.g. the resource with provisioningState "Upgrading"). */
  body?: unknown;
  /** Called once when the operation reaches its terminal status (apply the change, set provisioningState). */
  onDone?: (outcome: "Succeeded" | "Failed" | "Canceled") => void;
  /** The final result served at `Location` once done (POST operations); absent → 204 there. */
  result?: () => unknown;
  /** Retry-After seconds on the first answer and on polls (default 0: tests don't wait). */
  retryAfter?: number;
}

export interface ArmContext {
  /** Starts a long-running operation and returns the first answer to send. */
  longRunning(opts?: LongRunningOptions): ArmReply;
  /** ARM's error payload (common-types ErrorResponse). */
  error(status: number, code: string, message: string, details?: unknown[]): ArmReply;
  /** 412 PreconditionFailed when an If-Match header is present and differs from the current etag. */
  ifMatch(req: ArmRequest, currentEtag: string | undefined): ArmReply | undefined;
  /** The fake's base URL (for nextLink, ids…). */
  url: string;
}

export type ArmHandler = (req: ArmRequest, ctx: ArmContext) => ArmReply | Promise<ArmReply>;

export interface InjectedFailure {
  /** Matches an operationId (exact, case-insensitive) … */
  operationId?: string;
  /** … or a path (substring or RegExp). Neither: every request. */
  path?: string | RegExp;
  status: number;
  /** How many matching requests fail (default 1). */
  times?: number;
  retryAfter?: number;
  code?: string;
  message?: string;
}

export interface ArmFakeOptions {
  /** Swagger files (absolute, or relative to test/fixtures/specs). */
  specs: string[];
  /** Handlers by operationId. */
  routes: Record<string, ArmHandler>;
  /** Added before each answer: a fixed delay or a [min, max] range in ms (benchmarks). */
  latencyMs?: number | [number, number];
  /** Plain HTTP instead of HTTPS (clients that refuse bearer tokens over HTTP need the default). */
  http?: boolean;
}

export interface ArmFake {
  url: string;
  /** PEM of the fake's self-signed certificate (trust it: tlsOptions.ca, or NODE_EXTRA_CA_CERTS=caFile). */
  ca: string;
  caFile: string;
  catalog: SwaggerCatalog;
  requests: RecordedArmRequest[];
  /** Every departure from the spec, by request or response; a test asserts it stays empty. */
  mismatches: string[];
  inject(failure: InjectedFailure): void;
  /** Requests per operationId. */
  count(operationId: string): number;
  close(): Promise<void>;
}

interface Operation {
  id: string;
  /** The spec operation that started it: its final result is checked against that operation's 200. */
  spec?: SwaggerOperation;
  remaining: number;
  outcome: "Succeeded" | "Failed" | "Canceled";
  opts: LongRunningOptions;
  started: string;
  ended?: string;
}

const OPERATIONS_PREFIX = "/_fake/operations/";
const COMMON_TYPES = join(SPECS_ROOT, "common-types", "resource-management", "v6", "types.json");

export async function startArmFake(opts: ArmFakeOptions): Promise<ArmFake> {
  // common-types is always loaded: the operation-status monitor's answers are checked against it.
  const catalog = new SwaggerCatalog([
    ...opts.specs.map((s) => (s.startsWith("/") ? s : join(SPECS_ROOT, s))),
    COMMON_TYPES,
  ]);
  for (const id of Object.keys(opts.routes)) {
    if (!catalog.byId(id)) throw new Error(`startArmFake: no operation "${id}" in the given specs`);
  }
  const tls = opts.http ? undefined : await selfSignedCertificate();
  const requests: RecordedArmRequest[] = [];
  const mismatches: string[] = [];
  const failures: Array<InjectedFailure & { remaining: number }> = [];
  const operations = new Map<string, Operation>();
  let baseUrl = "";

  let startedBy: SwaggerOperation | undefined;
  const ctx: ArmContext = {
    get url() {
      return baseUrl;
    },
    error: armError,
    ifMatch(req, current) {
      const wanted = req.headers["if-match"];
      if (!wanted || wanted === "*" || (current !== undefined && wanted === current)) return undefined;
      return armError(
        412,
        "PreconditionFailed",
        `Operation failed as the precondition of the request was not met: If-Match ${wanted} does not match the current etag ${current ?? "(none)"}.`,
      );
    },
    longRunning(lro = {}) {
      const op: Operation = {
        id: randomUUID(),
        spec: startedBy,
        remaining: lro.polls ?? 1,
        outcome: lro.outcome ?? "Succeeded",
        opts: lro,
        started: new Date().toISOString(),
      };
      operations.set(op.id, op);
      const retry = String(lro.retryAfter ?? 0);
      return {
        status: lro.status ?? 202,
        ...(lro.body !== undefined ? { body: lro.body } : {}),
        headers: {
          "azure-asyncoperation": `${baseUrl}${OPERATIONS_PREFIX}${op.id}`,
          location: `${baseUrl}${OPERATIONS_PREFIX}${op.id}/result`,
          "retry-after": retry,
        },
      };
    },
  };

  const advance = (op: Operation): void => {
    if (op.ended) return;
    if (op.remaining > 0) {
      op.remaining--;
      return;
    }
    op.ended = new Date().toISOString();
    op.opts.onDone?.(op.outcome);
  };

  const operationReply = (path: string): ArmReply => {
    const [id, tail] = path.slice(OPERATIONS_PREFIX.length).split("/");
    const op = operations.get(id ?? "");
    if (!op) return armError(404, "OperationNotFound", `The operation ${id} was not found.`);
    if (tail === "result") {
      if (!op.ended) return { status: 202, headers: { "retry-after": String(op.opts.retryAfter ?? 0) } };
      if (op.outcome !== "Succeeded")
        return armError(400, op.opts.error?.code ?? op.outcome, op.opts.error?.message ?? op.outcome);
      const result = op.opts.result?.();
      if (result !== undefined && op.spec)
        mismatches.push(...catalog.validateResponse(op.spec, 200, result).map((e) => `final result: ${e}`));
      return result === undefined ? { status: 204 } : { status: 200, body: result };
    }
    advance(op);
    const status = op.ended ? op.outcome : "InProgress";
    const body = {
      id: `${OPERATIONS_PREFIX}${op.id}`,
      name: op.id,
      status,
      startTime: op.started,
      ...(op.ended ? { endTime: op.ended } : {}),
      ...(op.ended && op.outcome === "Failed" && op.opts.error ? { error: op.opts.error } : {}),
    };
    mismatches.push(
      ...catalog
        .validateDefinition(COMMON_TYPES, "OperationStatusResult", body)
        .map((e) => `operation status ${op.id}: ${e}`),
    );
    return {
      status: 200,
      headers: op.ended ? {} : { "retry-after": String(op.opts.retryAfter ?? 0) },
      body,
    };
  };

  const handle = async (
    incoming: IncomingMessage,
    rawBody: string,
  ): Promise<{ reply: ArmReply; rec: Omit<RecordedArmRequest, "status"> }> => {
    const url = new URL(incoming.url ?? "/", "https://fake");
    const method = incoming.method ?? "GET";
    const query = Object.fromEntries(url.searchParams);
    const body = parseBody(rawBody, incoming.headers["content-type"]);
    const base = { method, path: url.pathname, query, body, injected: false };
    if (url.pathname.startsWith(OPERATIONS_PREFIX)) {
      return { reply: operationReply(url.pathname), rec: { ...base, operationId: "(operation status)" } };
    }
    const match: MatchedOperation | undefined = catalog.find(method, url.pathname);
    if (!match) {
      const why = `${method} ${url.pathname}: no operation in the specs has this method and path`;
      mismatches.push(why);
      return { reply: armError(404, "FakeNoSuchOperation", why), rec: { ...base, operationId: "(none)" } };
    }
    const operationId = match.op.operationId;
    const failure = failures.find(
      (f) =>
        f.remaining > 0 &&
        (f.operationId
          ? f.operationId.toLowerCase() === operationId.toLowerCase()
          : f.path === undefined ||
            (typeof f.path === "string" ? url.pathname.includes(f.path) : f.path.test(url.pathname))),
    );
    if (failure) {
      failure.remaining--;
      const reply = armError(
        failure.status,
        failure.code ?? (failure.status === 429 ? "TooManyRequests" : "InjectedFailure"),
        failure.message ?? `injected HTTP ${failure.status}`,
      );
      if (failure.retryAfter !== undefined) reply.headers = { "retry-after": String(failure.retryAfter) };
      mismatches.push(...catalog.validateResponse(match.op, reply.status, reply.body));
      return { reply, rec: { ...base, operationId, injected: true } };
    }
    const isForm = (incoming.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const problems = catalog.validateRequest(match, {
      query,
      headers: incoming.headers,
      ...(isForm ? { form: body as Record<string, string> } : { body }),
    });
    if (problems.length) {
      mismatches.push(...problems);
      return {
        reply: armError(400, "FakeSpecMismatch", problems.join("; ")),
        rec: { ...base, operationId },
      };
    }
    const handler = Object.entries(opts.routes).find(
      ([id]) => id.toLowerCase() === operationId.toLowerCase(),
    )?.[1];
    if (!handler) {
      const why = `${operationId}: the spec declares it but the test gave no handler`;
      mismatches.push(why);
      return { reply: armError(501, "FakeNotImplemented", why), rec: { ...base, operationId } };
    }
    const req: ArmRequest = {
      method,
      path: url.pathname,
      query,
      headers: incoming.headers,
      body,
      rawBody,
      params: match.params,
      operationId,
    };
    // The handler's synchronous part (where it starts a long-running operation) knows its operation.
    startedBy = match.op;
    const pending = handler(req, ctx);
    startedBy = undefined;
    const reply = await pending;
    mismatches.push(...catalog.validateResponse(match.op, reply.status, reply.body));
    return { reply, rec: { ...base, operationId } };
  };

  const onRequest = (incoming: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    incoming.on("data", (c: Buffer) => chunks.push(c));
    incoming.on("end", () => {
      void (async () => {
        const delay = latency(opts.latencyMs);
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        let status = 500;
        try {
          const { reply, rec } = await handle(incoming, Buffer.concat(chunks).toString("utf8"));
          status = reply.status;
          requests.push({ ...rec, status });
          const payload = reply.body === undefined ? "" : JSON.stringify(reply.body);
          res.writeHead(reply.status, {
            ...(payload ? { "content-type": "application/json; charset=utf-8" } : {}),
            "x-ms-request-id": randomUUID(),
            ...reply.headers,
          });
          res.end(payload);
        } catch (err) {
          mismatches.push(`handler error: ${(err as Error).stack ?? String(err)}`);
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { code: "FakeHandlerError", message: String(err) } }));
        }
      })();
    });
  };

  const server = tls
    ? createServer({ cert: tls.cert, key: tls.key }, onRequest)
    : createHttpServer(onRequest);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const caDir = mkdtempSync(join(tmpdir(), "arm-fake-"));
  const caFile = join(caDir, "ca.pem");
  writeFileSync(caFile, tls?.cert ?? "");

  return {
    url: baseUrl,
    ca: tls?.cert ?? "",
    caFile,
    catalog,
    requests,
    mismatches,
    inject(failure) {
      failures.push({ ...failure, remaining: failure.times ?? 1 });
    },
    count(operationId) {
      return requests.filter((r) => r.operationId.toLowerCase() === operationId.toLowerCase()).length;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

/** ARM's error payload (common-types ErrorResponse: {error: {code, message, details?}}). */
export function armError(status: number, code: string, message: string, details?: unknown[]): ArmReply {
  return { status, body: { error: { code, message, ...(details ? { details } : {}) } } };
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (!raw) return undefined;
  if ((contentType ?? "").startsWith("application/x-www-form-urlencoded"))
    return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function latency(l: ArmFakeOptions["latencyMs"]): number {
  if (l === undefined) return 0;
  if (typeof l === "number") return l;
  return l[0] + Math.random() * (l[1] - l[0]);
}

export type { MatchedOperation };

// `platform canary serve`: the gate behind HTTP, with a door for Flagger webhooks (serve/flagger.ts) and one
// for the Argo Rollouts web metric provider (serve/argo.ts); both judge through serve/judge.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { errorMessage, isPlatformError, PlatformError } from "@platform/core";
import { argoDoor } from "./serve/argo.ts";
import { FLAGGER_PATHS, flaggerDoor } from "./serve/flagger.ts";
import { methodNotAllowed, send } from "./serve/http.ts";
import { createJudge, type DoorContext, type JudgeOptions } from "./serve/judge.ts";

// Required when a server starts, not imported: the ESM namespace of node:http reads every export, undici's
// WebSocket among them, and the CLI links this module for `canary serve` on every command's start-up.
const nodeRequire = createRequire(import.meta.url);

export interface CanaryServerOptions extends JudgeOptions {
  /** TCP port (default 8080; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default 127.0.0.1; in a pod, 0.0.0.0). */
  host?: string;
  /** Largest request body (default 1 MiB); larger ones get 413. */
  maxBodyBytes?: number;
}

export interface CanaryServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts `platform canary serve` (resolves once it listens): the gate's engine behind HTTP, so a
 * cluster running Flagger or Argo Rollouts gets the canary-vs-primary sequential test without
 * replacing its controller.
 *
 * Endpoints: `/flagger…` (one path per Flagger hook: serve/flagger.ts), `/argo` (the Argo Rollouts web
 * metric provider: serve/argo.ts), `/healthz`.
 *
 * `CANARY_SERVE_MARKDOWN` has the whole story: the status of every decision on every hook and why,
 * and the Canary, AnalysisTemplate and Rollout snippets.
 */
export async function startCanaryServer(opts: CanaryServerOptions): Promise<CanaryServer> {
  const log = opts.log;
  const doors: DoorContext = { judge: createJudge(opts), log, maxBody: opts.maxBodyBytes ?? 1024 * 1024 };

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
      return flaggerDoor(doors, req, res, hook, url.searchParams);
    }
    if (path === "/argo") {
      if (method !== "GET" && method !== "POST" && method !== "PUT") {
        req.resume();
        return methodNotAllowed(res, "GET, POST, PUT");
      }
      return argoDoor(doors, req, res, url.searchParams);
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

  const { createServer } = nodeRequire("node:http") as typeof import("node:http");
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

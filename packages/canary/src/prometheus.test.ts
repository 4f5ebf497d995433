import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { memoryLogger, PlatformError } from "@platform/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AZURE_MONITOR_PROMETHEUS_SCOPE, createPrometheusClient, parseSampleValue } from "./prometheus.ts";

type Answer = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, _body, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

let server: Server;
let base: string;
let script: Answer[];
let seen: Array<{ path: string; form: Record<string, string>; auth?: string; type?: string }>;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({
        path: req.url ?? "",
        form: Object.fromEntries(new URLSearchParams(body)),
        auth: req.headers.authorization,
        type: req.headers["content-type"],
      });
      (script.shift() ?? json(500, { status: "error", errorType: "internal", error: "script empty" }))(
        req,
        body,
        res,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const noSleep = { sleep: async () => {}, random: () => 0 };
function client(auth?: Parameters<typeof createPrometheusClient>[0]["auth"], log = memoryLogger()) {
  seen = [];
  return createPrometheusClient({ url: `${base}/api/v1`, auth, log, retry: noSleep });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PlatformError) return err.code;
    throw err;
  }
  return "no error";
}

describe("Prometheus client against a fake HTTP API", () => {
  it("POSTs an instant query as a form and parses a vector with NaN and ±Inf", async () => {
    script = [
      json(200, {
        status: "success",
        data: {
          resultType: "vector",
          result: [
            { metric: { destination_workload: "podinfo" }, value: [1700000000.5, "12"] },
            { metric: { destination_workload: "podinfo-primary" }, value: [1700000000.5, "NaN"] },
            { metric: { le: "+Inf" }, value: [1700000000.5, "+Inf"] },
            { metric: { x: "y" }, value: [1700000000.5, "-Inf"] },
          ],
        },
        warnings: ["PromQL info: metric might not be a counter"],
      }),
    ];
    const c = client();
    const r = await c.query("up", { time: new Date(1_700_000_000_500) });
    expect(seen[0]).toMatchObject({
      path: "/api/v1/query",
      form: { query: "up", time: "1700000000.5", timeout: "30s" },
      type: "application/x-www-form-urlencoded",
    });
    expect(r.data.resultType).toBe("vector");
    if (r.data.resultType !== "vector") return;
    expect(r.data.result.map((s) => s.v)).toEqual([
      12,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(r.data.result[0]).toEqual({
      labels: { destination_workload: "podinfo" },
      t: 1_700_000_000_500,
      v: 12,
    });
    expect(r.warnings).toEqual(["PromQL info: metric might not be a counter"]);
  });

  it("tells an empty result apart from NaN", async () => {
    script = [json(200, { status: "success", data: { resultType: "vector", result: [] } })];
    const r = await client().query("absent_metric");
    expect(r.data).toEqual({ resultType: "vector", result: [] });
  });

  it("runs range queries and parses matrices and scalars", async () => {
    script = [
      json(200, {
        status: "success",
        data: {
          resultType: "matrix",
          result: [
            {
              metric: { a: "b" },
              values: [
                [1700000000, "1"],
                [1700000060, "NaN"],
              ],
            },
          ],
        },
      }),
      json(200, { status: "success", data: { resultType: "scalar", result: [1700000000, "3.5"] } }),
    ];
    const c = client();
    const r = await c.queryRange("rate(x[1m])", {
      start: 1_700_000_000_000,
      end: 1_700_000_060_000,
      stepSeconds: 60,
    });
    expect(seen[0]?.path).toBe("/api/v1/query_range");
    expect(seen[0]?.form).toMatchObject({ start: "1700000000", end: "1700000060", step: "60" });
    expect(r.data).toEqual({
      resultType: "matrix",
      result: [
        {
          labels: { a: "b" },
          points: [
            { t: 1_700_000_000_000, v: 1 },
            { t: 1_700_000_060_000, v: Number.NaN },
          ],
        },
      ],
    });
    const s = await c.query("scalar(1)");
    expect(s.data).toEqual({ resultType: "scalar", result: { t: 1_700_000_000_000, v: 3.5 } });
  });

  it("maps 400 bad_data, 422 execution and 503 to PlatformErrors with hints", async () => {
    script = [json(400, { status: "error", errorType: "bad_data", error: 'parse error: unexpected "}"' })];
    const c = client();
    const err = await c.query("sum(").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect((err as PlatformError).code).toBe("PROM_BAD_QUERY");
    expect((err as PlatformError).message).toContain("parse error");
    expect((err as PlatformError).hint).toContain("sum(");
    expect((err as PlatformError).category).toBe("usage");

    script = [
      json(422, {
        status: "error",
        errorType: "execution",
        error: "query processing would load too many samples",
      }),
    ];
    expect(await codeOf(c.query("x"))).toBe("PROM_EXECUTION");

    // 503 is retried (5 attempts by default), then reported.
    script = Array.from({ length: 5 }, () =>
      json(503, { status: "error", errorType: "unavailable", error: "starting" }),
    );
    seen = [];
    expect(await codeOf(c.query("x"))).toBe("PROM_UNAVAILABLE");
    expect(seen).toHaveLength(5);
  });

  it("retries 429 and 502 and then succeeds", async () => {
    script = [
      json(
        429,
        { status: "error", errorType: "too_many_requests", error: "throttled" },
        { "retry-after": "0" },
      ),
      json(502, {}),
      json(200, { status: "success", data: { resultType: "vector", result: [] } }),
    ];
    const c = client();
    await c.query("up");
    expect(seen).toHaveLength(3);
  });

  it("explains a non-JSON proxy page and a 404", async () => {
    script = [
      (_q, _b, res) => {
        res.writeHead(404, { "content-type": "text/html" });
        res.end("<html>not here</html>");
      },
      (_q, _b, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>login</html>");
      },
    ];
    const c = client();
    expect(await codeOf(c.query("up"))).toBe("PROM_NOT_FOUND");
    expect(await codeOf(c.query("up"))).toBe("PROM_BAD_RESPONSE");
  });

  it("sends a managed-Prometheus bearer token, caches it, masks it, and refreshes once on 401", async () => {
    const scopes: string[] = [];
    let n = 0;
    const credential = {
      async getToken(scope: string | string[]) {
        scopes.push(String(scope));
        n++;
        return { token: `token-number-${n}-secret`, expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const log = memoryLogger();
    const c = client({ type: "azure", credential }, log);
    const ok = json(200, { status: "success", data: { resultType: "vector", result: [] } });
    script = [ok, ok, json(401, { status: "error", errorType: "unauthorized", error: "expired" }), ok];
    await c.query("up");
    await c.query("up");
    await c.query("up");
    expect(scopes).toEqual([AZURE_MONITOR_PROMETHEUS_SCOPE, AZURE_MONITOR_PROMETHEUS_SCOPE]);
    expect(seen.map((s) => s.auth)).toEqual([
      "Bearer token-number-1-secret",
      "Bearer token-number-1-secret",
      "Bearer token-number-1-secret",
      "Bearer token-number-2-secret",
    ]);
    expect(log.masker.mask("x token-number-2-secret y")).toBe("x *** y");
  });

  it("shares one token request between concurrent queries", async () => {
    let calls = 0;
    const credential = {
      async getToken() {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        return { token: "shared-token-value", expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const ok = json(200, { status: "success", data: { resultType: "vector", result: [] } });
    script = [ok, ok, ok];
    const c = client({ type: "azure", credential });
    await Promise.all([c.query("a"), c.query("b"), c.query("c")]);
    expect(calls).toBe(1);
    expect(seen.map((s) => s.auth)).toEqual(Array(3).fill("Bearer shared-token-value"));
  });

  it("reports 403 with the role to grant", async () => {
    script = [json(403, { status: "error", errorType: "forbidden", error: "denied" })];
    const err = await client({ type: "bearer", token: "abcdefgh" })
      .query("up")
      .catch((e: unknown) => e as PlatformError);
    expect((err as PlatformError).code).toBe("PROM_FORBIDDEN");
    expect((err as PlatformError).hint).toContain("Monitoring Data Reader");
  });

  it("rejects bad URLs and values", () => {
    expect(() => createPrometheusClient({ url: "ftp://x" })).toThrow(PlatformError);
    expect(() => createPrometheusClient({ url: "https://u:p@x" })).toThrow(PlatformError);
    expect(createPrometheusClient({ url: "https://x.example/prom/api/v1/query/" }).url).toBe(
      "https://x.example/prom",
    );
    expect(() => parseSampleValue("abc")).toThrow(PlatformError);
    expect(() => parseSampleValue(3)).toThrow(PlatformError);
    expect(parseSampleValue("1e3")).toBe(1000);
  });
});

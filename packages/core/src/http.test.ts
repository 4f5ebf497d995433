import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlatformError } from "./errors.ts";
import { backoffDelay, fetchWithRetry, parseRetryAfter, redactUrl } from "./http.ts";
import { memoryLogger } from "./log.ts";

/** One scripted answer of the fault-injecting server. */
type Fault = (req: IncomingMessage, res: ServerResponse) => void;

const reply =
  (status: number, headers: Record<string, string> = {}, body = `status ${status}`): Fault =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "text/plain", ...headers });
    res.end(body);
  };
/** Drops the connection without an HTTP response, as a crashing proxy does. */
const reset: Fault = (req) => {
  req.socket.destroy();
};
/** Never answers (the request hangs until the client gives up). */
const hang: Fault = () => {};

let server: Server;
let base: string;
let script: Fault[];
let hits: Array<{ method: string; url: string; body: string }>;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hits.push({ method: req.method ?? "", url: req.url ?? "", body: Buffer.concat(chunks).toString() });
      (script.shift() ?? reply(200, {}, "ok"))(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function setup(...faults: Fault[]) {
  script = [...faults];
  hits = [];
  const waits: number[] = [];
  // Waits are recorded, not slept, so a Retry-After of minutes costs nothing.
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  return { waits, sleep };
}

describe("fetchWithRetry against a fault-injecting server", () => {
  it("returns a 200 at once, without waiting", async () => {
    const { waits, sleep } = setup(reply(200, {}, "hello"));
    const res = await fetchWithRetry(`${base}/ok`, {}, { sleep });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello");
    expect(hits).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("retries a 429 after the Retry-After seconds", async () => {
    const { waits, sleep } = setup(reply(429, { "retry-after": "7" }), reply(200));
    const res = await fetchWithRetry(`${base}/limited`, {}, { sleep, random: () => 0 });
    expect(res.status).toBe(200);
    expect(hits).toHaveLength(2);
    expect(waits).toEqual([7000]);
  });

  it("retries a 429 after the Retry-After HTTP-date", async () => {
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    const { waits, sleep } = setup(
      reply(429, { "retry-after": "Wed, 21 Oct 2015 07:28:12 GMT" }),
      reply(200),
    );
    const res = await fetchWithRetry(`${base}/limited`, {}, { sleep, now: () => now, random: () => 0 });
    expect(res.status).toBe(200);
    expect(waits).toEqual([12_000]);
  });

  it("retries a 429 with an HTTP-date Retry-After using the real clock", async () => {
    const at = new Date(Math.ceil((Date.now() + 5000) / 1000) * 1000);
    const { waits, sleep } = setup(reply(429, { "retry-after": at.toUTCString() }), reply(200));
    const started = Date.now();
    const res = await fetchWithRetry(`${base}/limited`, {}, { sleep });
    expect(res.status).toBe(200);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(3000);
    expect(waits[0]).toBeLessThanOrEqual(at.getTime() - started);
  });

  it("retries a 503 with jittered backoff, then returns the 200", async () => {
    const { waits, sleep } = setup(reply(503), reply(503), reply(200, {}, "finally"));
    const res = await fetchWithRetry(`${base}/flaky`, {}, { sleep, baseDelayMs: 100, random: () => 0.5 });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("finally");
    expect(hits).toHaveLength(3);
    // full jitter: random · base · 2^attempt
    expect(waits).toEqual([50, 100]);
  });

  it("honours Retry-After on a 503 too", async () => {
    const { waits, sleep } = setup(reply(503, { "retry-after": "3" }), reply(200));
    await fetchWithRetry(`${base}/x`, {}, { sleep, random: () => 0.99 });
    expect(waits).toEqual([3000]);
  });

  it.each([502, 504])("retries a %i for GET", async (status) => {
    const { waits, sleep } = setup(reply(status), reply(200));
    const res = await fetchWithRetry(`${base}/gw`, {}, { sleep });
    expect(res.status).toBe(200);
    expect(hits.map((h) => h.method)).toEqual(["GET", "GET"]);
    expect(waits).toHaveLength(1);
  });

  it.each([502, 504])("does not retry a %i for POST (the server may have acted)", async (status) => {
    const { waits, sleep } = setup(reply(status), reply(200));
    const res = await fetchWithRetry(`${base}/gw`, { method: "POST", body: "x" }, { sleep });
    expect(res.status).toBe(status);
    expect(hits).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it.each([502, 504])("retries a %i for POST marked idempotent", async (status) => {
    const { sleep } = setup(reply(status), reply(200));
    const res = await fetchWithRetry(
      `${base}/gw`,
      { method: "POST", body: "x" },
      { sleep, idempotent: true },
    );
    expect(res.status).toBe(200);
    expect(hits).toHaveLength(2);
  });

  it("retries a 502 for PUT and DELETE (idempotent methods)", async () => {
    for (const method of ["PUT", "DELETE"]) {
      const { sleep } = setup(reply(502), reply(200));
      const res = await fetchWithRetry(`${base}/r`, { method }, { sleep });
      expect(res.status, method).toBe(200);
      expect(hits.map((h) => h.method)).toEqual([method, method]);
    }
  });

  it("does not retry a 502 for GET when told the request is not idempotent", async () => {
    const { sleep } = setup(reply(502), reply(200));
    const res = await fetchWithRetry(`${base}/gw`, {}, { sleep, idempotent: false });
    expect(res.status).toBe(502);
    expect(hits).toHaveLength(1);
  });

  it("retries a 429 for POST (refused before acting) and sends the body again", async () => {
    const { sleep } = setup(reply(429, { "retry-after": "1" }), reply(201));
    const res = await fetchWithRetry(`${base}/create`, { method: "POST", body: "payload" }, { sleep });
    expect(res.status).toBe(201);
    expect(hits).toEqual([
      { method: "POST", url: "/create", body: "payload" },
      { method: "POST", url: "/create", body: "payload" },
    ]);
  });

  it.each([400, 401, 403, 404, 409, 500, 501])("does not retry a %i", async (status) => {
    const { waits, sleep } = setup(reply(status), reply(200));
    const res = await fetchWithRetry(`${base}/x`, {}, { sleep });
    expect(res.status).toBe(status);
    expect(hits).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("retries a GET whose connection is reset", async () => {
    const { waits, sleep } = setup(reset, reply(200, {}, "recovered"));
    const res = await fetchWithRetry(`${base}/reset`, {}, { sleep, random: () => 0 });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("recovered");
    expect(hits).toHaveLength(2);
    expect(waits).toHaveLength(1);
  });

  it("does not retry a POST whose connection is reset; the error is an environment PlatformError", async () => {
    const { sleep } = setup(reset, reply(200));
    const err = await fetchWithRetry(`${base}/reset`, { method: "POST", body: "x" }, { sleep }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.code).toBe("HTTP_NETWORK");
    expect(err.category).toBe("environment");
    expect(err.message).toContain("1 attempt(s)");
    expect(err.cause).toBeDefined();
    expect(hits).toHaveLength(1);
  });

  it("retries a refused connection even for POST, and gives up after maxAttempts", async () => {
    // A port that was free a moment ago: nothing listens there, so every try is refused.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { waits, sleep } = setup();
    const err = await fetchWithRetry(
      `http://127.0.0.1:${port}/`,
      { method: "POST", body: "x" },
      { sleep, maxAttempts: 3 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.message).toContain("3 attempt(s)");
    expect(waits).toHaveLength(2);
  });

  it("stops at maxAttempts and returns the last response", async () => {
    const { waits, sleep } = setup(
      reply(503, {}, "first"),
      reply(503, {}, "second"),
      reply(503, {}, "third"),
      reply(200),
    );
    const res = await fetchWithRetry(`${base}/down`, {}, { sleep, maxAttempts: 3 });
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("third");
    expect(hits).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  it("throws after maxAttempts connection resets, keeping the cause", async () => {
    const { waits, sleep } = setup(reset, reset, reset, reply(200));
    const err = await fetchWithRetry(`${base}/reset`, {}, { sleep, maxAttempts: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.message).toContain("3 attempt(s)");
    expect(err.cause).toBeInstanceOf(Error);
    expect(hits).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  it("uses 5 attempts by default", async () => {
    const { sleep } = setup(...Array.from({ length: 10 }, () => reply(503)));
    const res = await fetchWithRetry(`${base}/down`, {}, { sleep });
    expect(res.status).toBe(503);
    expect(hits).toHaveLength(5);
  });

  it("does not sleep past the overall deadline (simulated clock)", async () => {
    let clock = 1_000_000;
    const { waits } = setup(...Array.from({ length: 50 }, () => reply(503)));
    const res = await fetchWithRetry(
      `${base}/down`,
      {},
      {
        maxAttempts: 50,
        deadlineMs: 10_000,
        baseDelayMs: 1000,
        random: () => 0.999,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
      },
    );
    expect(res.status).toBe(503);
    expect(hits.length).toBeLessThan(50);
    expect(hits.length).toBe(waits.length + 1);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThan(10_000);
  });

  it("returns the 429 at once when its Retry-After reaches past the deadline", async () => {
    const { waits, sleep } = setup(reply(429, { "retry-after": "20" }), reply(200));
    const res = await fetchWithRetry(`${base}/limited`, {}, { sleep, deadlineMs: 10_000 });
    expect(res.status).toBe(429);
    expect(hits).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("returns the 429 at once when its Retry-After exceeds the per-wait cap", async () => {
    const { waits, sleep } = setup(reply(429, { "retry-after": "3600" }), reply(200));
    const res = await fetchWithRetry(`${base}/limited`, {}, { sleep, maxDelayMs: 30_000 });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3600");
    expect(waits).toEqual([]);
  });

  it("gives up on a hanging server within the overall deadline, even with a long per-attempt timeout", async () => {
    setup(hang, hang, hang, hang, hang);
    const started = performance.now();
    const err = await fetchWithRetry(
      `${base}/hang`,
      {},
      { deadlineMs: 300, attemptTimeoutMs: 20_000, baseDelayMs: 10 },
    ).catch((e) => e);
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.category).toBe("environment");
    expect(elapsed).toBeLessThan(2000);
  });

  it("retries an attempt that timed out", async () => {
    const { sleep } = setup(hang, reply(200, {}, "second try"));
    const res = await fetchWithRetry(`${base}/slow`, {}, { sleep, attemptTimeoutMs: 100 });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("second try");
    expect(hits).toHaveLength(2);
  });

  it("does not retry when the caller aborts", async () => {
    const { waits, sleep } = setup(reply(200));
    const controller = new AbortController();
    controller.abort();
    const err = await fetchWithRetry(`${base}/x`, { signal: controller.signal }, { sleep }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("AbortError");
    expect(waits).toEqual([]);
  });

  it("logs retries with the query string redacted", async () => {
    const { sleep } = setup(reply(503), reply(200));
    const log = memoryLogger();
    await fetchWithRetry(`${base}/blob?sig=SAS-SECRET&se=2030`, {}, { sleep, log });
    const debug = log.lines.filter((l) => l.level === "debug").map((l) => l.line);
    expect(debug).toHaveLength(1);
    expect(debug[0]).toContain("/blob");
    expect(debug[0]).toContain("HTTP 503");
    expect(debug[0]).not.toContain("SAS-SECRET");
    expect(hits[0]!.url).toBe("/blob?sig=SAS-SECRET&se=2030");
  });

  it("keeps the query string out of the network error message", async () => {
    const { sleep } = setup(reset);
    const err = await fetchWithRetry(`${base}/x?token=abc123`, { method: "POST" }, { sleep }).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.message).not.toContain("abc123");
  });
});

describe("backoffDelay", () => {
  it("stays within [0, min(max, base·2^attempt)) for any random value", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(30_000, 500 * 2 ** attempt);
      expect(backoffDelay(attempt, 500, 30_000, () => 0)).toBe(0);
      const top = backoffDelay(attempt, 500, 30_000, () => 0.999_999);
      expect(top).toBeLessThan(cap);
      expect(top).toBeGreaterThanOrEqual(cap - 1);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, 500, 30_000, Math.random);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(cap);
        expect(Number.isInteger(d)).toBe(true);
      }
    }
  });

  it("doubles the upper bound each attempt until the cap", () => {
    const half = (attempt: number) => backoffDelay(attempt, 100, 1000, () => 0.5);
    expect([0, 1, 2, 3, 4, 5, 40].map(half)).toEqual([50, 100, 200, 400, 500, 500, 500]);
  });

  it("is jittered: different random values give different waits", () => {
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 500, 30_000, Math.random)));
    expect(samples.size).toBeGreaterThan(10);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 3 ", now)).toBe(3000);
    expect(parseRetryAfter("0", now)).toBe(0);
  });

  it("reads an HTTP-date relative to now, never negative", () => {
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now)).toBe(0);
  });

  it("reads the obsolete HTTP-date forms too", () => {
    expect(parseRetryAfter("Wednesday, 21-Oct-15 07:28:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed Oct 21 07:28:05 2015", now)).toBeDefined();
  });

  it.each([null, undefined, "", "   ", "soon", "1.5", "-1", "+5", "5s"])("treats %j as absent", (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe("redactUrl", () => {
  it("drops the query string, the fragment and userinfo", () => {
    expect(redactUrl("https://acct.blob.core.windows.net/c/b?sv=2024&sig=SECRET#frag")).toBe(
      "https://acct.blob.core.windows.net/c/b",
    );
    expect(redactUrl("https://user:pass@example.com:8443/p?q=1")).toBe("https://example.com:8443/p");
  });

  it("accepts a URL object and keeps the path", () => {
    expect(redactUrl(new URL("http://127.0.0.1:5000/v2/repo/manifests/sha256:abc?x=y"))).toBe(
      "http://127.0.0.1:5000/v2/repo/manifests/sha256:abc",
    );
  });

  it("never echoes an invalid URL (it could be a secret)", () => {
    expect(redactUrl("not a url with token=abc")).toBe("<invalid url>");
  });
});

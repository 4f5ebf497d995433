import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PeerName, requirePeers } from "../peers/index.ts";
import { startServer } from "./server-process.ts";

export type RegistryKind = "olareg" | "distribution";

export interface RunningRegistry {
  /** `127.0.0.1:<port>` (or `[::1]:<port>`): the registry part of an image reference. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  kind: RegistryKind;
  /** Whether the registry serves `GET /v2/<name>/referrers/<digest>` (proved at start-up). */
  referrersApi: boolean;
  /** Storage directory (docker-registry) or undefined (olareg keeps content in memory). */
  dataDir?: string;
  /** Everything the registry printed so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface RegistryTokenAuth {
  /** Token endpoint the Bearer challenge names. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate whose key signs the tokens (the registry's `rootcertbundle`). */
  certificatePem: string;
}

export interface StartRegistryOptions {
  /** docker-registry only: require Bearer tokens from this token service. */
  auth?: RegistryTokenAuth;
  /** olareg only: listen on IPv6 loopback (`[::1]:<port>`) instead of 127.0.0.1. */
  ipv6?: boolean;
  /** olareg only: keep content on disk (in the registry's temp dir) instead of memory — for big pushes. */
  storage?: "mem" | "dir";
}

const PEER: Record<RegistryKind, PeerName> = { olareg: "olareg", distribution: "docker-registry" };

/** The peer check for a registry kind (skips locally, fails with CI=true when missing). */
export function requireRegistry(kind: RegistryKind): { ok: boolean; reason: string } {
  const { ok, reason } = requirePeers(PEER[kind]);
  return { ok, reason };
}

/** Starts a registry of `kind` on a free loopback port; resolves once `/v2/` answers. */
export async function startRegistry(
  kind: RegistryKind,
  opts: StartRegistryOptions = {},
): Promise<RunningRegistry> {
  const { paths } = requirePeers(PEER[kind]);
  const bin = paths[PEER[kind]]!;
  const dir = await mkdtemp(join(tmpdir(), `registry-${kind}-`));
  const ipv6 = kind === "olareg" && opts.ipv6 === true;
  const hostOf = (port: number) => (ipv6 ? `[::1]:${port}` : `127.0.0.1:${port}`);
  const server = await startServer({
    workDir: dir,
    name: kind === "olareg" ? "olareg" : "docker-registry",
    address: ipv6 ? "::1" : "127.0.0.1",
    timeoutMs: 30_000,
    command: async (port) => {
      if (kind === "olareg") {
        if (opts.auth) throw new Error("olareg has no token auth; use kind 'distribution' for auth tests");
        const args = ["serve", "--addr", ipv6 ? "[::1]" : "127.0.0.1", "--port", String(port)];
        args.push("--store-type", opts.storage ?? "mem", "--dir", join(dir, "data"));
        return { bin, args: [...args, "--api-delete", "--gc-frequency", "-1s", "-v", "warn"] };
      }
      const config = join(dir, `config-${port}.yml`);
      await writeFile(config, distributionConfig(join(dir, "data"), hostOf(port), dir, opts.auth));
      if (opts.auth) await writeFile(join(dir, "token-cert.pem"), opts.auth.certificatePem);
      return { bin, args: ["serve", config] };
    },
    ready: async (port) => {
      const r = await fetch(`http://${hostOf(port)}/v2/`, { signal: AbortSignal.timeout(2000) });
      await r.body?.cancel();
      return r.ok || (!!opts.auth && r.status === 401);
    },
  });
  const host = hostOf(server.port);
  const url = `http://${host}`;
  const referrersApi = await probeReferrers(url, !!opts.auth);
  if (kind === "olareg" && !referrersApi) {
    await server.stop();
    throw new Error(`olareg at ${url} did not answer the referrers API with an image index`);
  }
  if (kind === "distribution" && referrersApi) {
    await server.stop();
    throw new Error(`docker-registry at ${url} unexpectedly answered the referrers API`);
  }
  return {
    host,
    url,
    kind,
    referrersApi,
    dataDir: kind === "distribution" || opts.storage === "dir" ? join(dir, "data") : undefined,
    log: server.output,
    stop: server.stop,
  };
}

function distributionConfig(data: string, addr: string, dir: string, auth?: RegistryTokenAuth): string {
  const lines = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(data)}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: ${addr}`,
    // A fixed secret silences the warning and keeps upload state valid across requests.
    "  secret: itg-test-secret",
  ];
  if (auth) {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${JSON.stringify(auth.realm)}`,
      `    service: ${JSON.stringify(auth.service)}`,
      `    issuer: ${JSON.stringify(auth.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(join(dir, "token-cert.pem"))}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const ZERO_DIGEST = `sha256:${"0".repeat(64)}`;

/** Whether `GET /v2/<repo>/referrers/<zero digest>` answers 200 with an OCI image index. */
async function probeReferrers(url: string, auth: boolean): Promise<boolean> {
  if (auth) return false;
  const r = await fetch(`${url}/v2/probe/referrers/${ZERO_DIGEST}`, { signal: AbortSignal.timeout(5000) });
  const text = await r.text();
  if (r.status !== 200) return false;
  if (!r.headers.get("content-type")?.startsWith("application/vnd.oci.image.index.v1+json")) return false;
  try {
    const body = JSON.parse(text) as { schemaVersion?: number; mediaType?: string };
    return body.schemaVersion === 2 && body.mediaType === "application/vnd.oci.image.index.v1+json";
  } catch {
    return false;
  }
}

export interface CountingProxy {
  /** `127.0.0.1:<port>`: use it as the registry host; every request is forwarded to the registry. */
  host: string;
  counts: { total: number; byMethod: Record<string, number> };
  reset(): void;
  /** Runs `fn` with fresh counts: its wall time and the requests it sent, by method. */
  measure(
    fn: () => Promise<unknown>,
  ): Promise<{ ms: number; requests: number; byMethod: Record<string, number> }>;
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of a registry that counts the requests passing through, by method — so a
 * benchmark counts our client's and a peer tool's requests the same way.
 */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const counts = { total: 0, byMethod: {} as Record<string, number> };
  const colon = target.lastIndexOf(":");
  const [host, port] = [target.slice(0, colon), Number(target.slice(colon + 1))];
  const server = createHttpServer((req, res) => {
    counts.total++;
    const m = req.method ?? "GET";
    counts.byMethod[m] = (counts.byMethod[m] ?? 0) + 1;
    const up = httpRequest({ host, port, path: req.url, method: m, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const reset = () => {
    counts.total = 0;
    counts.byMethod = {};
  };
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    counts,
    reset,
    async measure(fn) {
      reset();
      const t0 = performance.now();
      await fn();
      return {
        ms: Math.round(performance.now() - t0),
        requests: counts.total,
        byMethod: { ...counts.byMethod },
      };
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

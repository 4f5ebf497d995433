// A real Kubernetes API server (kube-apiserver + etcd, the pinned peers) for tests that need the cluster's own
// verdict: admission (ValidatingAdmissionPolicy, Pod Security Admission), decoding, served API versions.
//
// Usage in a test file (the itg project's globalSetup starts ONE server for the whole run when any
// test/**/apiserver* file is selected; otherwise useApiServer() starts one for this file, ~25 s):
//
//   const kas = await useApiServer();           // top level of the file; CI=true: a missing peer throws
//   describe.skipIf(!kas.ok)("…", () => {
//     const k = kas.client!;
//     beforeAll(() => k.namespace("mytest-psa", { "pod-security.kubernetes.io/enforce": "restricted" }));
//     it("…", async () => {
//       const r = await k.create(pod, { namespace: "mytest-psa", dryRun: true });
//       expect(r.status).toBe(403); expect(r.message).toContain("violates PodSecurity");
//     });
//   });
//
// The server is shared by every file of the run, so keep out of each other's way: prefix namespaces and
// cluster-scoped names with your file's name, scope a policy binding to your namespaces (namespaceSelector)
// and delete cluster-scoped objects (policies, bindings, CRDs) in afterAll. After creating a policy, call
// waitForPolicyActive(badObject) before judging a corpus: the server's policy informer takes a second or two.
// No controller-manager runs, so namespace() also creates the "default" ServiceAccount pods need, and a
// deleted namespace stays Terminating for good (use fresh names rather than delete and re-create).
import "reflect-metadata";
import { generateKeyPairSync, randomBytes, webcrypto } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { requirePeers } from "../peers/index.ts";
import { freePort, type ServerProcess, startServer } from "./server-process.ts";

x509.cryptoProvider.set(webcrypto as never);

/** What a client needs to reach a running server (passed from globalSetup to the test files). */
export interface ApiServerConnection {
  url: string;
  token: string;
  /** PEM of the CA that issued the server's serving certificate: the client verifies TLS against it. */
  ca: string;
}

export interface ApiServer extends ApiServerConnection {
  client: KubeClient;
  /** The tail of kube-apiserver's log (for failure messages). */
  output: () => string;
  stop: () => Promise<void>;
}

// Fixed in the vitest context by the itg project's globalSetup (test/harness/apiserver-global-setup.ts).
declare module "vitest" {
  export interface ProvidedContext {
    kubeApiServer: ApiServerConnection | { unavailable: string } | null;
  }
}

/** A Kubernetes object as sent to the server. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
};

/** An object reference (for get/delete). */
export interface KubeRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface WriteOptions {
  /** `?dryRun=All`: admission runs in full, nothing is stored. */
  dryRun?: boolean;
  fieldValidation?: "Strict" | "Warn" | "Ignore";
  /** Namespace for a namespaced kind; defaults to metadata.namespace, then "default". */
  namespace?: string;
  /** Server-side apply's field manager (default "platform-test"). */
  fieldManager?: string;
}

/** The server's answer to one request. */
export interface KubeResult {
  status: number;
  /** 2xx. */
  allowed: boolean;
  /** The Status object's message on a refusal (or the raw body when the answer is not JSON); "" when allowed. */
  message: string;
  /** Each Warning header's text (admission warnings, VAP `Warn` actions, unknown fields with Warn). */
  warnings: string[];
  // biome-ignore lint/suspicious/noExplicitAny: the response is whatever the server sent
  body: any;
}

interface ResourceInfo {
  name: string;
  namespaced: boolean;
}

/** The API groups and versions the server serves (`/api`, `/apis`). */
export interface Discovery {
  /** "v1", "apps/v1", "admissionregistration.k8s.io/v1", … */
  groupVersions: string[];
  /** Preferred version per group ("" for the core group). */
  preferred: Record<string, string>;
}

/** A small REST client for the test API server: every call answers with the server's status, never throws on 4xx. */
export class KubeClient {
  readonly conn: ApiServerConnection;
  readonly #agent: Agent;
  readonly #resources = new Map<string, Promise<Map<string, ResourceInfo> | undefined>>();

  constructor(conn: ApiServerConnection) {
    this.conn = conn;
    this.#agent = new Agent({ ca: conn.ca, keepAlive: true, maxSockets: 8 });
  }

  /** One request; `body` as given (bytes/string) or JSON-encoded (object). */
  async request(
    method: string,
    path: string,
    opts: { body?: unknown; contentType?: string; query?: Record<string, string | undefined> } = {},
  ): Promise<KubeResult> {
    const url = new URL(path, this.conn.url);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const payload =
      opts.body === undefined
        ? undefined
        : typeof opts.body === "string" || opts.body instanceof Uint8Array
          ? Buffer.from(opts.body as string | Uint8Array)
          : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.conn.token}`,
      accept: "application/json",
    };
    if (payload) {
      headers["content-type"] = opts.contentType ?? "application/json";
      headers["content-length"] = String(payload.length);
    }
    const { status, raw, text } = await new Promise<{ status: number; raw: string[]; text: string }>(
      (resolve, reject) => {
        const req = request(url, { method, headers, agent: this.#agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              raw: res.rawHeaders,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(payload);
      },
    );
    const warnings: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.toLowerCase() === "warning") warnings.push(...parseWarnings(raw[i + 1]!));
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    const allowed = status >= 200 && status < 300;
    const message = allowed
      ? ""
      : typeof body === "object" && body && "message" in body
        ? String((body as { message: unknown }).message)
        : text.trim();
    return { status, allowed, message, warnings, body };
  }

  /** POST the object to its collection (`?dryRun=All` with dryRun). */
  async create(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeResult> {
    const { collection } = await this.#paths(obj, opts.namespace);
    return this.request("POST", collection, { body: obj, query: writeQuery(opts) });
  }

  /** Server-side apply (PATCH application/apply-patch+yaml, force). */
  async apply(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeResult> {
    const { item } = await this.#paths(obj, opts.namespace);
    return this.request("PATCH", item, {
      body: obj,
      contentType: "application/apply-patch+yaml",
      query: { ...writeQuery(opts), fieldManager: opts.fieldManager ?? "platform-test", force: "true" },
    });
  }

  /** PUT (replace) the object. */
  async put(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeResult> {
    const { item } = await this.#paths(obj, opts.namespace);
    return this.request("PUT", item, { body: obj, query: writeQuery(opts) });
  }

  /** GET the object. */
  async get(ref: KubeRef | KubeObject): Promise<KubeResult> {
    const { item } = await this.#paths(asObject(ref));
    return this.request("GET", item);
  }

  /** DELETE the object (a 404 is returned, not thrown: cleanup may run twice). */
  async delete(
    ref: KubeRef | KubeObject,
    opts: Pick<WriteOptions, "dryRun" | "namespace"> = {},
  ): Promise<KubeResult> {
    const { item } = await this.#paths(asObject(ref), opts.namespace);
    return this.request("DELETE", item, { query: { dryRun: opts.dryRun ? "All" : undefined } });
  }

  /** POST raw bytes (e.g. YAML as `application/yaml`) to an API path, so the server does the decoding. */
  rawPost(
    path: string,
    body: Uint8Array | string,
    contentType: string,
    query: Record<string, string | undefined> = {},
  ): Promise<KubeResult> {
    return this.request("POST", path, { body, contentType, query });
  }

  /** The collection path the server uses for this object's kind (e.g. for rawPost). */
  async collectionPath(obj: KubeObject, namespace?: string): Promise<string> {
    return (await this.#paths(obj, namespace)).collection;
  }

  /** The served group/versions from `/api` and `/apis`. */
  async discovery(): Promise<Discovery> {
    const core = await this.request("GET", "/api");
    const groups = await this.request("GET", "/apis");
    if (!core.allowed || !groups.allowed)
      throw new Error(`discovery failed: ${core.message || groups.message}`);
    const groupVersions: string[] = [...(core.body.versions as string[])];
    const preferred: Record<string, string> = { "": "v1" };
    for (const g of groups.body.groups as {
      name: string;
      versions: { groupVersion: string }[];
      preferredVersion: { version: string };
    }[]) {
      groupVersions.push(...g.versions.map((v) => v.groupVersion));
      preferred[g.name] = g.preferredVersion.version;
    }
    return { groupVersions, preferred };
  }

  /** The resource (plural name, scope) serving `kind` in `apiVersion`, or undefined when that version is not served. */
  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    let list = this.#resources.get(apiVersion);
    if (!list) {
      list = this.request(
        "GET",
        apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`,
      ).then((r) => {
        if (!r.allowed) return undefined;
        const m = new Map<string, ResourceInfo>();
        for (const res of r.body.resources as { name: string; kind: string; namespaced: boolean }[])
          if (!res.name.includes("/")) m.set(res.kind, { name: res.name, namespaced: res.namespaced });
        return m;
      });
      this.#resources.set(apiVersion, list);
    }
    return (await list)?.get(kind);
  }

  /**
   * Creates (or keeps) a namespace with these labels, and its "default" ServiceAccount — the
   * controller-manager that would make it does not run here, and the ServiceAccount admission plugin
   * refuses pods without it.
   */
  async namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
    let r = await this.create(ns);
    if (r.status === 409) r = await this.apply(ns);
    if (!r.allowed) throw new Error(`namespace ${name}: ${r.status} ${r.message}`);
    const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name } };
    r = await this.create(sa);
    if (!r.allowed && r.status !== 409)
      throw new Error(`serviceaccount ${name}/default: ${r.status} ${r.message}`);
  }

  /**
   * Polls until the server denies `bad` on a dry-run create (a policy just created is not active until the
   * server's informer has seen it); throws after `timeoutMs` with the last answer.
   */
  async waitForPolicyActive(
    bad: KubeObject,
    opts: { namespace?: string; timeoutMs?: number; message?: string | RegExp } = {},
  ): Promise<KubeResult> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      const r = await this.create(bad, { dryRun: true, namespace: opts.namespace });
      const matches =
        !r.allowed &&
        (opts.message === undefined ||
          (typeof opts.message === "string"
            ? r.message.includes(opts.message)
            : opts.message.test(r.message)));
      if (matches) return r;
      if (Date.now() > deadline)
        throw new Error(
          `policy not active after ${(opts.timeoutMs ?? 30_000) / 1000} s: ${bad.kind} ${bad.metadata?.name} got ${r.status} ${r.message}`,
        );
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #paths(obj: KubeObject, namespace?: string): Promise<{ collection: string; item: string }> {
    const { apiVersion, kind } = obj;
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    // A version the server does not serve still gets a request (the plural guessed as apimachinery's
    // UnsafeGuessKindToResource does), so the refusal is the server's own (404), never ours.
    const res = (await this.resourceFor(apiVersion, kind)) ?? {
      name: guessResource(kind),
      namespaced: !!(namespace ?? obj.metadata?.namespace),
    };
    const ns = namespace ?? obj.metadata?.namespace ?? "default";
    const collection = res.namespaced
      ? `${base}/namespaces/${encodeURIComponent(ns)}/${res.name}`
      : `${base}/${res.name}`;
    const name = obj.metadata?.name;
    return { collection, item: name ? `${collection}/${encodeURIComponent(name)}` : collection };
  }
}

/** "Ingress" → "ingresses", "NetworkPolicy" → "networkpolicies" (apimachinery's UnsafeGuessKindToResource). */
export function guessResource(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith("s")) return `${k}es`;
  if (k.endsWith("y")) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

function asObject(ref: KubeRef | KubeObject): KubeObject {
  return "metadata" in ref && ref.metadata
    ? (ref as KubeObject)
    : {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: (ref as KubeRef).name, namespace: (ref as KubeRef).namespace },
      };
}

function writeQuery(opts: WriteOptions): Record<string, string | undefined> {
  return { dryRun: opts.dryRun ? "All" : undefined, fieldValidation: opts.fieldValidation };
}

/** `299 - "text"` (RFC 7234 warn-value), possibly several in one header, text with \" escapes. */
export function parseWarnings(header: string): string[] {
  const out: string[] = [];
  for (const m of header.matchAll(/\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g))
    out.push(m[1]!.replace(/\\(.)/g, "$1"));
  return out.length ? out : [header];
}

async function issueCa(): Promise<{ cert: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString("hex").replace(/^./, "1"),
    name: "CN=platform-test apiserver CA",
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 7 * 86400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  return { cert, keys };
}

/** A CA and a serving certificate for 127.0.0.1 issued by it (PEM). */
async function servingCert(): Promise<{ ca: string; cert: string; key: string }> {
  const ca = await issueCa();
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString("hex").replace(/^./, "2"),
    subject: "CN=127.0.0.1",
    issuer: ca.cert.subjectName,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 7 * 86400_000),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: "ip", value: "127.0.0.1" },
        { type: "dns", value: "localhost" },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
  return { ca: ca.cert.toString("pem"), cert: cert.toString("pem"), key };
}

/** Starts etcd and kube-apiserver (the pinned peers) on free loopback ports; resolves once `/readyz` passes. */
export async function startApiServer(
  opts: { timeoutMs?: number; extraArgs?: string[] } = {},
): Promise<ApiServer> {
  const peers = requirePeers("kube-apiserver", "etcd");
  if (!peers.ok) throw new Error(peers.reason);
  const dir = await mkdtemp(join(tmpdir(), "kube-apiserver-"));
  let etcd: ServerProcess | undefined;
  let onExit: (() => void) | undefined;
  try {
    etcd = await startServer({
      name: "etcd",
      command: async (port) => ({
        bin: peers.paths.etcd!,
        args: [
          "--data-dir",
          join(dir, `etcd-${port}`),
          "--listen-client-urls",
          `http://127.0.0.1:${port}`,
          "--advertise-client-urls",
          `http://127.0.0.1:${port}`,
          "--listen-peer-urls",
          `http://127.0.0.1:${await freePort()}`,
          "--log-level",
          "warn",
        ],
      }),
      ready: async (port) => (await fetch(`http://127.0.0.1:${port}/health`)).ok,
    });
    const etcdPort = etcd.port;
    // A test process that exits without stop() (a crash, process.exit) must not leave etcd and
    // kube-apiserver running: kill them synchronously on exit.
    const etcdChild = etcd.child;
    let kasChild: ServerProcess["child"] | undefined;
    onExit = () => {
      kasChild?.kill("SIGKILL");
      etcdChild.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    };
    process.once("exit", onExit);
    const token = randomBytes(24).toString("hex");
    const tls = await servingCert();
    const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(dir, "tokens.csv"), `${token},admin,admin,system:masters\n`, { mode: 0o600 });
    await writeFile(join(dir, "serving.crt"), tls.cert);
    await writeFile(join(dir, "serving.key"), tls.key, { mode: 0o600 });
    await writeFile(join(dir, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));
    await writeFile(join(dir, "sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }), {
      mode: 0o600,
    });
    const kas = await startServer({
      name: "kube-apiserver",
      timeoutMs: opts.timeoutMs ?? 180_000,
      command: (port) => ({
        bin: peers.paths["kube-apiserver"]!,
        args: [
          `--etcd-servers=http://127.0.0.1:${etcdPort}`,
          // Each attempt its own prefix: a start retried on a fresh port never sees a half-initialised one.
          `--etcd-prefix=/registry-${port}`,
          `--secure-port=${port}`,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          `--cert-dir=${join(dir, "certs")}`,
          `--tls-cert-file=${join(dir, "serving.crt")}`,
          `--tls-private-key-file=${join(dir, "serving.key")}`,
          "--service-account-issuer=https://kubernetes.default.svc",
          `--service-account-key-file=${join(dir, "sa.pub")}`,
          `--service-account-signing-key-file=${join(dir, "sa.key")}`,
          `--token-auth-file=${join(dir, "tokens.csv")}`,
          "--authorization-mode=RBAC",
          "--service-cluster-ip-range=10.0.0.0/24",
          // As AKS runs it: otherwise pod validation refuses privileged containers before PSA or a policy
          // ever sees them ("disallowed by cluster policy").
          "--allow-privileged=true",
          ...(opts.extraArgs ?? []),
        ],
      }),
      ready: (port) => readyz({ url: `https://127.0.0.1:${port}`, token, ca: tls.ca }),
    });
    kasChild = kas.child;
    const conn = { url: `https://127.0.0.1:${kas.port}`, token, ca: tls.ca };
    const client = new KubeClient(conn);
    const etcdProc = etcd;
    return {
      ...conn,
      client,
      output: kas.output,
      stop: async () => {
        client.close();
        await kas.stop();
        await etcdProc.stop();
        await rm(dir, { recursive: true, force: true });
        if (onExit) process.off("exit", onExit);
      },
    };
  } catch (err) {
    if (onExit) process.off("exit", onExit);
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** One `/readyz` probe, verifying TLS against the generated CA. */
async function readyz(conn: ApiServerConnection): Promise<boolean> {
  const client = new KubeClient(conn);
  try {
    const r = await client.request("GET", "/readyz");
    return r.status === 200;
  } finally {
    client.close();
  }
}

/**
 * The run's shared API server (started by the itg globalSetup), or one started for this file when the
 * globalSetup did not start one. Locally a missing peer gives `ok: false` with the reason (skip the
 * suite); with CI=true it throws.
 */
export async function useApiServer(): Promise<{ ok: boolean; reason: string; client?: KubeClient }> {
  const { inject, afterAll } = await import("vitest");
  const provided = inject("kubeApiServer");
  if (provided && "url" in provided) {
    const client = new KubeClient(provided);
    afterAll(() => client.close());
    return { ok: true, reason: "", client };
  }
  if (provided && "unavailable" in provided) return { ok: false, reason: provided.unavailable };
  const peers = requirePeers("kube-apiserver", "etcd");
  if (!peers.ok) return { ok: false, reason: peers.reason };
  const server = await startApiServer();
  afterAll(() => server.stop());
  return { ok: true, reason: "", client: server.client };
}

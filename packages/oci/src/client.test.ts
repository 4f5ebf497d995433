// RegistryClient protocol details a real registry here does not exercise: TLS choice, relative upload
// Locations with their own query, chunk minimums, mount answered 202, referrers pagination and filters
// not applied by the server, HEAD without Docker-Content-Digest, Bearer token caching per scope,
// Basic challenges, insufficient scope. A scripted in-memory registry stands behind a fake fetch.
import { createHash } from "node:crypto";
import { isPlatformError, memoryLogger, type PlatformError } from "@platform/core";
import { describe, expect, it } from "vitest";
import { RegistryClient } from "./client.ts";
import { encodeJson, MediaType, parseManifest, sha256Digest } from "./types.ts";

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

interface FakeOptions {
  auth?: "bearer" | "basic";
  headWithoutDigest?: boolean;
  mount?: 201 | 202;
  chunkMin?: number;
  referrersPageSize?: number;
  filtersApplied?: boolean;
  grant?: string[];
}

function fakeRegistry(opts: FakeOptions = {}) {
  const calls: Call[] = [];
  const blobs = new Map<string, Uint8Array>();
  const manifests = new Map<string, { bytes: Uint8Array; type: string }>();
  const uploads = new Map<string, Uint8Array[]>();
  const referrers: Array<{ digest: string; artifactType: string }> = [];
  let tokens = 0;
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });

  const handle = (c: Call): Response => {
    const u = new URL(c.url);
    if (u.host === "auth.example") {
      tokens++;
      const scopes = u.searchParams.getAll("scope");
      return json(200, { token: `tok-${tokens}-${scopes.join("|")}`, expires_in: 300 });
    }
    if (opts.auth === "bearer") {
      const auth = c.headers.authorization ?? "";
      const granted = opts.grant ?? ["pull", "push"];
      const needsPush = c.method !== "GET" && c.method !== "HEAD";
      if (!auth.startsWith("Bearer tok-") || (needsPush && !granted.includes("push"))) {
        const scope = u.pathname.split("/")[3]
          ? `repository:${u.pathname.split("/").slice(2, -2).join("/")}:pull`
          : "";
        return new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
          status: 401,
          headers: {
            "www-authenticate": `Bearer realm="https://auth.example/token",service="reg.example.com",scope="${scope}"${auth ? ',error="insufficient_scope"' : ""}`,
          },
        });
      }
    }
    if (
      opts.auth === "basic" &&
      c.headers.authorization !== `Basic ${Buffer.from("u:p").toString("base64")}`
    ) {
      return new Response("", { status: 401, headers: { "www-authenticate": 'Basic realm="reg"' } });
    }
    const m = /^\/v2\/(.+?)\/(manifests|blobs|referrers)\/(.+)$/.exec(u.pathname);
    const up = /^\/v2\/(.+?)\/blobs\/uploads\/(.*)$/.exec(u.pathname);
    if (up) {
      if (c.method === "POST" && !up[2]) {
        const mount = u.searchParams.get("mount");
        if (mount && opts.mount === 201 && blobs.has(mount)) return new Response(null, { status: 201 });
        const id = `u${uploads.size}`;
        uploads.set(id, []);
        return new Response(null, {
          status: 202,
          // Relative, with its own query that must be kept.
          headers: {
            location: `${id}?_state=s0`,
            ...(opts.chunkMin ? { "oci-chunk-min-length": String(opts.chunkMin) } : {}),
          },
        });
      }
      const id = up[2]!;
      if (u.searchParams.get("_state") === null) return new Response("lost state", { status: 400 });
      if (c.method === "PATCH") {
        uploads.get(id)!.push(c.body!);
        const n = uploads.get(id)!.reduce((a, b) => a + b.byteLength, 0);
        return new Response(null, {
          status: 202,
          headers: { location: `/v2/${up[1]}/blobs/uploads/${id}?_state=s${n}`, range: `0-${n - 1}` },
        });
      }
      if (c.method === "PUT") {
        const data = Buffer.concat([...(uploads.get(id) ?? []), ...(c.body ? [c.body] : [])]);
        const digest = u.searchParams.get("digest")!;
        if (sha256Digest(data) !== digest)
          return json(400, { errors: [{ code: "DIGEST_INVALID", message: "bad" }] });
        blobs.set(digest, new Uint8Array(data));
        return new Response(null, { status: 201, headers: { "docker-content-digest": digest } });
      }
    }
    if (m) {
      const [, repo, kind, ref] = m;
      if (kind === "blobs") {
        const b = blobs.get(ref!);
        if (!b) return new Response(null, { status: 404 });
        return new Response(c.method === "HEAD" ? null : b, {
          status: 200,
          headers: { "content-length": String(b.byteLength) },
        });
      }
      if (kind === "manifests") {
        if (c.method === "PUT") {
          const type = c.headers["content-type"]!;
          manifests.set(ref!, { bytes: c.body!, type });
          manifests.set(sha256Digest(c.body!), { bytes: c.body!, type });
          return new Response(null, {
            status: 201,
            headers: { "docker-content-digest": sha256Digest(c.body!) },
          });
        }
        const found = manifests.get(ref!);
        if (!found) return json(404, { errors: [{ code: "MANIFEST_UNKNOWN", message: "unknown" }] });
        const headers: Record<string, string> = {
          "content-type": found.type,
          "content-length": String(found.bytes.byteLength),
        };
        if (!(opts.headWithoutDigest && c.method === "HEAD"))
          headers["docker-content-digest"] = sha256Digest(found.bytes);
        return new Response(c.method === "HEAD" ? null : found.bytes, { status: 200, headers });
      }
      if (kind === "referrers") {
        const size = opts.referrersPageSize ?? 100;
        const start = Number(u.searchParams.get("page") ?? 0);
        const filter = opts.filtersApplied ? u.searchParams.get("artifactType") : null;
        const all = referrers.filter((r) => !filter || r.artifactType === filter);
        const page = all.slice(start, start + size);
        const headers: Record<string, string> = { "content-type": MediaType.ociIndex };
        if (start + size < all.length)
          headers.link = `</v2/${repo}/referrers/${ref}?page=${start + size}>; rel="next"`;
        if (filter) headers["oci-filters-applied"] = "artifactType";
        return new Response(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaType.ociIndex,
            manifests: page.map((r) => ({
              mediaType: MediaType.ociManifest,
              digest: r.digest,
              size: 1,
              artifactType: r.artifactType,
            })),
          }),
          { status: 200, headers },
        );
      }
    }
    return new Response("no route", { status: 404 });
  };

  const fetchFn: typeof fetch = async (input, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const body = init?.body instanceof Uint8Array ? init.body : undefined;
    const c: Call = { method: init?.method ?? "GET", url: String(input), headers, body };
    calls.push(c);
    return handle(c);
  };
  return { fetch: fetchFn, calls, blobs, manifests, referrers, tokenCount: () => tokens };
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s));

describe("RegistryClient protocol", () => {
  it("uses TLS for remote registries and plain HTTP only for loopback", async () => {
    for (const [registry, scheme] of [
      ["reg.example.com", "https:"],
      ["localhost:5000", "http:"],
      ["127.0.0.1:5000", "http:"],
      ["[::1]:5000", "http:"],
      ["10.1.2.3:5000", "https:"],
    ] as const) {
      const f = fakeRegistry();
      const c = new RegistryClient({ fetch: f.fetch });
      await c.blobExists({ registry, repository: "a" }, sha256Digest("x"));
      expect(new URL(f.calls[0]!.url).protocol).toBe(scheme);
    }
  });

  it("keeps a relative Location and its query through PATCH… and the final PUT; honours OCI-Chunk-Min-Length", async () => {
    const f = fakeRegistry({ chunkMin: 40 });
    const c = new RegistryClient({ fetch: f.fetch, monolithicMaxBytes: 10, chunkBytes: 16 });
    const data = bytes("x".repeat(100));
    const r = await c.pushBlob({ registry: "reg.example.com", repository: "team/app" }, data);
    expect(r.outcome).toBe("uploaded-chunked");
    const patches = f.calls.filter((x) => x.method === "PATCH");
    expect(patches.map((p) => p.headers["content-range"])).toEqual(["0-39", "40-79", "80-99"]);
    expect(patches[0]!.url).toBe("https://reg.example.com/v2/team/app/blobs/uploads/u0?_state=s0");
    const put = f.calls.find((x) => x.method === "PUT")!;
    expect(put.url).toBe(
      `https://reg.example.com/v2/team/app/blobs/uploads/u0?_state=s100&digest=${encodeURIComponent(sha256Digest(data))}`,
    );
    expect(f.blobs.get(sha256Digest(data))).toEqual(data);
  });

  it("a mount answered 202 continues as an upload in the session the registry opened", async () => {
    const f = fakeRegistry({ mount: 202 });
    const c = new RegistryClient({ fetch: f.fetch });
    const data = bytes("layer");
    const r = await c.pushBlob({ registry: "reg.example.com", repository: "prod/app" }, data, {
      mountFrom: ["quarantine/app"],
    });
    expect(r.outcome).toBe("uploaded");
    expect(f.calls.map((x) => x.method)).toEqual(["HEAD", "POST", "PUT"]);
    expect(f.calls[1]!.url).toContain("mount=sha256%3A");
    expect(f.calls[1]!.url).toContain("from=quarantine%2Fapp");
  });

  it("refuses to upload content that does not match its digest, before the final PUT", async () => {
    const f = fakeRegistry();
    const c = new RegistryClient({ fetch: f.fetch });
    const err = await c
      .pushBlob({ registry: "reg.example.com", repository: "a" }, bytes("abc"), {
        digest: sha256Digest("abd"),
      })
      .catch((e: unknown) => e);
    expect(isPlatformError(err, "OCI_DIGEST_MISMATCH")).toBe(true);
    expect(f.calls.some((x) => x.method === "PUT")).toBe(false);
  });

  it("resolves by GET when HEAD has no Docker-Content-Digest, and detects a body that is not what the registry said", async () => {
    const f = fakeRegistry({ headWithoutDigest: true });
    const c = new RegistryClient({ fetch: f.fetch });
    const m = encodeJson({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    await c.putManifest({ registry: "reg.example.com", repository: "a" }, m, MediaType.ociIndex, "v1");
    const d = await c.resolve("reg.example.com/a:v1");
    expect(d).toEqual({ mediaType: MediaType.ociIndex, digest: sha256Digest(m), size: m.byteLength });
    expect(f.calls.slice(-2).map((x) => x.method)).toEqual(["HEAD", "GET"]);
    // The tag now serves other bytes than the digest asked for.
    f.manifests.set(sha256Digest(m), {
      bytes: encodeJson({
        schemaVersion: 2,
        manifests: [{ mediaType: "x", digest: sha256Digest("y"), size: 1 }],
      }),
      type: MediaType.ociIndex,
    });
    const err = await c.getManifest(`reg.example.com/a@${sha256Digest(m)}`).catch((e: unknown) => e);
    expect(isPlatformError(err, "OCI_DIGEST_MISMATCH")).toBe(true);
  });

  it("a HEAD answer without Content-Length is sized by GET, never as 0 (issue 14)", async () => {
    const f = fakeRegistry();
    const noLength: typeof fetch = async (input, init) => {
      const res = await f.fetch(input, init);
      if ((init?.method ?? "GET") !== "HEAD") return res;
      const headers = new Headers(res.headers);
      headers.delete("content-length");
      return new Response(null, { status: res.status, headers });
    };
    const c = new RegistryClient({ fetch: noLength });
    const m = encodeJson({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    await c.putManifest({ registry: "reg.example.com", repository: "a" }, m, MediaType.ociIndex, "v1");
    const d = await c.resolve("reg.example.com/a:v1");
    expect(d.size).toBe(m.byteLength);
    expect(f.calls.slice(-2).map((x) => x.method)).toEqual(["HEAD", "GET"]);
  });

  it("an upload Location on another origin (or plain http) never receives the Authorization header (issue 14)", async () => {
    const f = fakeRegistry({ auth: "basic" });
    const seen: Array<{ url: string; authorization?: string }> = [];
    const redirecting: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url.startsWith("http://evil.example/")) {
        seen.push({ url, authorization: new Headers(init?.headers).get("authorization") ?? undefined });
        return new Response(null, { status: 201 });
      }
      const res = await f.fetch(input, init);
      if ((init?.method ?? "GET") === "POST" && res.status === 202) {
        return new Response(null, { status: 202, headers: { location: "http://evil.example/upload?s=1" } });
      }
      return res;
    };
    const c = new RegistryClient({
      fetch: redirecting,
      credentials: async () => ({ kind: "basic", username: "u", password: "p" }),
    });
    await c.pushBlob({ registry: "reg.example.com", repository: "a" }, bytes("data")).catch(() => undefined);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.authorization === undefined)).toBe(true);
  });

  it("refuses a manifest that carries both manifests and layers (CVE-2021-41190)", () => {
    const both = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociEmpty, digest: sha256Digest("{}"), size: 2 },
      layers: [],
      manifests: [],
    });
    expect(() => parseManifest(both)).toThrow(/both manifests and layers/);
  });

  it("follows referrers pagination and filters locally when the registry did not", async () => {
    const f = fakeRegistry({ referrersPageSize: 2, filtersApplied: false });
    for (let i = 0; i < 5; i++) {
      f.referrers.push({
        digest: sha256Digest(`r${i}`),
        artifactType: i % 2 ? "application/spdx+json" : "application/vnd.cncf.notary.signature",
      });
    }
    const c = new RegistryClient({ fetch: f.fetch });
    const subject = { registry: "reg.example.com", repository: "a", digest: sha256Digest("s") };
    const all = await c.listReferrers(subject);
    expect(all.mode).toBe("api");
    expect(all.descriptors).toHaveLength(5);
    expect(f.calls.filter((x) => x.url.includes("/referrers/")).length).toBe(3);
    const sboms = await c.listReferrers(subject, { artifactType: "application/spdx+json" });
    expect(sboms.descriptors.map((d) => d.digest)).toEqual([sha256Digest("r1"), sha256Digest("r3")]);
    expect(f.calls.at(-3)!.url).toContain("artifactType=application%2Fspdx%2Bjson");
  });

  it("an unknown repository (NAME_UNKNOWN) lists nothing and does not turn the referrers API off", async () => {
    const f = fakeRegistry();
    const c = new RegistryClient({ fetch: f.fetch });
    const base = f.fetch;
    let first = true;
    const c2 = new RegistryClient({
      fetch: async (input, init) => {
        if (first && String(input).includes("/referrers/")) {
          first = false;
          return new Response('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}', {
            status: 404,
            headers: { "content-type": "application/json" },
          });
        }
        return base(input, init);
      },
    });
    f.referrers.push({ digest: sha256Digest("r"), artifactType: "x/y" });
    const subject = { registry: "reg.example.com", digest: sha256Digest("s") };
    expect((await c2.listReferrers({ ...subject, repository: "nope" })).descriptors).toEqual([]);
    expect(c2.referrersMode("reg.example.com")).toBeUndefined();
    const found = await c2.listReferrers({ ...subject, repository: "a" });
    expect(found).toMatchObject({ mode: "api", descriptors: [{ digest: sha256Digest("r") }] });
    expect(c.referrersMode("reg.example.com")).toBeUndefined();
  });

  it("Bearer: one token per scope set, cached; the token request names service and every scope", async () => {
    const f = fakeRegistry({ auth: "bearer" });
    const log = memoryLogger();
    const c = new RegistryClient({ fetch: f.fetch, log });
    const repo = { registry: "reg.example.com", repository: "team/app" };
    await c.pushBlob(repo, bytes("one"));
    await c.pushBlob(repo, bytes("two"));
    expect(f.tokenCount()).toBe(1);
    const tokenCall = f.calls.find((x) => x.url.startsWith("https://auth.example/"))!;
    const u = new URL(tokenCall.url);
    expect(u.searchParams.get("service")).toBe("reg.example.com");
    expect(u.searchParams.getAll("scope")).toEqual(["repository:team/app:pull,push"]);
    await c.mountBlob(
      { registry: "reg.example.com", repository: "prod/app" },
      "team/app",
      sha256Digest("one"),
    );
    const mountToken = new URL(f.calls.filter((x) => x.url.startsWith("https://auth.example/")).at(-1)!.url);
    expect(mountToken.searchParams.getAll("scope")).toEqual([
      "repository:prod/app:pull,push",
      "repository:team/app:pull",
    ]);
    // Tokens were registered for masking.
    expect(log.masker.mask("tok-1-repository:team/app:pull,push")).toBe("***");
  });

  it("insufficient scope: the error names the scope denied and the role that grants it", async () => {
    const f = fakeRegistry({ auth: "bearer", grant: ["pull"] });
    const c = new RegistryClient({ fetch: f.fetch });
    const err = (await c
      .putManifest(
        { registry: "myacr.azurecr.io", repository: "team/app" },
        encodeJson({ schemaVersion: 2, manifests: [] }),
        MediaType.ociIndex,
      )
      .catch((e: unknown) => e)) as PlatformError;
    expect(err.code).toBe("OCI_DENIED");
    expect(err.message).toContain("repository:team/app:pull,push");
    expect(err.message).toContain("insufficient_scope");
    expect(err.hint).toContain("AcrPush");
  });

  it("Basic challenges use the basic credential; without one the error says so", async () => {
    const f = fakeRegistry({ auth: "basic" });
    const c = new RegistryClient({
      fetch: f.fetch,
      credentials: () => ({ kind: "basic", username: "u", password: "p" }),
    });
    expect(await c.blobExists({ registry: "reg.example.com", repository: "a" }, sha256Digest("x"))).toBe(
      false,
    );
    const anon = new RegistryClient({ fetch: fakeRegistry({ auth: "basic" }).fetch });
    const err = await anon
      .blobExists({ registry: "reg.example.com", repository: "a" }, sha256Digest("x"))
      .catch((e: unknown) => e);
    expect((err as PlatformError).message).toMatch(/user name and password/);
  });

  it("streams a blob and fails at its end when the bytes do not hash to the digest", async () => {
    const f = fakeRegistry();
    const c = new RegistryClient({ fetch: f.fetch });
    const good = bytes("good data");
    const d = sha256Digest(good);
    f.blobs.set(d, bytes("evil data"));
    const err = await c.getBlob({ registry: "reg.example.com", repository: "a" }, d).catch((e: unknown) => e);
    expect(isPlatformError(err, "OCI_DIGEST_MISMATCH")).toBe(true);
    expect(createHash("sha256").update(good).digest("hex")).toBe(d.slice(7));
  });
});

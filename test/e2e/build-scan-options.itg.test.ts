// build-scan takes what docker/build-push-action users pass — build-args, labels, target, platforms, secrets,
// push, and the metadata output — and buildah really applies them: the pushed image (read back with skopeo)
// carries the labels, the target stage's files, a RUN step's proof that it read the secret, and one manifest
// per platform; the secret itself appears nowhere (log, outputs, image config).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoLeaks } from "../harness/leaks.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { requirePeers } from "../peers/index.ts";

const run = promisify(execFile);
const peers = requirePeers("olareg", "skopeo", "buildah", "busybox");
const SECRET = `tok-${createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 24)}`;

let registry: RunningRegistry;
let ws: string;

const action = (inputs: Record<string, string>) =>
  runBundledAction("build-scan", { builder: "buildah", scanner: "none", ...inputs }, { workspace: ws });

/** Copies an image (all platforms) out of the registry into an OCI layout and returns its index.json. */
async function pull(ref: string, dir: string): Promise<{ manifests: Array<{ digest: string }> }> {
  await run(peers.paths.skopeo!, [
    "copy",
    "--all",
    "--src-tls-verify=false",
    `docker://${ref}`,
    `oci:${dir}:x`,
  ]);
  return JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
}
const blob = async (dir: string, digest: string) =>
  readFile(join(dir, "blobs", ...digest.split(":")), "utf8").then((t) => JSON.parse(t));

describe.skipIf(!peers.ok)("build-scan: docker/build-push-action's build inputs, applied by buildah", () => {
  beforeAll(async () => {
    registry = await startRegistry("olareg");
    ws = await mkdtemp(join(tmpdir(), "build-options-"));
    await mkdir(join(ws, "app"));
    await cp(peers.paths.busybox!, join(ws, "app", "busybox"));
    await writeFile(join(ws, "app", "hello.txt"), "hello\n");
    await writeFile(
      join(ws, "app", "Dockerfile"),
      [
        "FROM scratch AS base",
        "COPY busybox /bin/busybox",
        "ARG GREETING=hi",
        "LABEL greeting=$GREETING",
        // The build proves it read the secret by its hash; the value never enters a layer.
        'RUN --mount=type=secret,id=token ["/bin/busybox", "sh", "-c", "/bin/busybox sha256sum /run/secrets/token > /secret.sha"]',
        "FROM base AS release",
        "COPY hello.txt /release.txt",
        "FROM scratch AS debug",
        "COPY hello.txt /debug.txt",
        "",
      ].join("\n"),
    );
    await mkdir(join(ws, "multi"));
    await writeFile(join(ws, "multi", "hello.txt"), "multi\n");
    await writeFile(join(ws, "multi", "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
  });
  afterAll(async () => {
    await registry?.stop();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it("applies build-args, labels, target and secrets; the secret is nowhere in the log, outputs or config", async () => {
    const r = await action({
      context: "app",
      image: `${registry.host}/quarantine/opts`,
      "build-args": "GREETING=from-build-args",
      labels: "org.opencontainers.image.source=https://github.com/northwind/orders\nteam=orders",
      target: "release",
      secrets: `token=${SECRET}`,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectNoLeaks(r, [SECRET]);
    expect(r.masked).toContain(SECRET);
    const metadata = JSON.parse(r.outputs.metadata!);
    expect(metadata["containerimage.digest"]).toBe(r.outputs.digest);
    expect(metadata["containerimage.descriptor"]).toMatchObject({
      digest: r.outputs.digest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
    });
    expect(metadata["image.name"]).toBe(r.outputs["image-ref"]);

    const dir = join(ws, "pulled-opts");
    const index = await pull(r.outputs["image-ref"]!, dir);
    const manifest = await blob(dir, index.manifests[0]!.digest);
    const config = await blob(dir, manifest.config.digest);
    expect(config.config.Labels).toMatchObject({
      greeting: "from-build-args",
      team: "orders",
      "org.opencontainers.image.source": "https://github.com/northwind/orders",
    });
    expect(JSON.stringify(config)).not.toContain(SECRET);
    // The target stage's files are there (release.txt, the secret's hash), the other stage's are not.
    const files: Record<string, string> = {};
    for (const layer of manifest.layers as Array<{ digest: string }>) {
      const path = join(dir, "blobs", ...layer.digest.split(":"));
      const { stdout } = await run("tar", ["-tf", path]);
      for (const f of stdout.split("\n").filter(Boolean)) files[f.replace(/^\.?\//, "")] = path;
    }
    expect(Object.keys(files)).toEqual(expect.arrayContaining(["release.txt", "secret.sha"]));
    expect(Object.keys(files)).not.toContain("debug.txt");
    const { stdout: sha } = await run("tar", ["-xOf", files["secret.sha"]!, "secret.sha"]);
    expect(sha.split(" ")[0]).toBe(createHash("sha256").update(SECRET).digest("hex"));
  });

  it("two platforms push an image index with one manifest per platform", async () => {
    const r = await action({
      context: "multi",
      image: `${registry.host}/quarantine/multi`,
      platforms: "linux/amd64,linux/arm64",
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const { stdout } = await run(peers.paths.skopeo!, [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${r.outputs["image-ref"]}`,
    ]);
    const index = JSON.parse(stdout) as {
      mediaType: string;
      manifests: Array<{ platform: { architecture: string } }>;
    };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    expect(JSON.parse(r.outputs.metadata!)["containerimage.descriptor"].mediaType).toBe(
      "application/vnd.oci.image.index.v1+json",
    );
  });

  it("push: false builds only: a digest and metadata, nothing in the registry", async () => {
    const r = await action({
      context: "multi",
      image: `${registry.host}/quarantine/unpushed`,
      push: "false",
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.outputs["image-ref"]).toBe("");
    expect(r.stdout).toMatch(/push: false/);
    const inspect = await run(peers.paths.skopeo!, [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/quarantine/unpushed@${r.outputs.digest}`,
    ]).catch((e: { stderr?: string }) => e);
    expect((inspect as { stderr?: string }).stderr ?? "").toMatch(/manifest unknown|not found/i);
  });

  it("refuses options it cannot honour, naming the input, before building or pushing anything", async () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ "build-args": "not a pair" }, "build-args", /NAME=value/],
      [{ platforms: "amd64" }, "platforms", /os\/arch/],
      [{ secrets: "novalue" }, "secrets", /id=value/],
      [{ "cache-from": "type=gha" }, "cache-from", /needs docker buildx/],
      [{ push: "false", tags: "v1", scanner: "trivy" }, "push", /nothing can be tagged or promoted/],
      [{ from: "app", labels: "a=b" }, "from", /pre-built image/],
    ];
    for (const [extra, input, why] of cases) {
      const r = await action({ context: "multi", image: `${registry.host}/quarantine/refused`, ...extra });
      expect(r.code, `${input}: ${r.stdout}`).not.toBe(0);
      const error = r.annotations.find((a) => a.level === "error");
      expect(error?.message ?? "", input).toMatch(why);
      expect(error?.message ?? r.stdout, input).toContain(input);
    }
    const { stdout } = await run(peers.paths.skopeo!, [
      "list-tags",
      "--tls-verify=false",
      `docker://${registry.host}/quarantine/refused`,
    ]).catch(() => ({ stdout: '{"Tags":[]}' }));
    expect(JSON.parse(stdout).Tags ?? []).toEqual([]);
  });
});

// build-scan as GitHub runs it (the bundled action as a process) against a real registry (olareg, with the
// referrers API): buildah builds a small image from a Dockerfile (vfs storage, chroot isolation, its own
// storage root), the action pushes it by digest, gates a Trivy report, and promotes quarantine → trusted on
// the same registry by blob mount. skopeo, an independent client, checks what landed where.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { validateSarif } from "../harness/sarif.ts";
import { requirePeers } from "../peers/index.ts";

const run = promisify(execFile);
const peers = requirePeers("olareg", "skopeo", "buildah");
/** PATH without the directories that hold a `trivy`: the action sees no Trivy whether this machine has one or not. */
const PATH_WITHOUT_TRIVY = (process.env.PATH ?? "")
  .split(":")
  .filter((d) => d && !existsSync(join(d, "trivy")))
  .join(":");
const FIXTURE = join(import.meta.dirname, "..", "fixtures", "scan", "trivy", "image-mixed.json");

let registry: RunningRegistry;
let ws: string;

/**
 * skopeo's view of an image (plain HTTP is fine: the registry is on 127.0.0.1); undefined only when the
 * registry answers "manifest unknown" — any other failure (registry down, bad reference) fails the test.
 */
async function inspect(ref: string): Promise<{ Digest: string } | undefined> {
  try {
    const { stdout } = await run(peers.paths.skopeo!, [
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${ref}`,
    ]);
    const { stdout: digest } = await run(peers.paths.skopeo!, [
      "inspect",
      "--tls-verify=false",
      "--format",
      "{{.Digest}}",
      `docker://${ref}`,
    ]);
    return stdout ? { Digest: digest.trim() } : undefined;
  } catch (err) {
    if (/manifest unknown/.test((err as { stderr?: string }).stderr ?? "")) return undefined;
    throw err;
  }
}

/** A Trivy report in the fixture's format for this image: the fixture's findings, its digest removed. */
async function report(name: string, opts: { keepOnly?: (id: string) => boolean; digest?: string } = {}) {
  const doc = JSON.parse(await readFile(FIXTURE, "utf8"));
  doc.ArtifactName = opts.digest ? `${registry.host}/quarantine/app@${opts.digest}` : "app";
  doc.Metadata.RepoDigests = opts.digest ? [doc.ArtifactName] : [];
  if (opts.keepOnly)
    for (const r of doc.Results)
      r.Vulnerabilities = r.Vulnerabilities.filter((v: { VulnerabilityID: string }) =>
        opts.keepOnly!(v.VulnerabilityID),
      );
  await writeFile(join(ws, name), JSON.stringify(doc));
  return name;
}

async function context(dir: string, content: string) {
  await mkdir(join(ws, dir), { recursive: true });
  await writeFile(join(ws, dir, "hello.txt"), content);
  await writeFile(join(ws, dir, "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
  return dir;
}

const action = (inputs: Record<string, string>) =>
  runBundledAction("build-scan", { builder: "buildah", ...inputs }, { workspace: ws });

describe.skipIf(!peers.ok)("build-scan bundled action against olareg", () => {
  beforeAll(async () => {
    registry = await startRegistry("olareg");
    ws = await mkdtemp(join(tmpdir(), "build-scan-ws-"));
    await writeFile(
      join(ws, "waivers.yaml"),
      [
        "waivers:",
        "  - id: CVE-2021-44228",
        "    package: org.apache.logging.log4j:log4j-core",
        "    reason: JndiLookup is removed from the jar at build time",
        "    owner: team-orders",
        "    expires: 2099-12-31",
        "  - id: CVE-2024-24790",
        "    reason: the worker never parses addresses from requests",
        "    owner: team-orders",
        "    expires: 2020-01-01",
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await registry?.stop();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it("builds with buildah, pushes by digest, passes the gate, promotes to trusted and tags only then", async () => {
    const dir = await context("ok", "hello from a passing build\n");
    // Criticals waived or without a fix; fail-on critical with only-fixed passes.
    const inputs = {
      context: dir,
      image: `${registry.host}/quarantine/app`,
      tags: "v1",
      "scan-report": await report("ok-report.json"),
      "allow-unbound-report": "true", // the report is written before the push: it names no digest
      "fail-on": "critical",
      "only-fixed": "true",
      waivers: "waivers.yaml",
      "promote-to": `${registry.host}/trusted/app`,
      sarif: "out/build-scan.sarif",
    };
    const r = await action(inputs);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    // CVE-2024-24790's waiver expired: it fails the gate (a fixed critical), and says so.
    expect(
      r.annotations.some((a) => a.title === "expired waiver" && a.file === "waivers.yaml" && a.line === 7),
    ).toBe(true);
    expect(r.outputs["promoted-ref"]).toBe("");
    const digest = r.outputs.digest!;
    expect(await inspect(`${registry.host}/trusted/app@${digest}`)).toBeUndefined();
    expect(await inspect(`${registry.host}/quarantine/app:v1`)).toBeUndefined();

    // Now renew the waiver: the same image passes, is promoted and tagged.
    await writeFile(
      join(ws, "waivers.yaml"),
      (await readFile(join(ws, "waivers.yaml"), "utf8")).replace("2020-01-01", "2099-01-01"),
    );
    const ok = await action(inputs);
    expect(ok.code, `${ok.stdout}\n${ok.stderr}`).toBe(0);
    expect(ok.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(ok.outputs["image-ref"]).toBe(`${registry.host}/quarantine/app@${ok.outputs.digest}`);
    expect(ok.outputs["promoted-ref"]).toBe(`${registry.host}/trusted/app@${ok.outputs.digest}`);
    expect(ok.outputs.findings).toBe("15");
    expect((await inspect(`${registry.host}/trusted/app@${ok.outputs.digest}`))?.Digest).toBe(
      ok.outputs.digest,
    );
    expect((await inspect(`${registry.host}/quarantine/app:v1`))?.Digest).toBe(ok.outputs.digest);
    const result = JSON.parse(ok.outputs.result!);
    expect(result).toMatchObject({ built: "buildah", passed: true, tagged: ["v1"] });
    expect(result.promotion.blobs.mounted).toBeGreaterThan(0);
    expect(result.waiversUsed.map((w: { id: string }) => w.id).sort()).toEqual([
      "CVE-2021-44228",
      "CVE-2024-24790",
    ]);
    expect(ok.summary).toContain("## ✅ build-scan passed");
    // The digest cut to 12 characters in the text, the full reference in a <details>.
    expect(ok.summary).toContain(
      `Promoted to \`${registry.host}/trusted/app@${ok.outputs.digest!.slice(0, 19)}\`.`,
    );
    expect(ok.summary).toContain(`- promoted: \`${registry.host}/trusted/app@${ok.outputs.digest}\``);
    const sarif = JSON.parse(await readFile(ok.outputs["sarif-file"]!, "utf8"));
    expect(validateSarif(sarif)).toEqual([]);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe("ok/Dockerfile");
  });

  it("a failing gate promotes and tags nothing, and annotates the failing findings", async () => {
    const dir = await context("bad", "hello from a failing build\n");
    const r = await action({
      context: dir,
      image: `${registry.host}/quarantine/app`,
      tags: "v2",
      "scan-report": await report("bad-report.json"),
      "allow-unbound-report": "true", // the report is written before the push: it names no digest
      "fail-on": "high",
      "promote-to": `${registry.host}/trusted/app`,
    });
    expect(r.code).toBe(1);
    const digest = r.outputs.digest!;
    expect(digest).toMatch(/^sha256:/);
    expect((await inspect(`${registry.host}/quarantine/app@${digest}`))?.Digest).toBe(digest);
    expect(await inspect(`${registry.host}/trusted/app@${digest}`)).toBeUndefined();
    expect(await inspect(`${registry.host}/quarantine/app:v2`)).toBeUndefined();
    expect(r.outputs["promoted-ref"]).toBe("");
    expect(
      r.annotations.filter((a) => a.level === "error" && a.file === "bad/Dockerfile").map((a) => a.title),
    ).toContain("CVE-2021-44228");
    expect(r.annotations.some((a) => a.title === "SCAN_GATE_FAILED")).toBe(true);
    expect(r.summary).toContain("Findings that fail the gate");
    expect(r.summary).toContain("Not promoted or tagged.");
  });

  it("a report for another digest is an error; nothing is promoted", async () => {
    const dir = await context("mismatch", "hello again\n");
    const r = await action({
      context: dir,
      image: `${registry.host}/quarantine/app`,
      "scan-report": await report("other-report.json", {
        digest: `sha256:${"0".repeat(64)}`,
        keepOnly: () => false,
      }),
      "promote-to": `${registry.host}/trusted/app`,
    });
    expect(r.code).toBe(1);
    expect(r.annotations.find((a) => a.title === "SCAN_REPORT_DIGEST_MISMATCH")?.message).toMatch(
      /not the pushed image/,
    );
    expect(r.outputs["promoted-ref"]).toBeUndefined();
  });

  it("pushes a pre-built OCI layout (from) and reads an invalid waiver file as an error at file:line", async () => {
    const layout = join(ws, "prebuilt");
    // The layout comes from the registry by skopeo (an independent writer): the image promoted above.
    const tags = await run(peers.paths.skopeo!, [
      "list-tags",
      "--tls-verify=false",
      `docker://${registry.host}/quarantine/app`,
    ]);
    expect(JSON.parse(tags.stdout).Tags).toContain("v1");
    await run(peers.paths.skopeo!, [
      "copy",
      "--src-tls-verify=false",
      `docker://${registry.host}/quarantine/app:v1`,
      `oci:${layout}:app`,
    ]);
    await writeFile(join(ws, "bad-waivers.yaml"), "waivers:\n  - id: CVE-2024-1\n    reason: too short\n");
    const bad = await action({
      from: "prebuilt",
      image: `${registry.host}/layouts/app`,
      "scan-report": "ok-report.json",
      "allow-unbound-report": "true", // the report is written before the push: it names no digest
      waivers: "bad-waivers.yaml",
    });
    expect(bad.code).toBe(1);
    expect(bad.annotations.find((a) => a.title === "SCAN_WAIVERS_INVALID")).toMatchObject({
      file: "bad-waivers.yaml",
      line: 2,
    });
    expect(await inspect(`${registry.host}/layouts/app:v1`)).toBeUndefined();

    const r = await action({ from: "prebuilt", image: `${registry.host}/layouts/app`, scanner: "none" });
    expect(r.code, r.stdout).toBe(0);
    expect((await inspect(r.outputs["image-ref"]!))?.Digest).toBe(r.outputs.digest);
    expect(r.summary).toContain("not scanned");
  });

  it("pushes a docker archive (from: docker save format, written by skopeo) with the same config", async () => {
    const archive = join(ws, "app.tar");
    await run(peers.paths.skopeo!, [
      "copy",
      "--src-tls-verify=false",
      `docker://${registry.host}/quarantine/app:v1`,
      `docker-archive:${archive}:app:v1`,
    ]);
    const r = await action({ from: "app.tar", image: `${registry.host}/archives/app`, scanner: "none" });
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.outputs.result!).built).toBe("docker-archive");
    const raw = async (ref: string) =>
      JSON.parse(
        (await run(peers.paths.skopeo!, ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]))
          .stdout,
      );
    const [pushed, original] = await Promise.all([
      raw(r.outputs["image-ref"]!),
      raw(`${registry.host}/quarantine/app:v1`),
    ]);
    expect(pushed.config.digest).toBe(original.config.digest);
    expect(pushed.layers).toHaveLength(original.layers.length);
  });

  it("names the input for an invalid reference and an unscanned promotion, before anything is pushed", async () => {
    const r = await action({ context: "ok", image: `${registry.host}/Quarantine/App:latest` });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\(input: image\)/);
    const n = await action({
      context: "ok",
      image: `${registry.host}/q/app`,
      scanner: "none",
      "promote-to": `${registry.host}/t/app`,
    });
    expect(n.code).toBe(1);
    expect(n.stdout).toMatch(/never tagged or promoted \(input: scanner\)/);
    expect(await inspect(`${registry.host}/q/app:latest`)).toBeUndefined();
  });

  it("without Trivy and without a report it stops before building or pushing", async () => {
    const r = await runBundledAction(
      "build-scan",
      { builder: "buildah", context: "ok", image: `${registry.host}/notrivy/app` },
      { workspace: ws, env: { PATH: PATH_WITHOUT_TRIVY } },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/trivy is not installed and no scan-report was given \(input: scan-report\)/);
    expect(r.stdout).not.toMatch(/building|pushing/);
    // Nothing was pushed: the registry knows no tags for the repository.
    const res = await fetch(`${registry.url}/v2/notrivy/app/tags/list`);
    const tags = res.ok ? ((await res.json()) as { tags?: string[] | null }).tags : undefined;
    expect(tags ?? []).toEqual([]);
  });
});

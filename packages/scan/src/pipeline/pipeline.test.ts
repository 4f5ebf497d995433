import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "@platform/core";
import { describe, expect, it } from "vitest";
import { buildImage, pickBuilder } from "./build.ts";
import { buildScan } from "./build-scan.ts";
import type { Exec } from "./exec.ts";
import { scanImage } from "./scanners.ts";

/** An Exec that records argv and answers from a table (by program + first argument). */
function fakeExec(answers: Record<string, { code: number; stdout?: string; stderr?: string }>) {
  const calls: string[][] = [];
  const exec: Exec = async (cmd, args) => {
    calls.push([cmd, ...args]);
    const a = answers[`${cmd} ${args[0]}`] ?? answers[cmd] ?? { code: 127 };
    return { code: a.code, stdout: a.stdout ?? "", stderr: a.stderr ?? "" };
  };
  return { exec, calls };
}

describe("pickBuilder", () => {
  const daemon = { "docker buildx": { code: 0 }, "docker info": { code: 0, stdout: "28.2.2\n" } };
  const noDaemon = { "docker buildx": { code: 0 }, "docker info": { code: 1, stderr: "Cannot connect" } };
  it.each([
    ["auto", daemon, "buildx"],
    ["auto", noDaemon, "buildah"],
    ["auto", {}, "buildah"],
    ["buildx", {}, "buildx"],
  ] as const)("%s with %o picks %s", async (builder, answers, expected) => {
    expect(await pickBuilder(builder, fakeExec(answers).exec, {})).toBe(expected);
  });
});

describe("buildImage", () => {
  async function context() {
    const dir = await mkdtemp(join(tmpdir(), "scan-build-"));
    await mkdir(join(dir, "ctx"));
    await writeFile(join(dir, "ctx", "Dockerfile"), "FROM scratch\n");
    return dir;
  }

  it("runs buildx with the OCI exporter into a layout directory, as argv", async () => {
    const dir = await context();
    const { exec, calls } = fakeExec({
      "docker buildx": { code: 0 },
      "docker info": { code: 0, stdout: "28\n" },
    });
    const built = await buildImage(
      { context: join(dir, "ctx"), builder: "auto", tempDir: dir, env: {} },
      { exec, log: memoryLogger() },
    );
    expect(built.via).toBe("buildx");
    const build = calls.find((c) => c[2] === "build")!;
    expect(build.slice(0, 5)).toEqual([
      "docker",
      "buildx",
      "build",
      "--file",
      join(dir, "ctx", "Dockerfile"),
    ]);
    expect(build[6]).toBe(`type=oci,dest=${built.layout},tar=false,name=build`);
  });

  it("runs buildah with vfs, chroot and its own storage, then pushes to an oci: layout", async () => {
    const dir = await context();
    const { exec, calls } = fakeExec({ buildah: { code: 0 } });
    const built = await buildImage(
      { context: join(dir, "ctx"), builder: "buildah", tempDir: dir, env: {} },
      { exec, log: memoryLogger() },
    );
    const [bud, push] = calls;
    expect(bud).toEqual(expect.arrayContaining(["--storage-driver", "vfs", "bud", "--isolation", "chroot"]));
    expect(bud![bud!.indexOf("--root") + 1]).toContain(dir);
    expect(push!.at(-1)).toBe(`oci:${built.layout}:build`);
  });

  it("a missing tool, a failed build and a missing Dockerfile are clear errors", async () => {
    const dir = await context();
    const log = memoryLogger();
    await expect(
      buildImage(
        { context: join(dir, "ctx"), builder: "buildah", tempDir: dir, env: {} },
        { exec: fakeExec({}).exec, log },
      ),
    ).rejects.toMatchObject({ code: "BUILD_TOOL_MISSING", category: "environment", input: "builder" });
    await expect(
      buildImage(
        { context: join(dir, "ctx"), builder: "buildah", tempDir: dir, env: {} },
        { exec: fakeExec({ buildah: { code: 125, stderr: "error: COPY failed: no such file" } }).exec, log },
      ),
    ).rejects.toMatchObject({ code: "BUILD_FAILED", message: expect.stringContaining("COPY failed") });
    await expect(
      buildImage(
        { context: join(dir, "ctx"), file: join(dir, "nope"), builder: "buildah", tempDir: dir, env: {} },
        { exec: fakeExec({}).exec, log },
      ),
    ).rejects.toMatchObject({ code: "BUILD_FILE_MISSING", input: "file" });
  });
});

describe("scanImage", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const base = { imageRef: `127.0.0.1:5000/q/app@${digest}`, digest, subscriptions: [] };

  it("runs trivy on the pushed digest when no report is given (--insecure only for loopback registries)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scan-trivy-"));
    const exec: Exec = async (cmd, args) => {
      if (args[0] === "--version") return { code: 0, stdout: "Version: 0.58.0", stderr: "" };
      const out = args[args.indexOf("--output") + 1]!;
      await writeFile(out, JSON.stringify({ SchemaVersion: 2, ArtifactName: base.imageRef, Results: [] }));
      expect([cmd, ...args.slice(0, 3)]).toEqual(["trivy", "image", "--format", "json"]);
      expect(args.slice(-2)).toEqual(["--insecure", base.imageRef]);
      return { code: 0, stdout: "", stderr: "" };
    };
    const r = await scanImage(
      { ...base, scanner: "trivy" },
      { exec, tempDir: dir, env: {}, log: memoryLogger() },
    );
    expect(r).toEqual({ findings: [], source: "trivy" });
  });

  it("a scan-report naming no digest is an error unless allow-unbound-report (issue 14)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scan-unbound-"));
    const path = join(dir, "report.json");
    await writeFile(
      path,
      JSON.stringify({ SchemaVersion: 2, ArtifactName: "some/image:latest", Results: [] }),
    );
    const deps = { exec: fakeExec({}).exec, tempDir: dir, env: {}, log: memoryLogger() };
    const scanReport = { path, display: "report.json" };
    await expect(scanImage({ ...base, scanner: "trivy", scanReport }, deps)).rejects.toMatchObject({
      code: "SCAN_REPORT_UNBOUND",
      input: "scan-report",
      hint: expect.stringContaining("allow-unbound-report: true"),
    });
    const r = await scanImage({ ...base, scanner: "trivy", scanReport, allowUnboundReport: true }, deps);
    expect(r).toEqual({ findings: [], source: "trivy report report.json" });
    expect(deps.log.lines.map((l) => l.line).join("\n")).toMatch(/allow-unbound-report: trusting it/);
  });

  it("without trivy and without a report it says what to do; none scans nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "scan-trivy-"));
    const deps = { exec: fakeExec({}).exec, tempDir: dir, env: {}, log: memoryLogger() };
    await expect(scanImage({ ...base, scanner: "trivy" }, deps)).rejects.toMatchObject({
      code: "SCAN_TRIVY_MISSING",
      input: "scan-report",
    });
    expect(await scanImage({ ...base, scanner: "none" }, deps)).toBeUndefined();
  });
});

describe("buildScan preconditions: bad input stops before building or pushing, naming the input", () => {
  async function attempt(over: Partial<Parameters<typeof buildScan>[0]>) {
    const dir = await mkdtemp(join(tmpdir(), "scan-pre-"));
    await writeFile(join(dir, "Dockerfile"), "FROM scratch\n");
    const { exec, calls } = fakeExec({ buildah: { code: 0 }, "trivy --version": { code: 0 } });
    const used: unknown[] = [];
    const client = new Proxy({}, { get: (_, name) => () => used.push(name) });
    const outcome = buildScan(
      {
        context: ".",
        image: "reg.example/quarantine/app",
        tags: [],
        builder: "buildah",
        scanner: "trivy",
        failOn: "critical",
        onlyFixed: false,
        subscriptions: [],
        root: dir,
        ...over,
      },
      {
        client: client as never,
        exec,
        log: memoryLogger(),
        tempDir: dir,
        env: {},
        today: new Date(),
        version: "0",
      },
    );
    return { outcome, built: () => calls.filter((c) => c[0] === "buildah"), used };
  }

  it("scanner: defender without a subscription", async () => {
    const a = await attempt({ scanner: "defender" });
    await expect(a.outcome).rejects.toMatchObject({
      code: "SCAN_SUBSCRIPTION_INVALID",
      input: "subscription",
    });
    expect(a.built()).toEqual([]);
    expect(a.used).toEqual([]);
  });

  it("a scan-report that does not exist", async () => {
    const a = await attempt({ scanReport: "nope.json" });
    await expect(a.outcome).rejects.toMatchObject({
      code: "SCAN_REPORT_UNREADABLE",
      input: "scan-report",
      message: expect.stringContaining("nope.json"),
    });
    expect(a.built()).toEqual([]);
    expect(a.used).toEqual([]);
  });
});

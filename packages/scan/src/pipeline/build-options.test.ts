import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "@platform/core";
import { describe, expect, it } from "vitest";
import { type BuildOptions, buildImage, NO_BUILD_OPTIONS } from "./build.ts";
import type { Exec } from "./exec.ts";

// buildah's argv is proven by the real buildah in test/e2e/build-scan-options.itg.test.ts; buildx (no daemon
// here) is checked as argv: the same options, the cache specs passed through, the secret only in a file.
describe("build options as buildx argv", () => {
  async function run(options: Partial<BuildOptions>) {
    const dir = await mkdtemp(join(tmpdir(), "build-options-"));
    await mkdir(join(dir, "ctx"));
    await writeFile(join(dir, "ctx", "Dockerfile"), "FROM scratch\n");
    const calls: string[][] = [];
    const exec: Exec = async (cmd, args) => {
      calls.push([cmd, ...args]);
      return { code: 0, stdout: "28\n", stderr: "" };
    };
    const log = memoryLogger();
    await buildImage(
      {
        context: join(dir, "ctx"),
        builder: "buildx",
        tempDir: dir,
        env: {},
        options: { ...NO_BUILD_OPTIONS, ...options },
      },
      { exec, log },
    );
    return { build: calls.find((c) => c[2] === "build")!, log };
  }

  it("passes build args, labels, target, platforms and caches, and the secret as a 0600 file", async () => {
    const { build, log } = await run({
      buildArgs: ["VERSION=1.2.3"],
      labels: ["team=orders"],
      target: "release",
      platforms: ["linux/amd64", "linux/arm64"],
      secrets: ["npm_token=s3cr3t-value"],
      cacheFrom: ["type=gha"],
      cacheTo: ["type=gha,mode=max"],
    });
    const after = (flag: string) => build.flatMap((a, i) => (a === flag ? [build[i + 1]!] : []));
    expect(after("--build-arg")).toEqual(["VERSION=1.2.3"]);
    expect(after("--label")).toEqual(["team=orders"]);
    expect(after("--target")).toEqual(["release"]);
    expect(after("--platform")).toEqual(["linux/amd64,linux/arm64"]);
    expect(after("--cache-from")).toEqual(["type=gha"]);
    expect(after("--cache-to")).toEqual(["type=gha,mode=max"]);
    const [secret] = after("--secret");
    expect(secret).toMatch(/^id=npm_token,src=/);
    expect(build.join(" ")).not.toContain("s3cr3t-value");
    expect(await readFile(secret!.split("src=")[1]!, "utf8")).toBe("s3cr3t-value");
    // Registered with the masker: a later line that carries it shows *** instead.
    log.info("echo s3cr3t-value");
    expect(log.lines.at(-1)!.line).not.toContain("s3cr3t-value");
  });
});

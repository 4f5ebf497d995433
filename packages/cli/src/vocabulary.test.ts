import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlatformError } from "@platform/core";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { describeForCli } from "./errors.ts";
import { createProgram } from "./main.ts";
import { runCaptured } from "./run-captured.ts";

const description = join(import.meta.dirname, "../../../examples/northwind/cluster/aks-northwind-prod.json");
// An Actions job with an OIDC token endpoint (never reached: sign-in fails on what is missing first).
const actionsEnv = {
  GITHUB_ACTIONS: "true",
  ACTIONS_ID_TOKEN_REQUEST_URL: "http://127.0.0.1:9/token",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "not-a-real-token",
};

describe("one vocabulary across CLI, actions and workflows (issue 17)", () => {
  it("upgrade apply takes --plan-file like upgrade plan writes it; --plan still works, with a deprecation warning", async () => {
    const ws = await mkdtemp(join(tmpdir(), "cli-vocab-"));
    const now = await runCaptured(["upgrade", "apply", "--plan-file", "missing.json"], ws);
    expect(now.code).toBe(2);
    expect(now.err).toContain("Cannot read the plan file");
    expect(now.err).toContain("[option --plan-file]");
    expect(now.err).not.toContain("deprecated");
    const old = await runCaptured(["upgrade", "apply", "--plan", "missing.json"], ws);
    expect(old.code).toBe(2);
    expect(old.err).toContain("warn: --plan is deprecated: use --plan-file");
    // The library blames its input `plan`; from the terminal that is the flag now named --plan-file.
    expect(old.err).toContain("[option --plan-file]");
    const help = await runCaptured(["upgrade", "apply", "--help"], ws);
    expect(help.out).toContain("--plan-file <file>");
    expect(help.out).not.toMatch(/--plan </);
  });

  it("--subscription-id, --tenant-id and --client-id (azure/login's names) on every Azure command; --subscription is a deprecated alias", async () => {
    const { program } = createProgram({ out: () => {}, err: () => {}, env: {}, cwd: "/" });
    const find = (path: string) =>
      path.split(" ").reduce<Command>((c, name) => c.commands.find((x) => x.name() === name)!, program);
    for (const path of ["upgrade plan", "upgrade apply", "build-scan"])
      expect(
        find(path).options.map((o) => o.long),
        path,
      ).toEqual(expect.arrayContaining(["--subscription-id", "--tenant-id", "--client-id"]));
    for (const path of ["sign", "verify", "canary gate", "canary serve"])
      expect(
        find(path).options.map((o) => o.long),
        path,
      ).toEqual(expect.arrayContaining(["--tenant-id", "--client-id"]));
    const ws = await mkdtemp(join(tmpdir(), "cli-vocab-"));
    const old = await runCaptured(
      ["upgrade", "plan", "--description", description, "--subscription", "s", "-o", "json"],
      ws,
    );
    expect(old.code, old.err).toBe(0);
    expect(old.err).toContain("warn: --subscription is deprecated: use --subscription-id");
  });

  it("--tenant-id and --client-id reach the sign-in; what is missing is named by its flag, never the action input", async () => {
    const ws = await mkdtemp(join(tmpdir(), "cli-vocab-"));
    const base = ["upgrade", "plan", "--cluster", "aks", "--resource-group", "rg", "--subscription-id", "s"];
    const arm = ["--arm-endpoint", "https://127.0.0.1:9"];
    const noTenant = await runCaptured([...base, ...arm], ws, actionsEnv);
    expect(noTenant.code).toBe(2);
    expect(noTenant.err).toContain(
      "No Entra tenant ID was given for GitHub OIDC sign-in to Azure [option --tenant-id]",
    );
    expect(noTenant.err).toContain("(or --tenant-id)");
    expect(noTenant.err).not.toMatch(/\binput\b/);
    const noClient = await runCaptured(
      [...base, ...arm, "--tenant-id", "contoso.onmicrosoft.com"],
      ws,
      actionsEnv,
    );
    expect(noClient.code).toBe(2);
    expect(noClient.err).toContain(
      "No client ID was given for GitHub OIDC sign-in to Azure [option --client-id]",
    );
  });

  it("sign: provenance is on by default in a GitHub Actions run (as the action), and refused where no run's facts exist", async () => {
    const ws = await mkdtemp(join(tmpdir(), "cli-vocab-"));
    const args = ["sign", "--image-ref", `reg.example/app@sha256:${"a".repeat(64)}`, "--key", "none.pem"];
    const r = await runCaptured([...args, "--provenance"], ws);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--provenance needs the facts of a GitHub Actions run [option --provenance]");
    // Without the flag outside a run there is no provenance and no such error (the key is what fails).
    const plain = await runCaptured(args, ws);
    expect(plain.err).not.toContain("provenance");
    const help = await runCaptured(["sign", "--help"], ws);
    expect(help.out).toContain("--no-provenance");
    expect(help.out).toMatch(/--layout <dir> +oci:<dir>/);
  });

  it("describeForCli rewrites the action's words for inputs into the command's flags, and leaves other text alone", () => {
    const { program } = createProgram({ out: () => {}, err: () => {}, env: {}, cwd: "/" });
    const cmd = program.commands.find((c) => c.name() === "build-scan")!;
    const err = new PlatformError("X", "trivy is not installed and no scan-report was given", {
      input: "scan-report",
      hint: "Install Trivy first (aquasecurity/setup-trivy), pass `scan-report`, or use scanner: defender (the scan-report input).",
    });
    expect(describeForCli(err, cmd)).toBe(
      "trivy is not installed and no --scan-report was given [option --scan-report]\n  hint: Install Trivy first (aquasecurity/setup-trivy), pass --scan-report, or use --scanner defender (--scan-report).",
    );
    const file = new PlatformError("Y", "registries: Unrecognized key", { file: "platform.yaml", line: 3 });
    expect(describeForCli(file, cmd)).toBe("platform.yaml:3: registries: Unrecognized key");
    // Text that only looks like an input: a file path, "cluster: x" inside quoted input, a value that is no choice.
    const quoted = new PlatformError("Z", 'not JSON: "image: x" is not valid', {
      file: "/tmp/scan-report/from-stdin.json",
      hint: "scanner: docker is not one; see the waivers file.",
    });
    expect(describeForCli(quoted, cmd)).toBe(
      '/tmp/scan-report/from-stdin.json: not JSON: "image: x" is not valid\n  hint: scanner: docker is not one; see the waivers file.',
    );
  });
});

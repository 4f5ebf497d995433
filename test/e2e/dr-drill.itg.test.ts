// `platform dr drill` as a user runs it: the bundled CLI as a process, signing in through GitHub OIDC (the
// GitHub and Entra fakes, as a workflow with id-token: write does), against the DR ARM fake over HTTPS.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSignIn } from "../aks/helpers.ts";
import { type DrFake, startDrFake } from "../fakes/arm/dr.ts";
import { REPO_ROOT } from "../peers/index.ts";

const BIN = join(REPO_ROOT, "packages", "cli", "bin", "platform.js");
const NORTHWIND = join(REPO_ROOT, "examples", "northwind", "platform.yaml");
let signIn: Awaited<ReturnType<typeof startSignIn>>;
let fake: DrFake;
let ws: string;

beforeAll(async () => {
  signIn = await startSignIn();
  ws = await mkdtemp(join(tmpdir(), "dr-drill-ws-"));
});
afterAll(async () => {
  await signIn.close();
  await rm(ws, { recursive: true, force: true });
});
afterEach(async () => {
  expect(fake.arm.mismatches).toEqual([]);
  await fake.close();
});

async function start(readyAfter: number | "never") {
  fake = await startDrFake({
    origins: { "aks-eastus2": 1, "aks-centralus": 2 },
    flux: {
      "aks-northwind-standby-centralus/platform": { suspend: true, kustomizations: ["infra", "apps"] },
      "aks-northwind-standby-centralus/teams": { suspend: true, kustomizations: ["teams"] },
    },
    replications: { centralus: { location: "centralus", regionEndpointEnabled: true } },
    readyAfter,
  });
  await writeFile(join(ws, "ca.pem"), `${signIn.entra.ca}\n${fake.arm.ca}\n`);
}

/** Runs the CLI as a process; async, because the fakes it talks to live in this process's event loop. */
function platform(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ws,
    env: {
      PATH: process.env.PATH,
      NO_COLOR: "1",
      ...signIn.env,
      NODE_EXTRA_CA_CERTS: join(ws, "ca.pem"),
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const apply = (config: string, name: string) =>
  platform([
    "dr",
    "drill",
    "--apply",
    "--config",
    config,
    "--state",
    `${name}-state.json`,
    "--report",
    `${name}.json`,
    "--summary",
    `${name}.md`,
    "--arm-endpoint",
    fake.arm.url,
    "--authority-host",
    signIn.entra.url,
  ]);

/** The run's secrets: the job's OIDC request token, the OIDC tokens minted and the Entra tokens issued. */
const secrets = () =>
  [
    signIn.github.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    ...signIn.github.minted.map((m) => m.token),
    ...signIn.entra.issued.map((i) => i.accessToken),
  ].filter((s): s is string => !!s && s.length >= 8);

describe("platform dr drill --apply (bundled CLI, GitHub OIDC, ARM fake)", () => {
  it("fails Northwind over, prints the RTO table, writes the report and the job summary, leaks no token", async () => {
    await start(3);
    const r = await apply(NORTHWIND, "northwind");
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain("DR drill eastus2 → centralus: succeeded");
    expect(r.stdout).toMatch(/front-door\s+5m\s+[\d.]+s\s+\d+%\s+1\s+ok/);
    expect(r.stdout).toMatch(/total\s+31m\s+[\d.]+s\s+SUCCEEDED/);
    const report = JSON.parse(await readFile(join(ws, "northwind.json"), "utf8"));
    expect(report).toMatchObject({ schema: "platform.dr/drill-result@1", status: "succeeded" });
    const summary = await readFile(join(ws, "northwind.md"), "utf8");
    expect(summary).toContain("## ✅ DR drill eastus2 → centralus: succeeded");
    expect(summary).toContain(
      "| 4 | ACR: images pull from northwindacr's centralus replica (centralus) | 3m |",
    );
    expect(fake.origins.get("aks-centralus")!.priority).toBe(1);
    expect(signIn.entra.issued.length).toBeGreaterThan(0);
    const shown = [
      r.stdout,
      r.stderr,
      summary,
      JSON.stringify(report),
      await readFile(join(ws, "northwind-state.json"), "utf8"),
    ].join("\n");
    expect(secrets().filter((s) => shown.includes(s))).toEqual([]);
  });

  it("exits 1 with the reason when a Kustomization is not Ready by the deadline", async () => {
    await start("never");
    const config = (await readFile(NORTHWIND, "utf8")).replace(
      "rto: { frontDoor: 5m, fluxResume: 3m, kustomizations: 20m, registry: 3m }",
      "rto: { frontDoor: 5m, fluxResume: 3m, kustomizations: 2s, registry: 3m }\n  pollInterval: 1s",
    );
    expect(config).toContain("kustomizations: 2s");
    await writeFile(join(ws, "short.yaml"), config);
    const r = await apply("short.yaml", "never");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain("DR drill eastus2 → centralus: failed");
    expect(r.stdout).toMatch(/kustomizations-ready\s+2s\s+[\d.]+s\s+\d+%\s+1\s+FAILED/);
    expect(r.stdout).toContain("Ready=False (HealthCheckFailed");
    expect(r.stdout).toMatch(/acr-replica\s+3m\s+-\s+-\s+0\s+not run/);
    const report = JSON.parse(await readFile(join(ws, "never.json"), "utf8"));
    expect(report.failed).toMatchObject({ step: "kustomizations-ready", code: "DR_STEP_DEADLINE" });
  });
});

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTeamsConfig, renderTeams } from "@platform/tenancy";
import { afterAll, describe, expect, it } from "vitest";
import type { Cli } from "./cli.ts";
import { deliverySteps, platformPicture, recordDelivery } from "./picture.ts";

const example = join(import.meta.dirname, "../../../examples/northwind");
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const northwind = async () =>
  parseTeamsConfig(await readFile(join(example, "platform.yaml"), "utf8"), "platform.yaml");

const PRINTED = [
  "build-scan: push by digest, gate the bundled Trivy report (fail-on high, only fixed, waivers), promote:",
  "passed: 7 finding(s) — 1 critical, 2 high; 0 fail the gate",
  `promoted oci:<tmp>/trusted-orders-api@sha256:${"0".repeat(64)} (blobs: 2 copied)`,
  "  decision: rollback (errors.harm)",
  "  decision: promote (promote.max-duration)",
  `✅ Signed northwind.azurecr.io/orders-api@sha256:${"1".repeat(64)}`,
  `❌ Not verified: northwind.azurecr.io/orders-api@sha256:${"2".repeat(64)}`,
].join("\n");

describe("the demo's platform picture", () => {
  it("says what each delivery step printed as its outcome, and when a step printed none", () => {
    const steps = Object.fromEntries(deliverySteps(PRINTED).map((s) => [s.step, s.did]));
    expect(steps["build-scan"]).toBe(
      `passed: 7 finding(s) — 1 critical, 2 high; 0 fail the gate; promoted oci:<tmp>/trusted-orders-api@sha256:${"0".repeat(12)}… (blobs: 2 copied)`,
    );
    expect(steps["canary-gate"]).toBe(
      "decision: rollback (errors.harm); decision: promote (promote.max-duration)",
    );
    expect(steps.verify).toMatch(/^❌ Not verified/);
    expect(steps["digest-bump"]).toBe("(no outcome printed: the step did not run)");
  });

  it("shows every team, the identities and the allowed calls as the render enforces them", async () => {
    const config = await northwind();
    const { terminal, markdown } = platformPicture(config, renderTeams(config), deliverySteps(PRINTED));
    for (const t of config.teams)
      expect(terminal).toContain(`${t.name}[${t.name}: ${t.services.length} services]`);
    expect(terminal).toContain("6 teams, 28 services, 28 workload identities");
    expect(terminal).toContain("  storefront -->|");
    expect(terminal).toContain("  gateway -->|1| storefront");
    expect(terminal.split("\n").length).toBeLessThan(50);
    expect(markdown).toContain("  storefront_web --> orders_api");
    expect(markdown).toContain("  gateway --> customers_support");
    expect(markdown).toContain("| id-orders-api | `system:serviceaccount:orders:api` |");
    expect(markdown.match(/^\| id-/gm)).toHaveLength(28);
  });

  it("recordDelivery tees the steps' output and ends with the picture, written to the file it names", async () => {
    const dir = await mkdtemp(join(tmpdir(), "picture-"));
    dirs.push(dir);
    let shown = "";
    const cli = { out: (s: string) => (shown += s) } as unknown as Cli;
    const delivery = recordDelivery(cli);
    cli.out(`${PRINTED}\n`);
    await delivery.picture(example, join(dir, "picture.md"));
    expect(shown.startsWith(PRINTED)).toBe(true);
    expect(shown).toContain(
      `The full picture (every service, identity and allowed call): ${join(dir, "picture.md")}`,
    );
    expect(await readFile(join(dir, "picture.md"), "utf8")).toContain("# The platform picture (Northwind)");
  });
});

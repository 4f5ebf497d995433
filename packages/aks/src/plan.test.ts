import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { API_REMOVALS, lookupApi } from "./catalogue.ts";
import { occurrences, windowStatus } from "./maintenance.ts";
import { planUpgrade } from "./plan.ts";
import { planMarkdown, planText } from "./summary.ts";
import type { ClusterSnapshot } from "./types.ts";
import { resolveTarget } from "./versions.ts";
import { apiFindings, drainFindings, type ManifestObject } from "./workloads.ts";

const EXAMPLE = join(import.meta.dirname, "../../../examples/northwind/cluster/aks-northwind-prod.json");
const cluster = (): ClusterSnapshot => JSON.parse(readFileSync(EXAMPLE, "utf8"));
const NOW = new Date("2026-11-25T16:00:00Z");
const obj = (o: ManifestObject["obj"], file = "m.yaml", line = 1): ManifestObject => ({ obj: o, file, line });

describe("target resolution", () => {
  it("latest-patch stays in the minor", () => {
    expect(resolveTarget(cluster(), "latest-patch")).toEqual({ version: "1.30.10", path: ["1.30.10"] });
  });
  it("latest-minor goes one minor at a time: 1.30 → 1.32 is two ordered hops, skipping preview 1.33", () => {
    expect(resolveTarget(cluster(), "latest-minor")).toEqual({
      version: "1.32.4",
      path: ["1.31.6", "1.32.4"],
    });
  });
  it("an exact version two minors up passes through the latest patch of the minor between", () => {
    expect(resolveTarget(cluster(), "1.32.0").path).toEqual(["1.31.6", "1.32.0"]);
  });
  it("a version that is not offered is an error listing the offered ones", () => {
    expect(() => resolveTarget(cluster(), "1.31.3")).toThrow(
      /not offered.*offered: 1\.30\.10, 1\.31\.2, 1\.31\.6, 1\.32\.0, 1\.32\.4/,
    );
    expect(() => resolveTarget(cluster(), "1.29.11")).toThrow(/not offered/);
    expect(() => resolveTarget(cluster(), "v1.31")).toThrow(/not latest-patch, latest-minor or x\.y\.z/);
  });
  it("the current version is a no-op", () => {
    expect(resolveTarget(cluster(), "1.30.7")).toEqual({ version: "1.30.7", path: [] });
  });
});

describe("catalogue", () => {
  it("names a replacement for every removed API except PodSecurityPolicy", () => {
    for (const e of API_REMOVALS)
      if (e.kind !== "PodSecurityPolicy") expect(e.replacement, e.apiVersion).toBeTruthy();
    expect(lookupApi("batch/v1beta1", "CronJob")).toMatchObject({
      removedIn: "1.25",
      replacement: "batch/v1",
    });
    expect(lookupApi("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema")?.removedIn).toBe("1.32");
    expect(lookupApi("apps/v1", "Deployment")).toBeUndefined();
  });
  it("blocks APIs removed on the way, warns on deprecated ones", () => {
    const fs = obj(
      { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", kind: "FlowSchema", metadata: { name: "x" } },
      "a.yaml",
      7,
    );
    expect(apiFindings([fs], "1.30.7", "1.31.6")).toMatchObject([
      { check: "deprecated-api", severity: "warning" },
    ]);
    expect(apiFindings([fs], "1.30.7", "1.32.4")).toMatchObject([
      {
        check: "removed-api",
        severity: "blocker",
        file: "a.yaml",
        line: 7,
        fix: expect.stringContaining("flowcontrol.apiserver.k8s.io/v1"),
      },
    ]);
  });
});

describe("drain checks", () => {
  const deploy = (name: string, replicas?: number) =>
    obj({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "shop" },
      spec: {
        ...(replicas === undefined ? {} : { replicas }),
        template: { metadata: { labels: { app: name } } },
      },
    });
  const pdb = (name: string, spec: Record<string, unknown>) =>
    obj({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, namespace: "shop" },
      spec: { selector: { matchLabels: { app: name } }, ...spec },
    });

  it("flags maxUnavailable 0 and minAvailable ≥ replicas, not a PDB that allows one eviction", () => {
    const f = drainFindings([
      deploy("a", 3),
      pdb("a", { maxUnavailable: 0 }),
      deploy("b", 2),
      pdb("b", { minAvailable: "100%" }),
      deploy("c", 3),
      pdb("c", { minAvailable: 2 }),
    ]);
    expect(f.filter((x) => x.check === "pdb-blocks-drain").map((x) => x.subject)).toEqual([
      "PodDisruptionBudget shop/a",
      "PodDisruptionBudget shop/b",
    ]);
  });
  it("flags single-replica workloads (replicas defaults to 1; bigint from rendered YAML counts)", () => {
    expect(drainFindings([deploy("big", 2n as unknown as number)])).toEqual([]);
    expect(drainFindings([deploy("solo"), deploy("pair", 2)]).map((x) => x.subject)).toEqual([
      "Deployment shop/solo",
    ]);
  });
});

describe("planner", () => {
  it("plans control plane, then each pool, per hop, with ARM changes and durations", () => {
    const p = planUpgrade(cluster(), { target: "latest-minor", now: NOW });
    expect(p.steps.map((s) => s.id)).toEqual([
      "control-plane@1.31.6",
      "pool:system@1.31.6",
      "pool:apps@1.31.6",
      "control-plane@1.32.4",
      "pool:system@1.32.4",
      "pool:apps@1.32.4",
    ]);
    expect(p.steps[0]!.arm.change).toEqual({ "properties.kubernetesVersion": ["1.30.7", "1.31.6"] });
    expect(p.steps[2]!.arm.path).toMatch(/agentPools\/apps$/);
    // 6 nodes at the default surge of one node: 6 batches.
    expect(p.steps[2]!.duration.minMinutes).toBe(24);
    expect(p.findings.find((f) => f.check === "no-surge")).toMatchObject({
      subject: "pool apps",
      step: "pool:apps@1.31.6",
    });
    expect(p.blocked).toBe(false);
  });
  it("a latest-patch with no newer patch still refreshes node images", () => {
    const c = cluster();
    c.kubernetesVersion = "1.30.10";
    for (const pool of c.pools) pool.orchestratorVersion = "1.30.10";
    const p = planUpgrade(c, { target: "latest-patch", now: NOW });
    expect(p.steps.map((s) => s.id)).toEqual(["node-image:system", "node-image:apps"]);
    expect(p.steps[0]!.arm.method).toBe("POST");
  });
  it("removed APIs in the manifests and an operation in progress block the plan", () => {
    const c = cluster();
    c.provisioningState = "Upgrading";
    const manifests = [
      obj({
        apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3",
        kind: "FlowSchema",
        metadata: { name: "x" },
      }),
    ];
    const p = planUpgrade(c, { target: "latest-minor", now: NOW, manifests });
    expect(p.blocked).toBe(true);
    expect(p.findings.filter((f) => f.severity === "blocker").map((f) => f.check)).toEqual([
      "operation-in-progress",
      "removed-api",
    ]);
  });
  it("only the pools asked for; an unknown pool is an input error naming the pools", () => {
    const p = planUpgrade(cluster(), { target: "latest-patch", pools: ["apps"], now: NOW });
    expect(p.steps.map((s) => s.id)).toEqual(["control-plane@1.30.10", "pool:apps@1.30.10"]);
    expect(p.findings.some((f) => f.check === "pool-left-behind" && f.subject === "pool system")).toBe(true);
    expect(() => planUpgrade(cluster(), { target: "latest-patch", pools: ["gpu"], now: NOW })).toThrow(
      /gpu not found/,
    );
  });
  it("flags an out-of-support version", () => {
    const c = cluster();
    c.kubernetesVersion = "1.28.15";
    c.upgrades = [{ kubernetesVersion: "1.29.11" }];
    const p = planUpgrade(c, { target: "latest-patch", now: NOW });
    expect(p.findings.some((f) => f.check === "version-out-of-support")).toBe(true);
  });
  it("renders a Markdown summary and text with the steps and fixes", () => {
    const p = planUpgrade(cluster(), { target: "latest-minor", now: NOW });
    const md = planMarkdown(p);
    expect(md).toMatch(/^## ✅ Upgrade plan for aks-northwind-prod: 1\.30\.7 → 1\.32\.4/);
    expect(md).toContain("```mermaid");
    expect(md).toContain("| ⚠️ **no-surge**<br>pool apps |");
    const linked = planMarkdown(
      { ...p, findings: [{ ...p.findings[0]!, file: "config/api.yaml", line: 7 }] },
      { serverUrl: "https://github.com", repository: "o/r", sha: "abc" },
    );
    expect(linked).toContain("[config/api.yaml:7](https://github.com/o/r/blob/abc/config/api.yaml#L7)");
    expect(planText(p)).toMatch(
      /1\. control-plane@1\.31\.6\s+PUT properties\.kubernetesVersion: 1\.30\.7 → 1\.31\.6/,
    );
  });
});

describe("maintenance windows", () => {
  const weekly = cluster().maintenance[0]!.window!;
  it("finds the weekly Sunday window in its UTC offset", () => {
    // Sunday 2026-11-29 01:00 +01:00 = Sunday 00:00 UTC.
    expect(windowStatus(weekly, NOW).next?.start.toISOString()).toBe("2026-11-29T00:00:00.000Z");
    expect(windowStatus(weekly, new Date("2026-11-29T03:59:00Z")).open).toBe(true);
    expect(windowStatus(weekly, new Date("2026-11-29T04:00:00Z")).open).toBe(false);
  });
  it("honours intervalWeeks from startDate, relative monthly and not-allowed dates", () => {
    const every2 = {
      ...weekly,
      schedule: { weekly: { intervalWeeks: 2, dayOfWeek: "Sunday" } },
      startDate: "2026-11-22",
    };
    const starts = occurrences(every2, new Date("2026-11-20T00:00:00Z"), 31).map((o) =>
      o.start.toISOString().slice(0, 10),
    );
    expect(starts).toEqual(["2026-11-22", "2026-12-06", "2026-12-20"]);
    const lastFriday = {
      ...weekly,
      schedule: { relativeMonthly: { intervalMonths: 1, weekIndex: "Last", dayOfWeek: "Friday" } },
      utcOffset: "+00:00",
      startDate: undefined,
    };
    expect(windowStatus(lastFriday, NOW).next?.start.toISOString()).toBe("2026-11-27T01:00:00.000Z");
    const blocked = { ...lastFriday, notAllowedDates: [{ start: "2026-11-27", end: "2026-11-27" }] };
    expect(windowStatus(blocked, NOW).next?.start.toISOString()).toBe("2026-12-25T01:00:00.000Z");
  });
});

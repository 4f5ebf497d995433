import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStages } from "./fleet.ts";
import { type FleetRiskInput, type FleetRiskMember, fleetRiskReport } from "./fleet-risk.ts";
import { fleetRiskMarkdown, fleetRiskRows, fleetRiskText } from "./fleet-risk-summary.ts";

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: shop }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [{ name: app, image: "acr.io/${name}@sha256:${"a".repeat(64)}" }] }
`;
const pdb = (name: string, rule: string) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: ${name}, namespace: shop }
spec:
  ${rule}
  selector: { matchLabels: { app: ${name} } }
`;
const FLOWSCHEMA = `apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata: { name: batch-low }
spec: { priorityLevelConfiguration: { name: workload-low }, matchingPrecedence: 1000 }
`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "fleet-risk-"));
  const files: Record<string, string> = {
    "clusters/ok/app.yaml": `${deployment("orders", 3)}---\n${pdb("orders", "maxUnavailable: 1")}`,
    "clusters/pdb0/app.yaml": `${deployment("orders", 3)}---\n${pdb("orders", "maxUnavailable: 0")}`,
    "clusters/minall/app.yaml": `${deployment("cart", 2)}---\n${pdb("cart", "minAvailable: 2")}`,
    "clusters/single/app.yaml": `${deployment("cart", 1)}---\n${pdb("cart", "minAvailable: 1")}`,
    "clusters/flow/fs.yaml": FLOWSCHEMA,
    "clusters/empty/README.md": "nothing to apply here\n",
    "clusters/html/pdb.yaml": pdb('"x<img src=y>|z"', "maxUnavailable: 0"),
  };
  for (const [f, text] of Object.entries(files)) {
    await mkdir(join(root, f, ".."), { recursive: true });
    await writeFile(join(root, f), text);
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

const SUB = "00000000-0000-0000-0000-000000000001";
const member = (name: string, group: string, kubernetesVersion = "1.31.6"): FleetRiskMember => ({
  name,
  group,
  clusterId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-${name}`,
  kubernetesVersion,
});
const report = (over: Partial<FleetRiskInput>) =>
  fleetRiskReport({
    members: [member("canary", "canary"), member("eu", "prod"), member("us", "prod")],
    version: "1.32.4",
    upgradeType: "Full",
    stages: parseStages("canary=canary@600; prod=prod"),
    fleet: {
      members: [
        { name: "canary", path: "clusters/ok" },
        { name: "eu", path: "clusters/ok" },
        { name: "us", path: "clusters/ok" },
      ],
    },
    configFile: "platform.yaml",
    root,
    ...over,
  });

describe("fleet risk report", () => {
  it("a clean fleet is not blocked; members sharing a path share one render; rows follow the stages", async () => {
    const r = await report({});
    expect(r.blocked).toBe(false);
    expect(r.renders).toBe(1);
    expect(r.members.map((m) => `${m.stage}/${m.member}:${m.objects}`)).toEqual([
      "canary/canary:2",
      "prod/eu:2",
      "prod/us:2",
    ]);
    expect(r.stages).toEqual(["canary", "prod"]);
    expect(fleetRiskRows(r).rows[0]).toEqual([
      "canary",
      "canary",
      "aks-canary",
      "1.31.6 → 1.32.4",
      "2",
      "0",
      "0",
      "ok",
    ]);
  });

  it.each([
    ["maxUnavailable 0", "clusters/pdb0", "pdb-blocks-drain", /maxUnavailable is 0/],
    ["minAvailable = replicas", "clusters/minall", "pdb-blocks-drain", /minAvailable 2 ≥ the 2 replica/],
    [
      "a single-replica deployment with a PDB",
      "clusters/single",
      "pdb-blocks-drain",
      /minAvailable 1 ≥ the 1 replica/,
    ],
    ["an API the run's version removes", "clusters/flow", "removed-api", /removed in Kubernetes 1\.32/],
    ["a path that does not exist", "clusters/nope", "config-repo-unreadable", /clusters\/nope/],
    ["a path that renders nothing", "clusters/empty", "config-repo-empty", /renders no objects/],
  ])(
    "one bad member (%s) in the last stage blocks the whole plan, naming the member and stage",
    async (_w, path, check, reason) => {
      const r = await report({
        fleet: {
          members: [
            { name: "canary", path: "clusters/ok" },
            { name: "aks-eu", path: "clusters/ok" },
            { name: "us", path },
          ],
        },
      });
      expect(r.blocked).toBe(true);
      expect(r.blockers).toHaveLength(1);
      expect(r.blockers[0]).toMatchObject({ stage: "prod", member: "us", check });
      expect(r.blockers[0]!.reason).toMatch(reason);
      expect(r.members.filter((m) => m.blocked).map((m) => m.member)).toEqual(["us"]);
      expect(fleetRiskText(r)).toContain(`blocker prod/us ${check}:`);
      expect(fleetRiskMarkdown(r)).toContain("1 of 3 member(s) blocked; the update run is not created");
    },
  );

  it("a member without an entry is a blocker; an entry naming no member is reported", async () => {
    const r = await report({
      fleet: {
        members: [
          { name: "canary", path: "clusters/ok" },
          { name: "eu", path: "clusters/ok" },
          { name: "ap", path: "clusters/ok" },
        ],
      },
    });
    expect(r.blockers).toEqual([
      expect.objectContaining({ stage: "prod", member: "us", check: "config-repo-missing" }),
    ]);
    expect(r.unmatched).toEqual(["ap"]);
    expect(r.members.find((m) => m.member === "us")!.findings[0]!.file).toBe("platform.yaml");
  });

  it("without fleet.members nothing is checked: a warning per member, never a pass", async () => {
    const r = await report({ fleet: undefined });
    expect(r.configured).toBe(false);
    expect(r.blocked).toBe(false);
    expect(r.members.every((m) => m.findings.some((f) => f.check === "config-repo-not-configured"))).toBe(
      true,
    );
    expect(fleetRiskMarkdown(r)).toMatch(/^## ⚠️ /);
  });

  it("NodeImageOnly checks drains only, ControlPlaneOnly APIs only", async () => {
    const fleet = {
      members: [
        { name: "canary", path: "clusters/flow" },
        { name: "eu", path: "clusters/pdb0" },
        { name: "us", path: "clusters/ok" },
      ],
    };
    const images = await report({ fleet, upgradeType: "NodeImageOnly" });
    expect(images.blockers.map((b) => `${b.member}:${b.check}`)).toEqual(["eu:pdb-blocks-drain"]);
    expect(images.members[0]).toMatchObject({ from: "1.31.6", to: "1.31.6" });
    const cp = await report({ fleet, upgradeType: "ControlPlaneOnly" });
    expect(cp.blockers.map((b) => `${b.member}:${b.check}`)).toEqual(["canary:removed-api"]);
  });

  it("members are found by member name or cluster name; without stages every member is in Fleet's default stage", async () => {
    const r = await report({ stages: undefined, version: "1.31.6" });
    expect(r.members.map((m) => m.stage)).toEqual(["default", "default", "default"]);
    const flow = await report({
      stages: parseStages("canary=canary"),
      fleet: {
        members: [
          { name: "aks-canary", path: "clusters/flow" },
          { name: "eu", path: ["clusters/ok", "clusters/flow"] },
          { name: "us", path: "clusters/ok" },
        ],
      },
    });
    // Deprecated since 1.29, removed in 1.32: the run reaches 1.32, so a blocker in both members that render it.
    expect(flow.blockers.map((b) => `${b.stage}/${b.member}`)).toEqual(["canary/canary", "(no stage)/eu"]);
    expect(flow.renders).toBe(3);
  });

  it("the summary escapes what manifests name (an object name is untrusted text)", async () => {
    const r = await report({
      fleet: {
        members: [
          { name: "canary", path: "clusters/html" },
          { name: "eu", path: "clusters/ok" },
          { name: "us", path: "clusters/ok" },
        ],
      },
    });
    expect(r.blockers).toHaveLength(1);
    const md = fleetRiskMarkdown(r);
    expect(md).not.toContain("<img");
    expect(md).toContain("x&lt;img src=y&gt;&#124;z");
  });
});

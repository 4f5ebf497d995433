// A generated fleet for the risk-report tests and benchmark: N member clusters behind the AKS fake, in three
// stages (canary, wave1, wave2), and a config repo with one kustomize overlay per member over a shared base
// (a 3-replica Deployment with a PodDisruptionBudget that allows one eviction), named in platform.yaml's
// fleet.members. `bad` makes one member's overlay a blocker: a PDB with maxUnavailable 0, or a FlowSchema on
// an API the run's version removes.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ClusterSnapshot } from "@platform/aks";
import type { FakeFleet } from "../fakes/aks.ts";
import { northwind } from "./helpers.ts";

export const FLEET_SUB = "00000000-0000-0000-0000-000000000001";
export const FLEET_RG = "rg-fleet";
export const FLEET_NAME = "fleet-northwind";

export interface GeneratedFleet {
  clusters: ClusterSnapshot[];
  fleet: FakeFleet;
  /** fleet-stages for the three waves. */
  stages: string;
  /** The member names, in stage order. */
  members: string[];
}

const BASE = {
  "kustomization.yaml": "resources: [deployment.yaml, pdb.yaml]\n",
  "deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: { name: orders-api, namespace: orders }
spec:
  replicas: 3
  selector: { matchLabels: { app: orders-api } }
  template:
    metadata: { labels: { app: orders-api } }
    spec:
      containers:
        - name: api
          image: northwindacr.azurecr.io/orders-api@sha256:${"3b".repeat(32)}
`,
  "pdb.yaml": `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: orders-api, namespace: orders }
spec:
  maxUnavailable: 1
  selector: { matchLabels: { app: orders-api } }
`,
};

const BAD_PDB = `- target: { kind: PodDisruptionBudget, name: orders-api }
  patch: |-
    - op: replace
      path: /spec/maxUnavailable
      value: 0
`;

const REMOVED_API = `apiVersion: flowcontrol.apiserver.k8s.io/v1beta2
kind: FlowSchema
metadata: { name: batch-low }
spec: { priorityLevelConfiguration: { name: workload-low }, matchingPrecedence: 1000 }
`;

/** Writes the config repo (platform.yaml, base/, clusters/<member>/) under `dir` and returns the fleet for the fake. */
export async function writeFleet(
  dir: string,
  n: number,
  o: { bad?: { index: number; kind: "pdb" | "removed-api" }; version?: string } = {},
): Promise<GeneratedFleet> {
  const files: Record<string, string> = {};
  for (const [f, text] of Object.entries(BASE)) files[`base/${f}`] = text;
  const members: FakeFleet["members"] = [];
  const clusters: ClusterSnapshot[] = [];
  const version = o.version ?? "1.30.7";
  for (let i = 0; i < n; i++) {
    const name = `member-${String(i).padStart(2, "0")}`;
    const cluster = `aks-fleet-${String(i).padStart(2, "0")}`;
    const id = `/subscriptions/${FLEET_SUB}/resourceGroups/${FLEET_RG}/providers/Microsoft.ContainerService/managedClusters/${cluster}`;
    const group = i < 2 ? "canary" : i < 2 + Math.floor((n - 2) / 2) ? "wave1" : "wave2";
    members.push({ name, clusterId: id, group });
    clusters.push(
      northwind({
        id,
        name: cluster,
        resourceGroup: FLEET_RG,
        etag: undefined,
        kubernetesVersion: version,
        pools: northwind().pools.map((p) => ({ ...p, etag: undefined, orchestratorVersion: version })),
      }),
    );
    const bad = o.bad?.index === i ? o.bad.kind : undefined;
    files[`clusters/${name}/kustomization.yaml`] = [
      "resources:",
      "  - ../../base",
      ...(bad === "removed-api" ? ["  - flowschema.yaml"] : []),
      `commonAnnotations: { platform.example/cluster: ${cluster} }`,
      ...(bad === "pdb" ? ["patches:", BAD_PDB] : []),
      "",
    ].join("\n");
    if (bad === "removed-api") files[`clusters/${name}/flowschema.yaml`] = REMOVED_API;
  }
  files["platform.yaml"] = [
    "fleet:",
    "  members:",
    ...members.map((m) => `    - { name: ${m.name}, path: clusters/${m.name} }`),
    "",
  ].join("\n");
  for (const [f, text] of Object.entries(files)) {
    await mkdir(join(dir, f, ".."), { recursive: true });
    await writeFile(join(dir, f), text);
  }
  return {
    clusters,
    fleet: { resourceGroup: FLEET_RG, name: FLEET_NAME, members },
    stages: "canary=canary@600; wave1=wave1; wave2=wave2",
    members: members.map((m) => m.name),
  };
}

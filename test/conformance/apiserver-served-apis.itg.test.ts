// cluster-upgrade's removed-API catalogue against the real kube-apiserver 1.32's discovery: what the catalogue
// says is gone by 1.32 is not served and a manifest using it is refused by the server itself; what it says
// is still there is served; every replacement it recommends is served for the same kind; and the upgrade
// plan to 1.32 blocks each removed API.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { API_REMOVALS, type ClusterSnapshot, compareVersions, planUpgrade } from "@platform/aks";
import { beforeAll, describe, expect, it } from "vitest";
import { guessResource, useApiServer } from "../harness/apiserver.ts";
import { REPO_ROOT } from "../peers/index.ts";

const SERVER_MINOR = "1.32";
const NS = "served-apis";
const kas = await useApiServer();

const removed = API_REMOVALS.filter((e) => compareVersions(e.removedIn, SERVER_MINOR) <= 0);
const present = API_REMOVALS.filter((e) => compareVersions(e.removedIn, SERVER_MINOR) > 0);
const manifest = (apiVersion: string, kind: string) => ({
  apiVersion,
  kind,
  metadata: { name: `served-apis-${kind.toLowerCase()}`, namespace: NS },
});

describe.skipIf(!kas.ok)(`removed-API catalogue vs kube-apiserver ${SERVER_MINOR}`, () => {
  const k = kas.client!;
  let served: Set<string>;

  beforeAll(async () => {
    const version = await k.request("GET", "/version");
    expect(`${version.body.major}.${version.body.minor}`).toBe(SERVER_MINOR);
    served = new Set((await k.discovery()).groupVersions);
    await k.namespace(NS);
  });

  it("covers removals up to this release", () => {
    expect(removed.length).toBeGreaterThan(40);
  });

  it.each(removed.map((e) => [`${e.apiVersion} ${e.kind}`, e.removedIn, e] as const))(
    "%s (removed in %s): not served, and the server refuses a manifest using it",
    async (_, _removedIn, e) => {
      expect(await k.resourceFor(e.apiVersion, e.kind), "served by the real server").toBeUndefined();
      const r = await k.create(manifest(e.apiVersion, e.kind), { dryRun: true });
      expect(r.status, r.message).toBe(404);
    },
  );

  it("group/versions the catalogue removes entirely are absent from discovery", () => {
    const byGv = new Map<string, boolean>();
    for (const e of removed) byGv.set(e.apiVersion, true);
    const stillServed = [...byGv.keys()].filter((gv) => served.has(gv));
    // A group/version can outlive one of its kinds (none do in 1.32): list them so a change shows up.
    expect(stillServed).toEqual([]);
  });

  it.each(
    API_REMOVALS.filter((e) => e.replacement).map(
      (e) => [`${e.apiVersion} ${e.kind} → ${e.replacement}`, e] as const,
    ),
  )("%s: the recommended replacement is served for the same kind", async (_, e) => {
    const res = await k.resourceFor(e.replacement!, e.kind);
    expect(res, `${e.replacement} ${e.kind} is not served by ${SERVER_MINOR}`).toBeDefined();
    expect(res!.name).toBe(guessResource(e.kind));
    // The same manifest on the replacement reaches the resource (validation may refuse the empty object,
    // but the server knows the path): the 404 above is about the version, not about our request.
    const r = await k.create(manifest(e.replacement!, e.kind), { dryRun: true });
    expect(r.status, r.message).not.toBe(404);
  });

  // Empty while the catalogue's newest removal is 1.32; an entry for a later release must be served here.
  it.each(present.map((e) => [`${e.apiVersion} ${e.kind}`, e.removedIn, e] as const))(
    "%s (removed in %s): still served",
    async (_, _removedIn, e) => {
      expect(await k.resourceFor(e.apiVersion, e.kind)).toBeDefined();
    },
  );

  it("the upgrade plan to 1.32 blocks every API this server refuses", () => {
    const snapshot: ClusterSnapshot = JSON.parse(
      readFileSync(join(REPO_ROOT, "examples/northwind/cluster/aks-northwind-prod.json"), "utf8"),
    );
    const manifests = removed.map((e, i) => ({
      obj: manifest(e.apiVersion, e.kind),
      file: "m.yaml",
      line: i + 1,
    }));
    const plan = planUpgrade(snapshot, {
      target: "1.32.4",
      manifests,
      now: new Date("2026-11-25T16:00:00Z"),
    });
    const blocked = new Set(
      plan.findings.filter((f) => f.check === "removed-api" && f.severity === "blocker").map((f) => f.line),
    );
    const missed = manifests
      .filter((m) => !blocked.has(m.line))
      .map((m) => `${m.obj.apiVersion} ${m.obj.kind}`);
    expect(missed).toEqual([]);
  });
});

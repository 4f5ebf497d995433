// Differential test: `policy check` against the real kube-apiserver's ValidatingAdmissionPolicy admission.
// The built-in guardrails exported by builtinsAsVap (what `platform policy export-vap` writes) and a corpus
// of hand-written policies are installed into the server; every corpus object is submitted with
// ?dryRun=All, and our verdict and message must equal the server's for every object.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mapLimit, PlatformConfigSchema } from "@platform/core";
import { builtinParams, builtinsAsVap, type KubeObject as PolicyObject, policyCheck } from "@platform/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeObject, useApiServer } from "../harness/apiserver.ts";
import {
  compareObject,
  judged,
  type ObjectComparison,
  ourItems,
  type ServerOutcome,
  serverOutcome,
  table,
  writeReport,
  yamlStream,
} from "./apiserver/compare.ts";
import {
  corpus,
  ephemeralCorpus,
  ISTIO_CRDS,
  namespaceObjects,
  TEAM_NAMESPACES,
  TRUSTED,
  VAP_NAMESPACES,
  workload,
} from "./apiserver/corpus.ts";
import {
  addEphemeral,
  bindingResolver,
  createEphemeralBases,
  deleteEphemeralBases,
  install,
  scopeBindings,
  uninstall,
  waitForPolicies,
  yamlDocuments,
} from "./apiserver/setup.ts";

const kas = await useApiServer();
const HERE = new URL("./apiserver/", import.meta.url).pathname;
const SUITE_LABEL = "apiserver-vap.platform.test/corpus";
const PARAMS_NS = "vap-params";
/** Differences that are by design, by object id → reason. Keep this tiny. */
const BY_DESIGN: Record<string, string> = {};
/** Policies that never show on the server by construction, with the reason. */
const SILENT: Record<string, string> = {
  "corpus-secret-ignore": "failurePolicy Ignore: its evaluation errors are ignored, so it never denies",
};

const config = PlatformConfigSchema.parse({
  registries: { trusted: [TRUSTED] },
  teams: TEAM_NAMESPACES.map((namespace) => ({ name: namespace, namespace })),
});
const exported = builtinsAsVap(builtinParams(config), {
  excludedNamespaces: config.policy.excludedNamespaces,
});
const builtinDocs = scopeBindings(exported.documents as KubeObject[], SUITE_LABEL);
const corpusDocs = scopeBindings(
  yamlDocuments(join(HERE, "policies/corpus-vaps.yaml")) as KubeObject[],
  SUITE_LABEL,
);
const paramDocs = yamlDocuments(join(HERE, "policies/corpus-params.yaml")) as KubeObject[];
const namespaces: Record<string, Record<string, string>> = {
  ...VAP_NAMESPACES,
  [PARAMS_NS]: {},
  default: {},
};
for (const labels of Object.values(namespaces)) labels[SUITE_LABEL] = "true";
const EPHEMERAL_NS = "vap-team-a";
const objects = [...corpus(), ...ephemeralCorpus(EPHEMERAL_NS)];

describe.skipIf(!kas.ok)("ValidatingAdmissionPolicy: policy check vs the real kube-apiserver", () => {
  const k = kas.client!;
  let installed: KubeObject[] = [];
  let root = "";

  beforeAll(async () => {
    for (const [name, labels] of Object.entries(namespaces)) await k.namespace(name, labels);
    for (const crd of ISTIO_CRDS) {
      const r = await k.create(crd);
      if (!r.allowed && r.status !== 409)
        throw new Error(`CRD ${crd.metadata?.name}: ${r.status} ${r.message}`);
    }
    // Stored before the policies exist; their ephemeral containers are then added with dry-run updates.
    await createEphemeralBases(k, EPHEMERAL_NS);
    installed = await install(k, [...paramDocs, ...builtinDocs, ...corpusDocs]);
    const probe = workload("Deployment", "probe", "vap-team-a", {
      hostNetwork: true,
      containers: [{ name: "main", image: "nginx", securityContext: { privileged: true } }],
    });
    const names = [...builtinDocs, ...corpusDocs]
      .filter((d) => d.kind === "ValidatingAdmissionPolicy")
      .map((d) => d.metadata!.name!)
      .filter((n) =>
        [
          "platform-plat005-not-privileged",
          "platform-plat009-host-namespaces",
          "corpus-image-registry",
          "corpus-no-host-network-linux",
          "corpus-team-label",
        ].includes(n),
      );
    await waitForPolicies(k, probe as KubeObject, names);
    // The CRDs are served (and the mesh policies active) once an allow-all AuthorizationPolicy is denied.
    await k.waitForPolicyActive(
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "probe", namespace: "vap-team-a" },
        spec: { rules: [{}] },
      } as KubeObject,
      { message: "allows any caller", timeoutMs: 60_000 },
    );
    root = await mkdtemp(join(tmpdir(), "apiserver-vap-"));
  }, 300_000);

  afterAll(async () => {
    await uninstall(k, installed);
    await deleteEphemeralBases(k, EPHEMERAL_NS);
    for (const crd of ISTIO_CRDS) await k.delete(crd);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(`agrees with the server on every object (${objects.length} objects)`, async () => {
    const started = Date.now();
    const server = await mapLimit(
      objects,
      8,
      async (c): Promise<ServerOutcome> =>
        serverOutcome(
          c.ephemeral
            ? await addEphemeral(k, c.ephemeral, EPHEMERAL_NS)
            : await k.create(c.obj as KubeObject, { dryRun: true }),
        ),
    );
    const serverMs = Date.now() - started;

    // Ours: the same objects, policies and params through policyCheck, as the CLI runs it.
    await writeFile(join(root, "manifests.yaml"), yamlStream(objects.map((c) => c.obj)));
    await writeFile(join(root, "policies.yaml"), yamlStream(corpusDocs));
    const nsDocs = namespaceObjects(namespaces) as PolicyObject[];
    await writeFile(join(root, "params.yaml"), yamlStream([...paramDocs, ...nsDocs]));
    const oursStarted = Date.now();
    const result = await policyCheck({
      manifests: ["manifests.yaml"],
      render: "none",
      policies: ["builtin", "policies.yaml"],
      params: ["params.yaml"],
      mode: "enforce",
      config: { ...config, policy: { ...config.policy, disabledRules: exported.skipped.map((s) => s.id) } },
      root,
    });
    const oursMs = Date.now() - oursStarted;
    const ours = ourItems(result.results);
    const bindingOf = bindingResolver([...builtinDocs, ...corpusDocs]);

    const rows: Array<{
      id: string;
      kind: string;
      namespace: string;
      comparison: ObjectComparison;
      server: ServerOutcome;
    }> = [];
    const perPolicy = new Map<
      string,
      { serverFired: number; oursFired: number; agree: number; differ: number }
    >();
    const policyNames = [...builtinDocs, ...corpusDocs]
      .filter((d) => d.kind === "ValidatingAdmissionPolicy")
      .map((d) => d.metadata!.name!);
    for (const p of policyNames) perPolicy.set(p, { serverFired: 0, oursFired: 0, agree: 0, differ: 0 });
    objects.forEach((c, i) => {
      const key = `${c.obj.kind}/${c.obj.metadata.namespace}/${c.obj.metadata.name}`;
      // An ephemeral container arrives as an update of pods/ephemeralcontainers, which only rules naming that
      // subresource match (the built-ins do; the corpus policies name pods), while `policy check` judges the
      // Pod manifest itself: there only the built-ins are compared.
      const mine = (ours.get(key) ?? []).filter((m) => !c.ephemeral || m.policy.startsWith("platform-"));
      const comparison = compareObject(server[i]!, mine, bindingOf);
      rows.push({
        id: c.id,
        kind: c.obj.kind,
        namespace: c.obj.metadata.namespace!,
        comparison,
        server: server[i]!,
      });
      const s = server[i]!;
      const serverPolicies = new Set(
        judged(s) ? [...s.warnings.map((w) => w.policy), ...(s.denial ? [s.denial.policy] : [])] : [],
      );
      const oursPolicies = new Set(mine.map((m) => m.policy));
      for (const [p, stat] of perPolicy) {
        if (serverPolicies.has(p)) stat.serverFired++;
        if (oursPolicies.has(p)) stat.oursFired++;
        const ok = comparison.policies.get(p) ?? true;
        if (ok && judged(s)) stat.agree++;
        else stat.differ++;
      }
    });

    const differences = rows
      .filter((r) => !r.comparison.agree && !BY_DESIGN[r.id])
      .map((r) => `${r.kind} ${r.namespace}/${r.id}: ${r.comparison.problems.join(" | ")}`);
    const agree = rows.filter((r) => r.comparison.agree).length;
    const denied = rows.filter((r) => r.server.kind === "denied").length;
    const warned = rows.filter((r) => judged(r.server) && r.server.warnings.length > 0).length;
    const truncated = rows.filter((r) => judged(r.server) && r.server.truncated).length;
    const policyTable = table(
      ["policy", "server fired", "ours fired", "agree", "differ"],
      [...perPolicy].map(([p, s]) => [p, s.serverFired, s.oursFired, s.agree, s.differ]),
    );
    console.log(
      `VAP differential: ${objects.length} objects (server denied ${denied}, with warnings ${warned}, warnings truncated by the server ${truncated}); agree ${agree}, differ ${differences.length}, by design ${Object.keys(BY_DESIGN).length}; server ${serverMs} ms, policy check ${oursMs} ms\n${policyTable}\nnot exported (not compared): ${exported.skipped.map((s) => `${s.id} (${s.reason})`).join("; ")}`,
    );
    if (differences.length) console.log(`differences:\n${differences.slice(0, 80).join("\n")}`);
    await writeReport(join(process.cwd(), "test-results/apiserver-vap.json"), {
      objects: objects.length,
      agree,
      differ: differences.length,
      byDesign: BY_DESIGN,
      notExported: exported.skipped,
      policies: Object.fromEntries(perPolicy),
      differences,
      timings: { serverMs, oursMs },
    });
    expect(objects.length).toBeGreaterThanOrEqual(500);
    expect(denied).toBeGreaterThan(100);
    expect(differences).toEqual([]);
    // The ephemeral variants reached the built-ins through pods/ephemeralcontainers (not just "admitted").
    const ephemeralDenied = rows
      .filter((r) => r.id.startsWith("eph-") && r.server.kind === "denied")
      .map((r) => r.id);
    expect(ephemeralDenied.sort()).toEqual([
      "eph-bare",
      "eph-cap-sys-admin",
      "eph-escalation",
      "eph-non-root-false",
      "eph-privileged",
      "eph-run-as-root",
      "eph-seccomp-unconfined",
      "eph-untrusted-image",
    ]);
    for (const p of policyNames)
      if (SILENT[p]) expect(perPolicy.get(p)!.oursFired, `${p} fired`).toBe(0);
      else expect(perPolicy.get(p)!.serverFired, `${p} never fired`).toBeGreaterThan(0);
  }, 600_000);
});

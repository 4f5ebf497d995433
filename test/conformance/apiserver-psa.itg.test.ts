// Differential test: the built-in guardrails against the real kube-apiserver's Pod Security Admission. The
// pod-bearing corpus is submitted (?dryRun=All) into namespaces enforcing (and warning at) baseline and
// restricted; for every control the built-ins share with PSA, our verdict must agree with PSA's. Controls
// no built-in covers are listed (not counted as agreeing); where a built-in is stricter by design, it may
// deny more, never less.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mapLimit, PlatformConfigSchema } from "@platform/core";
import { type KubeObject as PolicyObject, policyCheck } from "@platform/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeObject, useApiServer } from "../harness/apiserver.ts";
import { table, writeReport, yamlStream } from "./apiserver/compare.ts";
import { type CorpusObject, corpus, ephemeralCorpus, TRUSTED } from "./apiserver/corpus.ts";
import { CONTROLS, type Level, type PsaOutcome, psaOutcome, violates } from "./apiserver/psa.ts";
import { addEphemeral, createEphemeralBases, deleteEphemeralBases } from "./apiserver/setup.ts";

const kas = await useApiServer();
const NAMESPACE: Record<Level, string> = { baseline: "psa-baseline", restricted: "psa-restricted" };
const corpusObjects = corpus().filter((c) => c.podBearing);
const ephemeralCases = ephemeralCorpus(NAMESPACE.restricted);
const objects: CorpusObject[] = [...corpusObjects, ...ephemeralCases];
const inNamespace = (obj: PolicyObject, namespace: string) =>
  ({ ...obj, metadata: { ...obj.metadata, namespace } }) as PolicyObject;

describe.skipIf(!kas.ok)("Pod Security Admission: built-in guardrails vs the real kube-apiserver", () => {
  const k = kas.client!;
  let root = "";

  beforeAll(async () => {
    for (const [level, ns] of Object.entries(NAMESPACE))
      await k.namespace(ns, {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": level,
        "pod-security.kubernetes.io/warn-version": "latest",
      });
    for (const ns of Object.values(NAMESPACE)) await createEphemeralBases(k, ns);
    root = await mkdtemp(join(tmpdir(), "apiserver-psa-"));
  }, 120_000);

  afterAll(async () => {
    for (const ns of Object.values(NAMESPACE)) await deleteEphemeralBases(k, ns);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(`agrees with PSA on every shared control (${objects.length} pod-bearing objects × 2 levels, ephemeral containers included)`, async () => {
    const started = Date.now();
    const psa: Record<Level, PsaOutcome[]> = { baseline: [], restricted: [] };
    for (const level of ["baseline", "restricted"] as const)
      psa[level] = await mapLimit(objects, 8, async (c) =>
        psaOutcome(
          c.ephemeral
            ? await addEphemeral(k, c.ephemeral, NAMESPACE[level])
            : await k.create(inNamespace(c.obj, NAMESPACE[level]) as KubeObject, { dryRun: true }),
        ),
      );
    const serverMs = Date.now() - started;

    // Ours: the built-ins (platform.yaml defaults: allowedCapabilities [NET_BIND_SERVICE]) through policyCheck.
    const config = PlatformConfigSchema.parse({ registries: { trusted: [TRUSTED] } });
    await writeFile(
      join(root, "manifests.yaml"),
      yamlStream(objects.map((c) => inNamespace(c.obj, NAMESPACE.restricted))),
    );
    const result = await policyCheck({
      manifests: ["manifests.yaml"],
      render: "none",
      policies: ["builtin"],
      mode: "enforce",
      config,
      root,
    });
    const failing = new Map<string, Set<string>>();
    for (const r of result.results) {
      if (r.verdict !== "fail" && r.verdict !== "error") continue;
      const key = `${r.kind}/${r.name}`;
      const set = failing.get(key) ?? new Set<string>();
      set.add(r.policy.split("/")[0]!);
      failing.set(key, set);
    }

    const problems: string[] = [];
    const rows = CONTROLS.map((c) => {
      const stat = { objects: 0, psaDenied: 0, agree: 0, stricter: 0, looser: 0 };
      objects.forEach((o, i) => {
        const p = psa[c.level][i]!;
        if (!p.judged) return;
        stat.objects++;
        const theirs = violates(c, p);
        if (theirs) stat.psaDenied++;
        if (!c.rule) return;
        const ours = failing.get(`${o.obj.kind}/${o.obj.metadata.name}`)?.has(c.rule) ?? false;
        if (ours === theirs) stat.agree++;
        else if (ours) stat.stricter++;
        else stat.looser++;
        if (ours !== theirs && (c.relation === "exact" || !ours))
          problems.push(
            `${c.level}/${c.control} ${o.obj.kind} ${o.id}: PSA ${theirs ? "denies" : "allows"}, ${c.rule} ${ours ? "denies" : "allows"}`,
          );
      });
      return { ...c, ...stat };
    });
    const notJudged = (["baseline", "restricted"] as const).flatMap((l) =>
      psa[l].flatMap((p, i) => (p.judged ? [] : [`${l} ${objects[i]!.id}: ${p.message}`])),
    );
    const printed = table(
      [
        "level",
        "PSA control",
        "built-in",
        "relation",
        "objects",
        "PSA denies",
        "agree",
        "stricter",
        "looser",
      ],
      rows.map((r) => [
        r.level,
        r.control,
        r.rule ?? "no rule",
        r.relation,
        r.objects,
        r.psaDenied,
        r.rule ? r.agree : "-",
        r.rule ? r.stricter : "-",
        r.rule ? r.looser : "-",
      ]),
    );
    console.log(
      `PSA differential: ${objects.length} pod-bearing objects per level (${ephemeralCases.length} of them ephemeral containers added through pods/ephemeralcontainers); server ${serverMs} ms\n${printed}\nstricter by design:\n${rows
        .filter((r) => r.why)
        .map((r) => `  ${r.level}/${r.control} (${r.rule}): ${r.why}`)
        .join("\n")}`,
    );
    if (problems.length) console.log(`disagreements:\n${problems.slice(0, 80).join("\n")}`);
    if (notJudged.length) console.log(`not judged by PSA:\n${notJudged.join("\n")}`);
    await writeReport(join(process.cwd(), "test-results/apiserver-psa.json"), {
      objects: objects.length,
      controls: rows,
      disagreements: problems,
      notJudged,
      timings: { serverMs },
    });
    expect(notJudged).toEqual([]);
    expect(problems).toEqual([]);
    // Every covered control was exercised in both directions.
    for (const r of rows.filter((r) => r.rule)) {
      expect(r.psaDenied, `${r.level}/${r.control} never denied by PSA`).toBeGreaterThan(0);
      expect(r.psaDenied, `${r.level}/${r.control} denied everything`).toBeLessThan(r.objects);
    }
  }, 600_000);
});

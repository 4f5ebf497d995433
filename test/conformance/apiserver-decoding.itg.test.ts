// Differential test: how our manifest loader reads YAML against how the real kube-apiserver decodes it. Every
// corpus file goes to the server as raw `application/yaml` bytes (split on `---` lines as kubectl splits a
// stream; List items as kubectl sends them) with `?dryRun=All&fieldValidation=Strict` — kubectl's default —
// and through our loader (loadManifests, as `policy check` reads files). They agree when both refuse it, or
// both accept it with the same decoded object and the same built-in policy verdicts. A custom resource whose
// schema keeps every field (Probe) makes the server hand back its own YAML → JSON decoding to compare.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mapLimit, PlatformConfigSchema } from "@platform/core";
import { type LoadedObject, loadManifests, type PolicyResult, policyCheck } from "@platform/policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeClient, type KubeObject, type KubeResult, useApiServer } from "../harness/apiserver.ts";
import { table, writeReport } from "./apiserver/compare.ts";
import { CORPUS, type DecodingCase, NS, PROBE_GROUP } from "./decoding/corpus.ts";

const kas = await useApiServer();
const config = PlatformConfigSchema.parse({ registries: { trusted: ["registry.example"] } });

/**
 * Where we refuse and the server accepts, on purpose (fail closed); each must really differ, or it is stale.
 */
const STRICTER_BY_DESIGN: Record<string, string> = {
  "probe/key-json-collision":
    "keys 1 and '1' are different YAML keys that become one JSON key; the server keeps whichever Go's map order puts last, so we refuse instead of guessing",
  "stream/separator-with-content":
    'kubectl splits a stream itself and refuses content after `---` ("invalid Yaml document separator") before the server sees it; sent raw, the server\'s go-yaml reads it',
  "probe/raw-nel":
    "a raw U+0085 is a line break to go-yaml (YAML 1.1) but not to YAML 1.2 parsers, so the file means different things to different tools: we refuse it and name the escape to write",
  "probe/raw-line-separator":
    "a raw U+2028 is a line break to go-yaml (YAML 1.1) but not to YAML 1.2 parsers: refused, as U+0085",
};

const CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `probes.${PROBE_GROUP}` },
  spec: {
    group: PROBE_GROUP,
    names: { plural: "probes", singular: "probe", kind: "Probe", listKind: "ProbeList" },
    scope: "Namespaced",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
};

interface Side {
  accepted: boolean;
  messages: string[];
  objects: unknown[];
  verdicts: Record<string, string[]>;
}

/** kubectl's stream split: a line starting with `---` ends a document; empty and comment-only ones are dropped. */
function kubectlChunks(c: DecodingCase): Buffer[] {
  if (c.whole) return [c.bytes];
  const text = c.bytes.toString("latin1");
  return text
    .split(/^---[^\n]*\n?/m)
    .filter((chunk) => /^\s*[^#\s]/m.test(chunk))
    .map((chunk) => Buffer.from(chunk, "latin1"));
}

function kindOf(chunk: Buffer, whole: boolean): { apiVersion: string; kind: string } | undefined {
  const text =
    whole && chunk[0] === 0xff ? new TextDecoder("utf-16le").decode(chunk) : chunk.toString("latin1");
  const apiVersion =
    /^apiVersion:\s*([^\s#]+)/m.exec(text)?.[1] ?? /"apiVersion"\s*:\s*"([^"]+)"/.exec(text)?.[1];
  const kind = /^kind:\s*([^\s#]+)/m.exec(text)?.[1] ?? /"kind"\s*:\s*"([^"]+)"/.exec(text)?.[1];
  return apiVersion && kind ? { apiVersion, kind } : undefined;
}

const bigintJson = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x)));

/** Built-in policy verdicts per rule (PLAT…) for the objects in one file. */
async function verdicts(
  root: string,
  file: string,
): Promise<{ byRule: Record<string, string[]>; rows: PolicyResult[] }> {
  const r = await policyCheck({
    manifests: [file],
    render: "none",
    policies: ["builtin"],
    mode: "enforce",
    config,
    root,
  });
  const byRule: Record<string, string[]> = {};
  for (const row of r.results) {
    if (!row.policy.startsWith("PLAT")) continue;
    byRule[row.policy] = [...(byRule[row.policy] ?? []), `${row.name}:${row.verdict}`];
  }
  for (const v of Object.values(byRule)) v.sort();
  return { byRule, rows: r.results };
}

async function ours(root: string, i: number, c: DecodingCase): Promise<Side & { loaded: LoadedObject[] }> {
  const file = `case-${i}.yaml`;
  await writeFile(join(root, file), c.bytes);
  const loaded = await loadManifests({ inputs: [file], render: "none", root });
  const refusals = loaded.problems.filter((p) => p.verdict === "error");
  const { byRule } = await verdicts(root, file);
  return {
    accepted: refusals.length === 0 && loaded.objects.length > 0,
    messages: refusals.map((p) => `${p.file}:${p.line} ${p.message}`),
    objects: loaded.objects.map((o) => bigintJson(o.obj)),
    verdicts: byRule,
    loaded: loaded.objects,
  };
}

async function server(
  k: KubeClient,
  root: string,
  i: number,
  c: DecodingCase,
  loaded: LoadedObject[],
): Promise<Side> {
  const results: KubeResult[] = [];
  for (const chunk of kubectlChunks(c)) {
    const gvk = kindOf(chunk, !!c.whole);
    if (gvk?.kind === "List") {
      // kubectl flattens a List (nested ones too) and sends each item as JSON: the server judges the items.
      for (const o of loaded)
        results.push(
          await k.create(bigintJson(o.obj) as KubeObject, {
            dryRun: true,
            fieldValidation: "Strict",
            namespace: NS,
          }),
        );
      continue;
    }
    const path = gvk
      ? await k.collectionPath({ ...gvk, metadata: { namespace: NS } } as KubeObject, NS)
      : `/api/v1/namespaces/${NS}/configmaps`;
    // kubectl sends a JSON file as JSON (and YAML as JSON it converted): raw YAML lets the server convert.
    const type = chunk.toString("latin1").trimStart().startsWith("{")
      ? "application/json"
      : "application/yaml";
    results.push(await k.rawPost(path, chunk, type, { dryRun: "All", fieldValidation: "Strict" }));
  }
  const accepted = results.length > 0 && results.every((r) => r.allowed);
  const objects = accepted ? results.map((r) => r.body) : [];
  let byRule: Record<string, string[]> = {};
  if (accepted) {
    const file = `server-${i}.yaml`;
    // Escaped: raw line-break characters (U+0085, U+2028) are refused by our reader, on purpose.
    const json = (o: unknown) =>
      JSON.stringify(o).replace(
        /[\u0085\u2028\u2029]/g,
        (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
      );
    await writeFile(join(root, file), objects.map(json).join("\n---\n"));
    byRule = (await verdicts(root, file)).byRule;
  }
  return {
    accepted,
    messages: results.filter((r) => !r.allowed).map((r) => `${r.status} ${r.message}`),
    objects,
    verdicts: byRule,
  };
}

/** Paths where the server rewrites what it decoded (canonical quantities, stringData folded into data). */
const REWRITTEN = /(^|\.)(resources|stringData)(\.|$)/;

/** Our decoded value against the server's: every field a user wrote must come back as written (defaults aside). */
function sameObject(ourObj: unknown, theirs: unknown, probe: boolean, path = ""): string | undefined {
  if (probe && path === "") {
    const strip = (o: Record<string, unknown>) => {
      const { metadata, ...rest } = o;
      return { ...rest, name: (metadata as { name?: string } | undefined)?.name };
    };
    return sameObject(
      strip(ourObj as Record<string, unknown>),
      strip(theirs as Record<string, unknown>),
      false,
      "·",
    );
  }
  if (REWRITTEN.test(path)) return undefined;
  if (ourObj === null || ourObj === false || ourObj === 0 || ourObj === "") {
    // Zero values of omitempty fields do not come back (except in free-form data, where they must).
    if (!probe && !path.startsWith("·") && (theirs === undefined || theirs === ourObj)) return undefined;
  }
  if (Array.isArray(ourObj)) {
    if (!Array.isArray(theirs)) return `${path}: array vs ${JSON.stringify(theirs)}`;
    if (path.startsWith("·") && ourObj.length !== theirs.length)
      return `${path}: length ${ourObj.length} vs ${theirs.length}`;
    for (const [i, v] of ourObj.entries()) {
      const d = sameObject(v, theirs[i], probe, `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (ourObj && typeof ourObj === "object") {
    if (!theirs || typeof theirs !== "object") return `${path}: object vs ${JSON.stringify(theirs)}`;
    const t = theirs as Record<string, unknown>;
    if (path.startsWith("·")) {
      const extra = Object.keys(t).filter((k) => !(k in (ourObj as object)));
      if (extra.length) return `${path}: the server has more keys: ${extra.join(", ")}`;
    }
    for (const [k, v] of Object.entries(ourObj)) {
      const d = sameObject(v, t[k], probe, path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  return ourObj === theirs || (Number.isNaN(ourObj) && Number.isNaN(theirs))
    ? undefined
    : `${path}: ${JSON.stringify(ourObj)} vs ${JSON.stringify(theirs)}`;
}

describe.skipIf(!kas.ok)("YAML decoding: our manifest loader vs the real kube-apiserver", () => {
  const k = kas.client!;
  let root = "";

  beforeAll(async () => {
    await k.namespace(NS);
    const r = await k.create(CRD as KubeObject);
    if (!r.allowed && r.status !== 409) throw new Error(`CRD: ${r.status} ${r.message}`);
    // The CRD is served once established: poll with a harmless probe.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const p = await k.create(
        { apiVersion: `${PROBE_GROUP}/v1`, kind: "Probe", metadata: { name: "ready", namespace: NS } },
        { dryRun: true },
      );
      if (p.allowed) break;
      if (Date.now() > deadline) throw new Error(`Probe CRD not served: ${p.status} ${p.message}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    root = await mkdtemp(join(tmpdir(), "apiserver-decoding-"));
    await mkdir(root, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await k.delete(CRD as KubeObject);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(`agrees with the server on every document (${CORPUS.length} corpus files)`, async () => {
    const rows = await mapLimit(CORPUS, 4, async (c) => {
      const i = CORPUS.indexOf(c);
      const o = await ours(root, i, c);
      const s = await server(k, root, i, c, o.loaded);
      let difference: string | undefined;
      if (o.accepted !== s.accepted)
        difference = o.accepted ? "we accept, the server refuses" : "we refuse, the server accepts";
      else if (o.accepted) {
        if (o.objects.length !== s.objects.length)
          difference = `${o.objects.length} object(s) vs the server's ${s.objects.length}`;
        else
          for (const [j, obj] of o.objects.entries()) {
            difference ??= sameObject(obj, s.objects[j], c.name.startsWith("probe/"));
          }
        if (!difference && JSON.stringify(o.verdicts) !== JSON.stringify(s.verdicts))
          difference = `policy verdicts differ: ours ${JSON.stringify(o.verdicts)} vs on the server's object ${JSON.stringify(s.verdicts)}`;
      }
      return { name: c.name, ours: o, server: s, difference };
    });

    const differ = rows.filter((r) => r.difference && !(r.name in STRICTER_BY_DESIGN));
    const byDesign = rows.filter((r) => r.difference && r.name in STRICTER_BY_DESIGN);
    const stale = Object.keys(STRICTER_BY_DESIGN).filter((n) => !rows.find((r) => r.name === n)?.difference);
    const verdictOf = (s: Side) => (s.accepted ? "accept" : "refuse");
    console.log(
      `\n${table(
        ["document", "server", "ours", "agree"],
        rows.map((r) => [
          r.name,
          verdictOf(r.server),
          verdictOf(r.ours),
          r.difference
            ? r.name in STRICTER_BY_DESIGN
              ? "stricter (by design)"
              : `NO: ${r.difference}`
            : "yes",
        ]),
      )}\n`,
    );
    const summary = {
      documents: rows.length,
      agree: rows.length - differ.length - byDesign.length,
      stricterByDesign: byDesign.map((r) => ({ name: r.name, reason: STRICTER_BY_DESIGN[r.name] })),
      differ: differ.map((r) => ({ name: r.name, difference: r.difference })),
      refusedByBoth: rows.filter((r) => !r.ours.accepted && !r.server.accepted).length,
    };
    console.log(
      table(
        ["documents", "agree", "stricter by design", "differ"],
        [[summary.documents, summary.agree, byDesign.length, differ.length]],
      ),
    );
    await writeReport(join(process.cwd(), "test-results/apiserver-decoding.json"), {
      summary,
      rows: rows.map((r) => ({
        name: r.name,
        server: { accepted: r.server.accepted, messages: r.server.messages },
        ours: { accepted: r.ours.accepted, messages: r.ours.messages, verdicts: r.ours.verdicts },
        difference: r.difference ?? null,
      })),
    });
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    expect(stale).toEqual([]);
    expect(
      differ.map(
        (r) =>
          `${r.name}: ${r.difference}\n  server: ${r.server.messages.join(" | ")}\n  ours: ${r.ours.messages.join(" | ")}`,
      ),
    ).toEqual([]);

    // The defects this work fixes, asserted on our checker's own verdicts.
    const row = (name: string) => rows.find((r) => r.name === name)!;
    const fails = (side: Side, rule: string) =>
      Object.entries(side.verdicts).some(
        ([p, v]) => p.startsWith(`${rule}/`) && v.some((x) => x.endsWith(":fail")),
      );
    for (const name of [
      "pod/privileged-yes",
      "pod/privileged-on",
      "pod/privileged-y",
      "pod/merge-security-context",
      "list/nested",
    ]) {
      expect(row(name).server.accepted, name).toBe(true);
      expect(fails(row(name).ours, "PLAT005"), name).toBe(true);
    }
    expect(row("pod/host-network-on").ours.accepted).toBe(true);
    expect(fails(row("pod/host-network-on").ours, "PLAT009")).toBe(true);
    expect(row("pod/unknown-field-container").ours.messages.join("\n")).toContain(
      'strict decoding error: unknown field "spec.containers[0].securityContxt"',
    );
    expect(row("bytes/invalid-utf8").ours.messages.join("\n")).toMatch(/case-\d+\.yaml:\d+ .*UTF-8/);
  }, 600_000);
});

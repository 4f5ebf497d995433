// Property: over generated config repos (comments, every quoting style, anchors and aliases, CRLF or LF,
// with or without a final newline, nested Helm values, every layout), bumping A → B changes nothing but
// the digest bytes, and B → A gives back the original bytes. Same with a tag bumped alongside.
import { describe, expect, it } from "vitest";
import { digest, memoryReader } from "./__fixtures__/repo.ts";
import { planBump } from "./plan.ts";
import type { RepoReader } from "./types.ts";

const TARGET = "northwindacr.azurecr.io/team/app";
const A = digest("A");
const B = digest("B");
const NOISE = digest("noise");
const T1 = "1.4.0";
const T2 = "1.5.0-rc.1";
const RUNS = 300;

/** mulberry32: small, seeded, good enough to vary documents reproducibly. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    bool: (p = 0.5) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
type Rng = ReturnType<typeof rng>;

interface Doc {
  g: Rng;
  w: number;
  anchors: string[];
  keys: number;
}

const pad = (n: number) => " ".repeat(n);
const quote = (g: Rng, v: string) => g.pick([v, `'${v}'`, `"${v}"`]);
const comment = (g: Rng) =>
  g.bool(0.3) ? `  # ${g.pick(["pinned", "set by CI", "see README: a: b", "keep"])}` : "";
const FILLERS = [
  "true",
  "3",
  "1.5",
  "100m",
  "plain words here",
  "'single ''quoted'''",
  '"double \\"quoted\\""',
  "null",
  "[a, b]",
  "{x: 1, y: 'z'}",
];
const KEYS = [
  "api",
  "worker",
  "frontend",
  "jobs",
  "cache",
  "extra",
  "config",
  "settings",
  "global",
  "monitor",
];

function key(d: Doc): string {
  d.keys++;
  return `${d.g.pick(KEYS)}${d.keys}`;
}
/** An anchor for the node about to be written; aliases may name it once the node is complete (`done`). */
function anchor(d: Doc): { text: string; done: () => void } {
  if (!d.g.bool(0.25)) return { text: "", done: () => {} };
  const name = `a${d.keys}`;
  return { text: ` &${name}`, done: () => d.anchors.push(name) };
}

/** An image map naming TARGET (registry split or not), or another image; fields in random order. */
function imageMap(d: Doc, ind: number, target: boolean): string[] {
  const { g } = d;
  const repo = target ? TARGET : g.pick(["docker.io/envoyproxy/envoy", "redis", "ghcr.io/org/other"]);
  const fields: string[] = [];
  if (target && g.bool(0.4)) {
    fields.push(`registry: ${quote(g, "northwindacr.azurecr.io")}`, `repository: ${quote(g, "team/app")}`);
  } else fields.push(`repository: ${quote(g, repo)}${comment(g)}`);
  if (g.bool(0.7)) fields.push(`tag: ${quote(g, target ? T1 : "9.9.9")}${comment(g)}`);
  fields.push(`digest: ${quote(g, target ? A : NOISE)}${comment(g)}`);
  if (g.bool(0.3)) fields.push("pullPolicy: IfNotPresent");
  for (let i = fields.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  return fields.map((f) => pad(ind) + f);
}

function imageString(d: Doc, target: boolean): string {
  const { g } = d;
  const s = target
    ? `${TARGET}${g.bool(0.6) ? `:${T1}` : ""}@${A}`
    : `${g.pick(["nginx", "quay.io/x/y"])}:1@${NOISE}`;
  return quote(g, s) + comment(g);
}

/** Helm values at any depth: fillers, nested maps, image maps and strings, lists, aliases, comments. */
function helmMap(d: Doc, ind: number, depth: number): string[] {
  const { g } = d;
  const lines: string[] = [];
  const n = 1 + g.int(4);
  for (let i = 0; i < n; i++) {
    if (g.bool(0.15)) lines.push(`${pad(ind)}# ${g.pick(["values", "tuned for prod", "--- not a marker"])}`);
    const k = key(d);
    switch (g.int(10)) {
      case 0:
      case 1:
        lines.push(`${pad(ind)}${k}: ${g.pick(FILLERS)}${comment(g)}`);
        break;
      case 2:
        if (depth < 3) {
          const a = anchor(d);
          lines.push(`${pad(ind)}${k}:${a.text}`, ...helmMap(d, ind + d.w, depth + 1));
          a.done();
          break;
        }
        lines.push(`${pad(ind)}${k}: 1`);
        break;
      case 3:
      case 4: {
        const a = anchor(d);
        lines.push(`${pad(ind)}${k}:${a.text}`, ...imageMap(d, ind + d.w, true));
        a.done();
        break;
      }
      case 5:
        lines.push(`${pad(ind)}${k}${g.pick(["Image", "image", "_image"])}: ${imageString(d, g.bool(0.7))}`);
        break;
      case 6:
        lines.push(`${pad(ind)}${k}:`, ...imageMap(d, ind + d.w, false));
        break;
      case 7: {
        lines.push(`${pad(ind)}${k}:`);
        const dash = ind + (g.bool() ? d.w : 0);
        for (let j = 1 + g.int(2); j > 0; j--) {
          lines.push(
            `${pad(dash)}- name: side${j}`,
            `${pad(dash + 2)}image:`,
            ...imageMap(d, dash + 2 + d.w, g.bool()),
          );
        }
        break;
      }
      case 8:
        if (d.anchors.length) {
          lines.push(`${pad(ind)}${k}: *${g.pick(d.anchors)}`);
          break;
        }
        lines.push(`${pad(ind)}${k}: {a: 1, b: "two"}`);
        break;
      default:
        lines.push(`${pad(ind)}${k}: [${quote(g, "x")}, 2]`);
    }
  }
  return lines;
}

function kustomization(d: Doc): string[] {
  const { g } = d;
  const dash = g.bool() ? d.w : 0;
  const lines = [
    "apiVersion: kustomize.config.k8s.io/v1beta1",
    "kind: Kustomization",
    "resources:",
    `${pad(dash)}- ../../base`,
  ];
  if (g.bool(0.3)) lines.push("# images are bumped by the platform");
  lines.push("images:");
  for (let i = 1 + g.int(3); i > 0; i--) {
    const target = i === 1 || g.bool(0.4);
    const fields = [`newName: ${quote(g, target ? TARGET : "ghcr.io/org/other")}${comment(g)}`];
    if (g.bool(0.7)) fields.push(`newTag: ${quote(g, target ? T1 : "2.0.0")}`);
    fields.push(`digest: ${quote(g, target ? A : NOISE)}${comment(g)}`);
    if (g.bool()) fields.reverse();
    lines.push(`${pad(dash)}- name: app${i}`, ...fields.map((f) => pad(dash + 2) + f));
  }
  return lines;
}

function manifest(d: Doc): string[] {
  const { g } = d;
  const lines = [
    "apiVersion: apps/v1",
    `kind: ${g.pick(["Deployment", "StatefulSet", "DaemonSet"])}`,
    "metadata:",
    "  name: app",
    "spec:",
    "  template:",
    "    spec:",
  ];
  for (const list of ["initContainers", "containers"]) {
    if (list === "initContainers" && g.bool()) continue;
    lines.push(`      ${list}:`);
    for (let i = 1 + g.int(2); i > 0; i--) {
      if (g.bool(0.3))
        lines.push(`        - {name: c${i}, image: ${imageString(d, g.bool(0.7)).replace(/ +#.*/, "")}}`);
      else lines.push(`        - name: c${i}`, `          image: ${imageString(d, g.bool(0.7))}`);
    }
  }
  return lines;
}

function helmRelease(d: Doc): string[] {
  return [
    "apiVersion: helm.toolkit.fluxcd.io/v2",
    "kind: HelmRelease",
    "metadata:",
    "  name: app",
    "spec:",
    "  interval: 10m",
    "  values:",
    ...helmMap(d, 2 + d.w, 1),
  ];
}

function application(d: Doc): string[] {
  const { g } = d;
  const lines = [
    "apiVersion: argoproj.io/v1alpha1",
    "kind: Application",
    "metadata:",
    "  name: app",
    "spec:",
    "  source:",
    "    repoURL: https://github.com/org/config.git",
    "    helm:",
    "      parameters:",
    "        - name: image.repository",
    `          value: ${quote(g, TARGET)}`,
    "        - name: image.tag",
    `          value: ${quote(g, T1)}`,
    "        - name: image.digest",
    `          value: ${quote(g, A)}`,
  ];
  if (g.bool(0.7)) {
    // A literal block holding YAML: its own anchors and keys.
    const inner: Doc = { g, w: d.w, anchors: [], keys: d.keys };
    lines.push("      values: |", ...helmMap(inner, 0, 1).map((l) => `        ${l}`));
    d.keys = inner.keys;
  }
  if (g.bool(0.5)) lines.push("      valuesObject:", ...helmMap(d, 8, 1));
  lines.push("  destination:", "    namespace: app");
  return lines;
}

export function generateRepo(seed: number): Record<string, string> {
  const g = rng(seed);
  const files: Record<string, string> = {};
  const kinds = [kustomization, manifest, helmRelease, application] as const;
  const count = 2 + g.int(4);
  for (let f = 0; f < count; f++) {
    const eol = g.bool() ? "\r\n" : "\n";
    const values = f > 0 && g.bool(0.3);
    const kind = f === 0 ? kustomization : values ? (d: Doc) => helmMap(d, 0, 0) : g.pick(kinds);
    const docs: string[] = [];
    for (let n = 1 + (g.bool(0.3) ? g.int(2) : 0); n > 0; n--) {
      docs.push(kind({ g, w: g.pick([2, 4]), anchors: [], keys: 0 }).join(eol));
    }
    const text = docs.join(`${eol}---${eol}`) + (g.bool(0.8) ? eol : "");
    files[f === 0 ? "env/kustomization.yaml" : values ? `env/values-${f}.yaml` : `env/file-${f}.yaml`] = text;
  }
  return files;
}

async function bumpAll(reader: RepoReader & { files: Record<string, string> }, d: string, tag?: string) {
  // `keep` without a tag: dropping a tag is not undone by the way back, and this test is about byte exactness.
  const plan = await planBump(reader, {
    image: TARGET,
    digest: d,
    paths: ["env"],
    ...(tag ? { tag } : { tagPolicy: "keep" as const }),
  });
  for (const c of plan.changes) {
    expect(reader.files[c.file]).toBe(c.before);
    reader.files[c.file] = c.after;
  }
  return plan;
}

describe("round trip over generated config repos", () => {
  it(`A → B changes only digest bytes and B → A restores every byte (${RUNS} repos)`, async () => {
    let references = 0;
    const sources = new Set<string>();
    let nested = 0;
    for (let seed = 1; seed <= RUNS; seed++) {
      const original = generateRepo(seed);
      const reader = memoryReader({ ...original });
      const there = await bumpAll(reader, B);
      references += there.references.length;
      for (const r of there.references) sources.add(r.source);
      nested += there.references.filter((r) => r.path.includes(" > ")).length;
      expect(
        there.references.every((r) => !r.notEditable),
        `seed ${seed}`,
      ).toBe(true);
      for (const [path, text] of Object.entries(original)) {
        // The only difference: A's bytes became B's; every other digest, comment and quote is as it was.
        expect(reader.files[path]!.replaceAll(B, "<D>"), `seed ${seed} ${path}`).toBe(
          text.replaceAll(A, "<D>"),
        );
      }
      expect((await bumpAll(reader, B)).changes, `seed ${seed}: second bump`).toEqual([]);
      await bumpAll(reader, A);
      expect(reader.files, `seed ${seed}`).toEqual(original);
    }
    // The generator reaches every layout, and YAML nested in Argo CD `helm.values` blocks.
    expect(references).toBeGreaterThan(RUNS * 3);
    expect([...sources].sort()).toEqual([
      "argocd-application",
      "flux-helmrelease",
      "helm-values",
      "kustomize-images",
      "manifest",
    ]);
    expect(nested).toBeGreaterThan(10);
  });

  it(`with a tag: A:${T1} → B:${T2} → A:${T1} restores every byte (${RUNS} repos)`, async () => {
    for (let seed = 1000; seed < 1000 + RUNS; seed++) {
      const original = generateRepo(seed);
      const reader = memoryReader({ ...original });
      await bumpAll(reader, B, T2);
      for (const [path, text] of Object.entries(original)) {
        const masked = (s: string, d: string, t: string) => s.replaceAll(d, "<D>").replaceAll(t, "<T>");
        expect(masked(reader.files[path]!, B, T2), `seed ${seed} ${path}`).toBe(masked(text, A, T1));
      }
      await bumpAll(reader, A, T1);
      expect(reader.files, `seed ${seed}`).toEqual(original);
    }
  });
});

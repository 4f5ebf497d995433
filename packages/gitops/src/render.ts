// Render verification: an edit to Helm values is a bump only if the chart renders the new digest. A values
// file can name an image the chart never reads (a `digest:` key added beside `repository`/`tag` of a chart
// that templates `repository:tag`), so the edit is checked with the real `helm template`: the chart is
// rendered before and after, and the images of the rendered objects are compared.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PlatformError } from "@platform/core";
import { parseImage } from "./image.ts";
import { constructValues, parseYaml } from "./tree.ts";
import type { RepoReader } from "./types.ts";

/** One `helm template` run: the chart's files (chart-relative), values files in order, and `--set` values. */
export interface HelmRun {
  /** The chart's directory in the config repo, for messages. */
  chart: string;
  files: Record<string, string>;
  values: string[];
  set: Array<{ name: string; value: string; string?: boolean }>;
}

/** Renders a chart; throws GITOPS_RENDER_FAILED (the chart's fault) or an environment error (no helm). */
export type HelmTemplate = (run: HelmRun) => Promise<string>;

const RENDER_TIMEOUT_MS = 120_000;
const MAX_RENDER_OUTPUT = 64 * 1024 * 1024;
/** A chart is a directory of templates, not a repository: more files than this is not one. */
export const MAX_CHART_FILES = 2_000;

/** `helm template` with the given binary, in a throwaway directory, with no plugins and no user config. */
export function helmTemplate(helm: string): HelmTemplate {
  return async (run) => {
    const work = await mkdtemp(join(tmpdir(), "platform-bump-render-"));
    try {
      const chart = join(work, "chart");
      for (const [rel, text] of Object.entries(run.files)) {
        const abs = join(chart, rel);
        await mkdir(dirname(abs), { recursive: true });
        await writeFile(abs, text);
      }
      const args = ["template", "release", chart];
      for (const [i, text] of run.values.entries()) {
        const file = join(work, `values-${i}.yaml`);
        await writeFile(file, text);
        args.push("--values", file);
      }
      for (const s of run.set) args.push(s.string ? "--set-string" : "--set", `${s.name}=${s.value}`);
      // No user config, cache or plugins: the render depends on the chart and the values only.
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: work,
        HELM_NO_PLUGINS: "1",
        HELM_CACHE_HOME: join(work, "cache"),
        HELM_CONFIG_HOME: join(work, "config"),
        HELM_DATA_HOME: join(work, "data"),
      };
      return await new Promise<string>((done, fail) => {
        execFile(
          helm,
          args,
          { cwd: work, env, timeout: RENDER_TIMEOUT_MS, maxBuffer: MAX_RENDER_OUTPUT },
          (err, stdout, stderr) => {
            if (!err) return done(stdout);
            if ((err as NodeJS.ErrnoException).code === "ENOENT") {
              return fail(
                new PlatformError("GITOPS_HELM_MISSING", `helm is not installed (${helm} was not found)`, {
                  category: "environment",
                  cause: err,
                  hint: "Install helm 3 on the runner (azure/setup-helm) or set PLATFORM_HELM to its path, so Helm values edits can be checked by rendering; or set `verify-render: false` to edit without that check.",
                }),
              );
            }
            const detail = (stderr || err.message).split(`${work}/chart/`).join(`${run.chart}/`).trim();
            fail(
              new PlatformError("GITOPS_RENDER_FAILED", `helm template failed on ${run.chart}: ${detail}`, {
                cause: err,
              }),
            );
          },
        );
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
}

/** The chart's files, chart-relative, read through the RepoReader (so GitHub mode renders the same tree). */
export async function readChart(reader: RepoReader, dir: string): Promise<Record<string, string>> {
  const prefix = dir ? `${dir}/` : "";
  const list = (await reader.list(dir)).filter((p) => p.startsWith(prefix));
  if (list.length > MAX_CHART_FILES) {
    throw new PlatformError(
      "GITOPS_RENDER_FAILED",
      `${dir} has more than ${MAX_CHART_FILES} files: not a chart`,
    );
  }
  const out: Record<string, string> = {};
  for (const p of list) {
    const text = await reader.read(p);
    if (text !== undefined) out[p.slice(prefix.length)] = text;
  }
  return out;
}

const POD_LISTS = new Set(["containers", "initContainers", "ephemeralContainers"]);

/** Every container image of the rendered objects, as written, sorted (one per container). */
export function renderedImages(yaml: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 100 || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (POD_LISTS.has(k) && Array.isArray(x)) {
        for (const c of x) {
          const image = (c as { image?: unknown } | null)?.image;
          if (typeof image === "string") out.push(image);
        }
      } else walk(x, depth + 1);
    }
  };
  for (const doc of constructValues(parseYaml(yaml))) walk(doc, 0);
  return out.sort();
}

/** Whether a rendered image is the target repository pinned to the digest (a valid reference, not just text). */
export function pinsDigest(image: string, repository: string, digest: string): boolean {
  const p = parseImage(image);
  return p?.repository === repository && p.digest === digest;
}

/** `chart/dir` for a chart path as a HelmRelease or Application writes it (`./charts/x/`); undefined outside the repo. */
export function repoPath(path: string): string | undefined {
  const p = path
    .trim()
    .replace(/^(\.\/)+/, "")
    .replace(/\/+$/, "");
  if (!p || p.startsWith("/") || p.includes("://") || p.split("/").includes("..")) return undefined;
  return p === "." ? "" : p;
}

/** A chart-relative name for a file in the chart directory, or undefined when it is outside it. */
export function inChart(chart: string, file: string): string | undefined {
  if (!chart) return file;
  return file.startsWith(`${chart}/`) ? file.slice(chart.length + 1) : undefined;
}

// Changed-only selection: from the files a change touched, the render units whose output it can change.
// Fail closed: a change that cannot be attributed to a unit with certainty selects everything, and says why.
import { isDynamicPattern } from "tinyglobby";
import type { ChangeSet } from "./git.ts";
import { readKustomization } from "./kustomize.ts";
import type { PlannedUnit } from "./manifests.ts";
import type { UnitInputs } from "./units.ts";

/** Inputs every verdict depends on (policies, params, waivers, values, platform.yaml): a change selects all. */
export interface GlobalInput {
  /** Workspace-relative path, directory or glob. */
  path: string;
  /** What it is, for the reason ("policies", "waivers", ...). */
  what: string;
}

/** Which units a change selects, and why; `all` set when everything must be checked. */
export interface ChangeSelection {
  /** Why every unit is selected, when one is. */
  all?: string;
  /** Selected unit path → why (the first changed file that selected it). */
  units: Map<string, string>;
  /** Changed files that no render reads, with the reason they cannot change a verdict. */
  ignored: Array<{ file: string; why: string }>;
  /** Deleted files no current unit reads: plain manifests that went away (their objects went with them). */
  removed: string[];
}

const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

/** The fixed part of a glob (`policies/**\/*.yaml` → `policies`): any file under it may match. */
function staticBase(pattern: string): string {
  const parts = pattern.split("/");
  const fixed: string[] = [];
  for (const p of parts) {
    if (isDynamicPattern(p)) break;
    fixed.push(p);
  }
  return fixed.join("/");
}

function covers(path: string, file: string): boolean {
  const base = (isDynamicPattern(path) ? staticBase(path) : path).replace(/^\.\/|\/+$/g, "");
  return base === "" || base === "." || file === base || file.startsWith(`${base}/`);
}

/** Selects the units a change can affect (see the header); `inputs` holds what each unit reads. */
export async function selectChanged(
  root: string,
  units: ReadonlyArray<PlannedUnit>,
  inputs: ReadonlyMap<string, UnitInputs>,
  changes: ChangeSet,
  global: ReadonlyArray<GlobalInput>,
): Promise<ChangeSelection> {
  const sel: ChangeSelection = { units: new Map(), ignored: [], removed: [] };
  const byFile = new Map<string, string[]>();
  const byDir: Array<[string, string]> = [];
  const plugins: string[] = [];
  for (const u of units) {
    const inp = inputs.get(u.path);
    if (!inp) continue;
    for (const f of inp.files) {
      const list = byFile.get(f);
      if (list) list.push(u.path);
      else byFile.set(f, [u.path]);
    }
    for (const d of inp.dirs) byDir.push([d, u.path]);
    plugins.push(...inp.plugins);
  }
  for (const c of changes.files) {
    const g = global.find((x) => covers(x.path, c.path));
    if (g) {
      sel.all = `${g.what} changed (${c.path}): every render they apply to is checked`;
      return sel;
    }
    if (KUSTOMIZATION.test(c.path)) {
      if (c.status === "deleted") {
        sel.all = `a kustomization was deleted (${c.path}): what read it cannot be traced, so everything is checked`;
        return sel;
      }
      const dir = `${root}/${c.path.replace(KUSTOMIZATION, "")}`;
      if (!(await readKustomization(dir))) {
        sel.all = `${c.path} cannot be parsed: what it includes is unknown, so everything is checked`;
        return sel;
      }
    }
    const hits = new Set(byFile.get(c.path) ?? []);
    for (const [d, u] of byDir) if (c.path === d || c.path.startsWith(`${d}/`)) hits.add(u);
    if (hits.size > 0) {
      for (const u of hits) if (!sel.units.has(u)) sel.units.set(u, `${c.path} ${c.status}`);
      continue;
    }
    if (plugins.length > 0) {
      sel.all = `${c.path} is read by no declared render input, but ${plugins[0]} runs kustomize plugins (generators, transformers or validators) that may read any file: everything is checked`;
      return sel;
    }
    if (c.status === "deleted") sel.removed.push(c.path);
    else sel.ignored.push({ file: c.path, why: "no render reads it" });
  }
  return sel;
}

import { readFile } from "node:fs/promises";
import { PlatformError, parseYamlStream } from "@platform/core";
import { z } from "zod";
import { globMatches } from "./k8s/match.ts";
import type { PolicyResult } from "./types.ts";

const WaiverSchema = z.strictObject({
  rule: z.string().min(1),
  namespace: z.string().default("*"),
  /** `name`, `Kind/name`, or a `*` glob. */
  object: z.string().default("*"),
  reason: z.string().min(10, "must explain why (at least 10 characters)"),
  owner: z.string().min(1),
  expires: z.union([z.string(), z.date()]).transform((v, ctx) => {
    const s = v instanceof Date ? v.toISOString().slice(0, 10) : v;
    // Date.parse rolls 2099-02-31 over to March 3: only a date that formats back to itself is real.
    const t = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : Number.NaN;
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) {
      ctx.addIssue({ code: "custom", message: `"${s}" is not a real date (YYYY-MM-DD)` });
      return z.NEVER;
    }
    return s;
  }),
});

const WaiverFileSchema = z.strictObject({ waivers: z.array(WaiverSchema) });

export interface Waiver extends z.output<typeof WaiverSchema> {
  file: string;
  line: number;
}

/** Loads a waiver file; schema errors name file:line. */
export async function loadWaivers(path: string, display = path): Promise<Waiver[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new PlatformError("WAIVERS_NOT_FOUND", `cannot read waivers file ${display}`, {
      input: "waivers",
      hint: "Check the `waivers` path (relative to the workspace).",
      cause: err,
    });
  }
  const stream = parseYamlStream(text, display, { maxDocuments: 1 });
  const d = stream.docs[0];
  if (!d) return [];
  if (d.errors[0])
    throw new PlatformError("WAIVERS_INVALID", `invalid YAML: ${d.errors[0].message}`, {
      file: display,
      line: d.errors[0].line,
      input: "waivers",
    });
  const parsed = WaiverFileSchema.safeParse(d.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const pos = stream.position(d, path);
    throw new PlatformError("WAIVERS_INVALID", `${path.join(".") || "(top level)"}: ${issue.message}`, {
      file: display,
      line: pos.line,
      column: pos.column,
      input: "waivers",
      hint: "Each waiver needs rule, namespace, object, reason, owner and expires (YYYY-MM-DD).",
    });
  }
  return parsed.data.waivers.map((w, i) => ({
    ...w,
    file: display,
    line: stream.position(d, ["waivers", i]).line,
  }));
}

function matches(w: Waiver, r: PolicyResult): boolean {
  const [id, name] = r.policy.split("/");
  if (w.rule !== r.policy && w.rule !== id && w.rule !== name) return false;
  if (!globMatches(w.namespace, r.namespace)) return false;
  return globMatches(w.object, r.name) || globMatches(w.object, `${r.kind}/${r.name}`);
}

/**
 * Applies waivers: a failure matched by a live waiver becomes a skip that records the waiver; an expired
 * waiver waives nothing and is itself a failure at its own file:line.
 */
export function applyWaivers(results: PolicyResult[], waivers: Waiver[], today: Date): PolicyResult[] {
  const day = today.toISOString().slice(0, 10);
  const live = waivers.filter((w) => w.expires >= day);
  const out = results.map((r) => {
    if (r.verdict !== "fail" && r.verdict !== "warn") return r;
    const w = live.find((x) => matches(x, r));
    if (!w) return r;
    return {
      ...r,
      verdict: "skip" as const,
      message: `waived until ${w.expires} by ${w.owner}: ${w.reason} (was: ${r.message})`,
      waiver: { owner: w.owner, reason: w.reason, expires: w.expires, file: w.file, line: w.line },
    };
  });
  for (const w of waivers) {
    if (w.expires >= day) continue;
    out.push({
      policy: "waiver/expired",
      kind: "Waiver",
      namespace: w.namespace,
      name: `${w.rule} ${w.object}`,
      verdict: "fail",
      severity: "error",
      message: `waiver for ${w.rule} on ${w.namespace}/${w.object} (owner ${w.owner}) expired on ${w.expires}. Fix the violations it covered, or renew it with a new expiry date and reason.`,
      file: w.file,
      line: w.line,
    });
  }
  return out;
}

// Turning both sides' answers into comparable items: "<action>|<policy>|<message>", one per failing
// (policy, binding action) — the API server's from its denial and Warning headers, ours from the
// `policy check` rows — and comparing them per object, with the server's warning truncation applied.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { BUILTIN_RULES, type PolicyResult } from "@platform/policy";
import { stringify } from "yaml";
import type { KubeResult } from "../../harness/apiserver.ts";

/** Suffix of the extra bindings that mirror a Deny binding as Warn, so every denying policy is visible. */
export const MIRROR_SUFFIX = "-mirror";

export type Action = "Deny" | "Warn";
export interface Item {
  action: Action;
  policy: string;
  binding?: string;
  message: string;
}

export const itemKey = (i: Item) => `${i.action}|${i.policy}|${i.message}`;

const DENIAL = /^ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied request: ([\s\S]*)$/;
const WARNING =
  /^Validation failed for ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)': ([\s\S]*)$/;

/** An answer from admission (allowed or denied by a policy). */
export interface Judged {
  kind: "admitted" | "denied";
  denial?: Item;
  warnings: Item[];
  otherWarnings: string[];
  truncated: boolean;
}
/** The object never reached a policy (refused by decoding or validation), or the request failed. */
export interface NotJudged {
  kind: "invalid" | "error";
  message: string;
}
export type ServerOutcome = Judged | NotJudged;

/** Whether admission judged the object. */
export const judged = (s: ServerOutcome): s is Judged => s.kind === "admitted" || s.kind === "denied";

/** What the API server said about one dry-run create. */
export function serverOutcome(res: KubeResult): ServerOutcome {
  const warnings: Item[] = [];
  const otherWarnings: string[] = [];
  for (const w of res.warnings) {
    const m = WARNING.exec(w);
    if (!m) {
      otherWarnings.push(w);
      continue;
    }
    const mirrored = m[2]!.endsWith(MIRROR_SUFFIX);
    warnings.push({ action: mirrored ? "Deny" : "Warn", policy: m[1]!, binding: m[2]!, message: m[3]! });
  }
  // The recorder truncates every warning to 256 runes once their total passes 4096.
  const truncated =
    res.warnings.length > 0 &&
    res.warnings.every((w) => [...w].length <= 256) &&
    res.warnings.some((w) => [...w].length === 256);
  if (res.status < 300) return { kind: "admitted", warnings, otherWarnings, truncated };
  const message = res.message;
  const details = res.body?.details as { causes?: Array<{ message?: string }> } | undefined;
  const cause = details?.causes?.map((c) => c.message ?? "").find((c) => DENIAL.test(c));
  const m = cause ? DENIAL.exec(cause) : undefined;
  if (m) {
    const binding = m[2]!;
    const policy = m[1]!;
    return {
      kind: "denied",
      denial: { action: "Deny", policy, binding, message: m[3]! },
      warnings,
      otherWarnings,
      truncated,
    };
  }
  if (res.status === 422 || (res.status === 403 && /is forbidden/.test(message)))
    return { kind: "invalid", message: `${res.status} ${message}` };
  return { kind: "error", message: `${res.status} ${message}` };
}

const RULES = new Map(BUILTIN_RULES.map((r) => [`${r.id}/${r.name}`, r]));

/** The exported policy name of a built-in rule (builtin/vap.ts vapName). */
export function builtinVapName(id: string, name: string): string {
  return `platform-${id.toLowerCase()}-${name}`;
}

/**
 * Our items per object key ("Kind/namespace/name"). A built-in container rule reports one row per
 * container; the exported policy reports them in one message ("a; b" + the fix), so rows are joined the same way.
 */
export function ourItems(results: PolicyResult[]): Map<string, Item[]> {
  interface Group {
    action: Action;
    policy: string;
    messages: string[];
    fix?: string;
  }
  const byObject = new Map<string, Map<string, Group>>();
  for (const r of results) {
    if (r.verdict !== "fail" && r.verdict !== "warn" && r.verdict !== "error") continue;
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    const action: Action = r.verdict === "warn" ? "Warn" : "Deny";
    const rule = RULES.get(r.policy);
    const policy = rule ? builtinVapName(rule.id, rule.name) : r.policy;
    const fix = rule?.scope === "container" ? rule.fix : undefined;
    const items = byObject.get(key) ?? new Map<string, Group>();
    byObject.set(key, items);
    const groupKey = fix ? `${action}|${policy}` : `${action}|${policy}|${items.size}`;
    const group = items.get(groupKey) ?? { action, policy, messages: [], fix };
    items.set(groupKey, group);
    const suffix = fix ? `. ${fix}` : "";
    group.messages.push(
      suffix && r.message.endsWith(suffix) ? r.message.slice(0, -suffix.length) : r.message,
    );
  }
  const out = new Map<string, Item[]>();
  for (const [key, groups] of byObject)
    out.set(
      key,
      [...groups.values()].map((g) => ({
        action: g.action,
        policy: g.policy,
        message: g.fix ? `${g.messages.join("; ")}. ${g.fix}` : g.messages[0]!,
      })),
    );
  return out;
}

/** The warning text the server would send for an item, as the recorder would truncate it. */
function warningText(i: Item, binding: string): string {
  return `Validation failed for ValidatingAdmissionPolicy '${i.policy}' with binding '${binding}': ${i.message}`;
}

export interface ObjectComparison {
  agree: boolean;
  /** Per policy: equal or not. */
  policies: Map<string, boolean>;
  problems: string[];
}

/**
 * Compares one object. Equal when: the server denied exactly when we deny; its denial is one of our Deny
 * items; and its warnings are our items (Deny items through the mirror bindings), after the truncation
 * the server applies when their total passes 4096 runes.
 */
export function compareObject(
  server: ServerOutcome,
  ours: Item[],
  bindingOf: (i: Item) => string,
): ObjectComparison {
  const problems: string[] = [];
  const policies = new Map<string, boolean>();
  const mark = (p: string, ok: boolean) => policies.set(p, (policies.get(p) ?? true) && ok);
  for (const i of ours) mark(i.policy, true);
  if (!judged(server)) {
    problems.push(`server: ${server.message}`);
    return { agree: false, policies, problems };
  }
  const oursDeny = ours.filter((i) => i.action === "Deny");
  if ((server.kind === "denied") !== oursDeny.length > 0)
    problems.push(
      server.kind === "denied"
        ? `server denied (${server.denial?.policy}), we allow`
        : `server admitted, we deny (${oursDeny.map((i) => i.policy).join(", ")})`,
    );
  if (server.denial) {
    const d = server.denial;
    const match = oursDeny.find((i) => i.policy === d.policy && i.message === d.message);
    if (!match) {
      problems.push(
        `server denial ${d.policy}: ${JSON.stringify(d.message)} — ours: ${JSON.stringify(oursDeny.filter((i) => i.policy === d.policy).map((i) => i.message))}`,
      );
      mark(d.policy, false);
    }
  }
  // Expected warnings: every one of our items (config errors deny without a warning, so the server's denial
  // stands in for an item its warnings lack).
  const expected = ours.map((i) => ({ item: i, text: warningText(i, bindingOf(i)) }));
  const total = expected.reduce((n, e) => n + [...e.text].length, 0);
  const truncate = total > 4096;
  const cut = (s: string) => (truncate ? [...s].slice(0, 256).join("") : s);
  const got = new Set(server.warnings.map((w) => cut(warningText(w, w.binding!))));
  const want = new Map(expected.map((e) => [cut(e.text), e.item]));
  for (const [text, item] of want) {
    if (got.has(text)) continue;
    if (server.denial && item.action === "Deny" && itemKey(item) === itemKey(server.denial)) continue;
    // A binding the server cannot configure denies without a warning (even through its mirror).
    if (item.message.startsWith("failed to configure")) continue;
    // Past 4096 truncated runes the server drops further warnings.
    if (truncate && got.size * 256 >= 4096) continue;
    problems.push(`missing on the server: ${item.action} ${item.policy}: ${JSON.stringify(item.message)}`);
    mark(item.policy, false);
  }
  for (const w of server.warnings) {
    if (want.has(cut(warningText(w, w.binding!)))) continue;
    problems.push(`only on the server: ${w.action} ${w.policy}: ${JSON.stringify(w.message)}`);
    mark(w.policy, false);
  }
  if (server.denial) mark(server.denial.policy, policies.get(server.denial.policy) ?? false);
  return { agree: problems.length === 0, policies, problems };
}

/** Markdown-ish table for the log. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(" | ")} |`;
  return [
    line(cells[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.slice(1).map(line),
  ].join("\n");
}

/**
 * Documents as one YAML stream the way the API server reads YAML (1.1): strings such as `y` or `on` are
 * quoted, so the file means what the objects sent as JSON mean.
 */
export function yamlStream(docs: unknown[]): string {
  return docs.map((d) => stringify(d, { version: "1.1" })).join("---\n");
}

/** Writes a JSON report under test-results/ (git-ignored). */
export async function writeReport(path: string, report: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

// Pieces every job summary shares, so that each action's verdict, links, digests and counts look the same.
// Pure string functions: the domain packages build their Markdown with them, packages/github writes it.

/** Where the run's sources are on GitHub: links from a summary go to file:line at the commit that ran. */
export interface SourceLinks {
  serverUrl: string;
  repository?: string;
  sha?: string;
}

/**
 * The verdict a headline carries: passed (✅), failed (❌), not decided yet (⏳, e.g. a canary still running),
 * or nothing was checked (⚠️: the step may succeed, but a summary never calls "checked nothing" a pass).
 */
export type Verdict = "pass" | "fail" | "pending" | "unchecked";

const ICON: Record<Verdict, string> = { pass: "✅", fail: "❌", pending: "⏳", unchecked: "⚠️" };

/** Escapes text for a markdown table cell or paragraph (HTML entities, pipes, backticks, newlines). */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "&#124;")
    .replace(/`/g, "&#96;")
    .replace(/\r\n|\r|\n/g, "<br>");
}

/** A level-2 heading that starts with the verdict's icon: the first thing a reader of the summary sees. */
export function headline(verdict: Verdict, text: string): string {
  return `## ${ICON[verdict]} ${escapeMarkdown(text)}\n`;
}

/** A count with thousands separators (34,161), whatever the runner's locale. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: 2 }) : String(n);
}

const DIGEST = /\b(sha256|sha384|sha512):([0-9a-f]{32,128})\b/g;

/** A digest cut to 12 hex characters (`sha256:0123456789ab`), as registries' UIs and `docker images` show it. */
export function shortDigest(digest: string): string {
  return digest.replace(DIGEST, (_, alg: string, hex: string) => `${alg}:${hex.slice(0, 12)}`);
}

/**
 * A digest (or a reference holding one) shortened, with the full value one click away in a `<details>`;
 * fits in a table cell. Text without a digest is only escaped.
 */
export function digestDetails(text: string): string {
  if (!text.match(DIGEST)) return escapeMarkdown(text);
  return `<details><summary><code>${escapeMarkdown(shortDigest(text))}</code></summary><code>${escapeMarkdown(text)}</code></details>`;
}

/** The blob URL of `file` (workspace-relative) at the run's commit, or undefined when it cannot be linked. */
export function sourceUrl(links: SourceLinks | undefined, file: string, line?: number): string | undefined {
  if (!links?.repository || !links.sha) return undefined;
  const path = file.replace(/\\/g, "/").replace(/^\.\//, "");
  // Only files inside the checkout have a blob: absolute paths and ../ escapes (temp files, other checkouts) do not.
  if (path === "" || path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.split("/").includes("..")) {
    return undefined;
  }
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return `${links.serverUrl.replace(/\/$/, "")}/${links.repository}/blob/${links.sha}/${encoded}${line ? `#L${line}` : ""}`;
}

/** `file:line` as a markdown link to the blob at the commit, or as plain escaped text when it cannot be linked. */
export function sourceLink(links: SourceLinks | undefined, file: string, line?: number): string {
  const text = escapeMarkdown(line ? `${file}:${line}` : file)
    .replace(/\[/g, "&#91;")
    .replace(/\]/g, "&#93;");
  const url = sourceUrl(links, file, line);
  return url ? `[${text}](${url})` : text;
}

/** A table cell: text (escaped), a number (thousands separators), or `{ raw }` Markdown we built (links, code). */
export type TableCell = string | number | { raw: string };
export type TableRow = TableCell[];

/** A GFM table as a string, for a summary section or the body of a `<details>`. */
export function markdownTable(header: string[], rows: TableRow[]): string {
  const cell = (c: TableCell) =>
    typeof c === "object" ? c.raw : typeof c === "number" ? formatCount(c) : escapeMarkdown(c);
  const lines = [`| ${header.map(escapeMarkdown).join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(" | ")} |`);
  return `${lines.join("\n")}\n`;
}

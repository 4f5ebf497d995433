// Reading the repository's Markdown for the docs tests: links, headings as GitHub anchors them, shell lines.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** README.md and every Markdown file under docs/, repo-relative. */
export function markdownFiles(root: string): string[] {
  const out = ["README.md"];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md")) out.push(p);
    }
  };
  if (existsSync(join(root, "docs"))) walk("docs");
  return out.sort();
}

/** The lines outside fenced code blocks, with their 1-based numbers, inline code spans blanked. */
function proseLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let fence: string | undefined;
  text.split("\n").forEach((l, i) => {
    const m = /^\s*(```+|~~~+)/.exec(l);
    if (m) {
      if (fence === undefined) fence = m[1];
      else if (m[1]!.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence === undefined)
      out.push({ line: i + 1, text: l.replace(/`[^`]*`/g, (s) => " ".repeat(s.length)) });
  });
  return out;
}

/**
 * GitHub's heading anchor (github-slugger): lower case, characters other than letters, digits, marks,
 * connector punctuation, spaces and hyphens removed, spaces to hyphens; a repeat gets -1, -2, ….
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const l of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(l)) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!m) continue;
    const text = m[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .replace(/[`*]/g, "");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]!);
  return out;
}

export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  why: string;
}

/** Every intra-repository link of `file` (repo-relative) whose file or #anchor does not exist. */
export function brokenLinks(root: string, file: string): BrokenLink[] {
  const text = readFileSync(join(root, file), "utf8");
  const out: BrokenLink[] = [];
  for (const { line, text: l } of proseLines(text)) {
    for (const m of l.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …: not ours to check offline
      const [path, anchor] = target.split("#", 2) as [string, string | undefined];
      const abs = path === "" ? join(root, file) : resolve(dirname(join(root, file)), decodeURI(path));
      const rel = relative(root, abs);
      if (rel.startsWith("..")) {
        out.push({ file, line, target, why: "leaves the repository" });
        continue;
      }
      if (!existsSync(abs)) {
        out.push({ file, line, target, why: `${rel} does not exist` });
        continue;
      }
      if (anchor === undefined) continue;
      if (!abs.endsWith(".md") || statSync(abs).isDirectory()) {
        out.push({ file, line, target, why: "an #anchor into a file that is not Markdown" });
        continue;
      }
      if (!anchors(readFileSync(abs, "utf8")).has(anchor)) {
        out.push({ file, line, target, why: `${rel} has no heading with anchor #${anchor}` });
      }
    }
  }
  return out;
}

/** The shell command lines of ```sh blocks (continuations joined, `$ ` prompts dropped), with their lines. */
export function shellLines(markdown: string): Array<{ line: number; command: string }> {
  const out: Array<{ line: number; command: string }> = [];
  const lines = markdown.split("\n");
  let inSh = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\s*```/.test(l)) {
      inSh = !inSh && /^\s*```(sh|bash|shell|console)\s*$/.test(l);
      continue;
    }
    if (!inSh) continue;
    const start = i + 1;
    let cmd = l.replace(/^\s*\$\s+/, "");
    while (cmd.endsWith("\\") && i + 1 < lines.length) cmd = `${cmd.slice(0, -1)} ${lines[++i]!.trim()}`;
    if (cmd.trim()) out.push({ line: start, command: cmd.trim() });
  }
  return out;
}

/** Splits a shell command line into words (single and double quotes, a trailing # comment dropped). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started) words.push(cur);
      cur = "";
      started = false;
    } else if (c === "#" && !started) {
      break;
    } else {
      cur += c;
      started = true;
    }
  }
  if (started) words.push(cur);
  return words;
}

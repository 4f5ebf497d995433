#!/usr/bin/env node
// Generates docs/actions/<name>.md from actions/<name>/action.yml, so the inputs and outputs tables can never
// drift from what the runner reads. Only the part between the generated markers is written: prose a person
// adds above or below it stays. `--check` writes nothing and fails (exit 1) naming each file out of step and
// the command that fixes it; test/docs/action-docs.test.ts runs it.
//
//   node scripts/action-docs.mjs [--check] [--root <repo>]      (npm run docs)
//
// The job permissions an action needs are not part of GitHub's action.yml schema (the runner rejects unknown
// keys), so action.yml states them in a comment block the runner ignores:
//
//   # permissions:
//   #   id-token: write   # why it is needed
//   #   contents: read    # why
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const START =
  "<!-- action-docs:start — generated from action.yml by `npm run docs`; edit action.yml, not this block -->";
export const END = "<!-- action-docs:end -->";
/** The repository adopters reference in `uses:`; replace it with your fork's owner/name (see README). */
export const REPO = "org/platform";
export const MAJOR = "v1";

const PERMISSION_LINE = /^#\s+([a-z-]+):\s*(read|write|none)\s*(?:#\s*(.*))?$/;

/** Reads the `# permissions:` comment block of an action.yml: [{ scope, access, why }]. */
export function parsePermissions(text) {
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => /^#\s*permissions:\s*$/.test(l));
  if (at < 0) return [];
  const out = [];
  for (const line of lines.slice(at + 1)) {
    const m = PERMISSION_LINE.exec(line);
    if (!m) break;
    out.push({ scope: m[1], access: m[2], why: (m[3] ?? "").trim() });
  }
  return out;
}

/** One markdown table cell: one line, pipes escaped, and `<…>` outside code spans kept as text, not HTML. */
function cell(text) {
  return String(text ?? "")
    .replace(/\s*\n\s*/g, " ")
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("")
    .replace(/\|/g, "\\|")
    .trim();
}

function code(text) {
  const s = String(text);
  return s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``;
}

/** A YAML scalar for the usage snippet: quoted when plain YAML would misread it. */
function scalar(value) {
  const s = String(value);
  return /^[\w./@:-][\w ./@:,-]*$/.test(s) && !/[:#]\s|\s$/.test(s) ? s : JSON.stringify(s);
}

/** The generated block for one action (without the markers). */
export function renderAction(name, text) {
  const meta = parse(text);
  const inputs = Object.entries(meta.inputs ?? {});
  const outputs = Object.entries(meta.outputs ?? {});
  const permissions = parsePermissions(text);
  const out = [];
  out.push(`**${meta.name}** — ${cell(meta.description)}`, "");
  out.push("## Usage", "", "```yaml");
  if (permissions.length > 0) {
    out.push("permissions:");
    for (const p of permissions) out.push(`  ${p.scope}: ${p.access}`);
  }
  out.push("steps:");
  out.push(`  - uses: ${REPO}/actions/${name}@${MAJOR}`, `    id: ${name}`);
  if (permissions.some((p) => p.scope === "id-token" && p.access === "write")) {
    // The Azure sign-in reads these (GitHub OIDC → Entra workload identity federation); README: onboarding.
    out.push(
      "    env:",
      `      AZURE_CLIENT_ID: \${{ vars.AZURE_CLIENT_ID }}`,
      `      AZURE_TENANT_ID: \${{ vars.AZURE_TENANT_ID }}`,
    );
  }
  if (inputs.length > 0) out.push("    with:");
  for (const [key, spec] of inputs) {
    if (spec?.required) out.push(`      ${`${key}: "<${key}>"`.padEnd(40)} # required`);
  }
  for (const [key, spec] of inputs) {
    // A deprecated input still works but is not shown to new users.
    if (spec?.required || spec?.deprecationMessage) continue;
    out.push(spec?.default === undefined ? `      # ${key}:` : `      # ${key}: ${scalar(spec.default)}`);
  }
  out.push("```", "");
  out.push(
    `\`${REPO}\` stands for the repository that hosts this toolkit (your fork or mirror); \`@${MAJOR}\` is the moving major release line.`,
    "",
  );
  out.push("## Permissions", "");
  if (permissions.length === 0) out.push("None beyond the job's defaults.", "");
  else {
    out.push("| permission | access | why |", "| --- | --- | --- |");
    for (const p of permissions) out.push(`| \`${p.scope}\` | ${p.access} | ${cell(p.why)} |`);
    out.push("");
  }
  out.push("## Inputs", "");
  if (inputs.length === 0) out.push("None.", "");
  else {
    out.push("| name | required | default | description |", "| --- | --- | --- | --- |");
    for (const [key, spec] of inputs) {
      const def = spec?.default === undefined || spec.default === "" ? "" : code(spec.default);
      const about = cell(
        spec?.deprecationMessage ? `**Deprecated:** ${spec.deprecationMessage}` : spec?.description,
      );
      out.push(`| \`${key}\` | ${spec?.required ? "yes" : "no"} | ${cell(def)} | ${about} |`);
    }
    out.push("");
  }
  out.push("## Outputs", "");
  if (outputs.length === 0) out.push("None.", "");
  else {
    out.push("| name | description |", "| --- | --- |");
    for (const [key, spec] of outputs) out.push(`| \`${key}\` | ${cell(spec?.description)} |`);
    out.push("");
  }
  out.push(
    `Runs on \`${meta.runs?.using}\` from \`actions/${name}/${meta.runs?.main}\` (built at release time).`,
  );
  return out.join("\n");
}

/** The whole docs file: the existing one with its generated block replaced, or a new one. */
export function updateDoc(name, text, existing) {
  const block = `${START}\n${renderAction(name, text)}\n${END}`;
  if (existing === undefined) {
    return `# ${name}\n\n${block}\n`;
  }
  const s = existing.indexOf("<!-- action-docs:start");
  const e = existing.indexOf(END);
  if (s < 0 || e < s) return `${existing.trimEnd()}\n\n${block}\n`;
  return `${existing.slice(0, s)}${block}${existing.slice(e + END.length)}`;
}

/** Every action folder with an action.yml, sorted. */
export function actionNames(root) {
  return readdirSync(join(root, "actions"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, "actions", d.name, "action.yml")))
    .map((d) => d.name)
    .sort();
}

function main(argv) {
  const check = argv.includes("--check");
  const rootAt = argv.indexOf("--root");
  const root = rootAt >= 0 ? argv[rootAt + 1] : join(dirname(fileURLToPath(import.meta.url)), "..");
  const stale = [];
  for (const name of actionNames(root)) {
    const text = readFileSync(join(root, "actions", name, "action.yml"), "utf8");
    const file = join(root, "docs", "actions", `${name}.md`);
    const existing = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    const next = updateDoc(name, text, existing);
    if (next === existing) continue;
    stale.push(relative(root, file));
    if (check) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, next);
    renameSync(`${file}.tmp`, file);
  }
  if (check && stale.length > 0) {
    console.error(
      `out of step with action.yml: ${stale.join(", ")}\n  fix: npm run docs (node scripts/action-docs.mjs), then commit the result`,
    );
    return 1;
  }
  console.log(stale.length > 0 ? `wrote ${stale.join(", ")}` : "docs/actions up to date");
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv.slice(2));

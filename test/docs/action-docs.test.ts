import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT } from "../peers/index.ts";

const SCRIPT = join(REPO_ROOT, "scripts", "action-docs.mjs");
const actions = readdirSync(join(REPO_ROOT, "actions")).sort();

function run(args: string[]) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A scratch repo holding one action's action.yml (and optionally its docs file). */
function scratch(name: string, doc?: string) {
  const root = mkdtempSync(join(tmpdir(), "action-docs-"));
  mkdirSync(join(root, "actions", name), { recursive: true });
  cpSync(join(REPO_ROOT, "actions", name, "action.yml"), join(root, "actions", name, "action.yml"));
  if (doc !== undefined) {
    mkdirSync(join(root, "docs", "actions"), { recursive: true });
    writeFileSync(join(root, "docs", "actions", `${name}.md`), doc);
  }
  return root;
}

describe("docs/actions/<name>.md is generated from actions/<name>/action.yml", () => {
  it("every docs file is in step with its action.yml (else: npm run docs)", () => {
    const r = run(["--check", "--root", REPO_ROOT]);
    expect(r.out).toBe("docs/actions up to date\n");
    expect(r.code).toBe(0);
  });

  it("a docs file out of step fails the check, names the file and the command that fixes it", () => {
    const current = readFileSync(join(REPO_ROOT, "docs", "actions", "sign.md"), "utf8");
    const root = scratch("sign", current.replace("| `format` |", "| `formats` |"));
    const r = run(["--check", "--root", root]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("docs/actions/sign.md");
    expect(r.out).toContain("npm run docs");
    // --check writes nothing.
    expect(readFileSync(join(root, "docs", "actions", "sign.md"), "utf8")).toContain("| `formats` |");
  });

  it("regenerating keeps the hand-written prose around the generated block", () => {
    const current = readFileSync(join(REPO_ROOT, "docs", "actions", "verify.md"), "utf8");
    const start = current.indexOf("<!-- action-docs:start");
    const end = current.indexOf("<!-- action-docs:end -->");
    const stale = `# verify\n\nProse above.\n\n${current.slice(start, end)}| stale row |\n<!-- action-docs:end -->\n\nProse below.\n`;
    const root = scratch("verify", stale);
    expect(run(["--root", root]).code).toBe(0);
    const next = readFileSync(join(root, "docs", "actions", "verify.md"), "utf8");
    expect(next.startsWith("# verify\n\nProse above.\n\n<!-- action-docs:start")).toBe(true);
    expect(next.endsWith("<!-- action-docs:end -->\n\nProse below.\n")).toBe(true);
    expect(next).not.toContain("stale row");
    expect(run(["--check", "--root", root]).code).toBe(0);
  });

  it("a missing docs file is created with a title and the block", () => {
    const root = scratch("canary-gate");
    expect(run(["--check", "--root", root]).code).toBe(1);
    expect(run(["--root", root]).code).toBe(0);
    const doc = readFileSync(join(root, "docs", "actions", "canary-gate.md"), "utf8");
    expect(doc).toMatch(/^# canary-gate\n\n<!-- action-docs:start/);
  });

  it.each(actions)("%s: every input (with required and default) and every output has its row", (name) => {
    const meta = parse(readFileSync(join(REPO_ROOT, "actions", name, "action.yml"), "utf8"));
    const doc = readFileSync(join(REPO_ROOT, "docs", "actions", `${name}.md`), "utf8");
    const rows = doc.split("\n").filter((l) => l.startsWith("| `"));
    for (const [key, spec] of Object.entries<{
      required?: boolean;
      default?: string;
      deprecationMessage?: string;
    }>(meta.inputs ?? {})) {
      const row = rows.find((l) => l.startsWith(`| \`${key}\` | `));
      expect(row, `input ${key}`).toBeDefined();
      expect(row).toContain(`| ${spec.required ? "yes" : "no"} |`);
      if (spec.default) expect(row).toContain(String(spec.default));
      // A deprecated input is marked in the table and left out of the usage snippet.
      if (spec.deprecationMessage) {
        expect(row).toContain("**Deprecated:**");
        expect(doc).not.toContain(`      # ${key}:`);
      }
    }
    for (const key of Object.keys(meta.outputs ?? {})) {
      expect(
        rows.some((l) => l.startsWith(`| \`${key}\` | `)),
        `output ${key}`,
      ).toBe(true);
    }
    expect(doc).toContain(`uses: org/platform/actions/${name}@v1`);
  });
});

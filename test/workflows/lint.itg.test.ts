// Every workflow and action metadata file in the repository is clean under actionlint (with shellcheck on the
// run: scripts) and zizmor's strictest persona, offline. The canary cases prove both tools really ran and that
// our zizmor config's one exception (our own actions at the moving major) does not reach third-party actions.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";

const run = promisify(execFile);
const peers = requirePeers("actionlint", "zizmor", "shellcheck");

interface Outcome {
  code: number;
  output: string;
}

async function tool(bin: string, args: string[], cwd = REPO_ROOT): Promise<Outcome> {
  // actionlint finds shellcheck on PATH; the Debian package puts it in /usr/bin.
  const env = { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/bin`, NO_COLOR: "1" };
  try {
    const r = await run(bin, args, { cwd, env, maxBuffer: 16 << 20 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : -1,
      output: `${err.stdout ?? ""}${err.stderr ?? ""}`,
    };
  }
}

const zizmor = (paths: string[], cwd?: string) =>
  tool(
    peers.paths.zizmor!,
    ["--offline", "--persona=pedantic", "--format=plain", "--no-progress", ...paths],
    cwd,
  );

describe.skipIf(!peers.ok)("workflows and action metadata: actionlint and zizmor clean", () => {
  let canary: string;

  beforeAll(async () => {
    canary = await mkdtemp(join(tmpdir(), "workflow-lint-"));
    await mkdir(join(canary, ".github", "workflows"), { recursive: true });
    // zizmor reads its config from the linted repository's .github/: the canary uses ours.
    await writeFile(
      join(canary, ".github", "zizmor.yml"),
      await readFile(join(REPO_ROOT, ".github", "zizmor.yml")),
    );
    await writeFile(
      join(canary, ".github", "workflows", "bad.yml"),
      await readFile(join(import.meta.dirname, "fixtures", "canary.yml")),
    );
  });
  afterAll(async () => {
    await rm(canary, { recursive: true, force: true });
  });

  it("actionlint (with shellcheck) finds nothing in .github/workflows", async () => {
    const files = (await readdir(join(REPO_ROOT, ".github", "workflows"))).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    const r = await tool(
      peers.paths.actionlint!,
      files.map((f) => join(".github", "workflows", f)),
    );
    expect(r.output.trim(), r.output).toBe("");
    expect(r.code).toBe(0);
  });

  it("zizmor --offline --persona=pedantic finds nothing in the workflows and actions/*/action.yml", async () => {
    const r = await zizmor([".github/workflows", "actions"]);
    expect(r.output, r.output).toMatch(/No findings to report/);
    expect(r.code, r.output).toBe(0);
  });

  it("the canary workflow is refused by both: the tools ran, and only our own actions may use the moving major", async () => {
    const lint = await tool(peers.paths.actionlint!, [join(".github", "workflows", "bad.yml")], canary);
    expect(lint.code).not.toBe(0);
    expect(lint.output).toMatch(/steps\.nope|property "nope" is not defined/);
    expect(lint.output).toMatch(/shellcheck/); // SC2086 on $UNQUOTED: shellcheck really runs under actionlint
    const z = await zizmor([".github/workflows"], canary);
    expect(z.code).not.toBe(0);
    expect(z.output).toMatch(/template-injection/);
    expect(z.output).toMatch(/unpinned-uses[\s\S]*actions\/checkout@v4/);
    expect(z.output).not.toMatch(/org\/platform\/actions\/verify@v1[^\n]*not pinned/);
  });
});

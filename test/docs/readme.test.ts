import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { actionNames } from "../../scripts/action-docs.mjs";
import { REPO_ROOT } from "../peers/index.ts";
import { shellLines } from "./markdown.ts";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

describe("README.md is the adopters' page", () => {
  it("stays short: at most 250 lines (details live in docs/)", () => {
    expect(readme.split("\n").length).toBeLessThanOrEqual(250);
  });

  it("its two commands are npm ci and npm test, the ones .ci/run runs on a fresh clone", () => {
    const section = readme.slice(readme.indexOf("## Try it"));
    const block = shellLines(section.slice(0, section.indexOf("```", section.indexOf("```") + 3) + 3));
    expect(block.map((l) => l.command.split("#")[0]!.trim())).toEqual(["npm ci", "npm test"]);
    const ci = readFileSync(join(REPO_ROOT, ".ci", "run"), "utf8").split("\n");
    expect(ci.some((l) => /^npm ci\b/.test(l))).toBe(true);
    expect(ci).toContain("npm test");
  });

  it.each(actionNames(REPO_ROOT))("lists the %s action with its generated reference page", (name) => {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
    expect(row, name).toBeDefined();
    expect(row).toContain(`(docs/actions/${name}.md)`);
  });

  it("says how to replace the org/platform placeholder", () => {
    expect(readme).toMatch(/^## `org\/platform` is a placeholder$/m);
  });
});

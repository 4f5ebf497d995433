import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../peers/index.ts";
import { anchors, brokenLinks, markdownFiles } from "./markdown.ts";

const files = markdownFiles(REPO_ROOT);

describe("every intra-repository link and #anchor in README.md and docs/ resolves", () => {
  it("finds the README and the docs", () => {
    expect(files).toContain("README.md");
    expect(files).toContain("docs/actions/digest-bump.md");
  });

  it.each(files)("%s", (file) => {
    const broken = brokenLinks(REPO_ROOT, file);
    expect(broken.map((b) => `${b.file}:${b.line}: (${b.target}) ${b.why}`)).toEqual([]);
  });

  it("anchors follow GitHub's slugs: code, punctuation and repeats", () => {
    const a = anchors(
      "# Test suites, unchanged: `platform policy test`\n## A & B\n## A & B\n```sh\n# not a heading\n```\n### Rego/wasm (opa)\n",
    );
    expect([...a]).toEqual(["test-suites-unchanged-platform-policy-test", "a--b", "a--b-1", "regowasm-opa"]);
  });

  it("reports a missing file, a missing anchor and a link out of the repository; code is not a link", () => {
    const root = mkdtempSync(join(tmpdir(), "links-"));
    mkdirSync(join(root, "docs"));
    writeFileSync(join(root, "docs", "a.md"), "# Alpha\n\n## Two words\n");
    writeFileSync(
      join(root, "README.md"),
      [
        "[ok](docs/a.md) [ok](docs/a.md#two-words) [ok](#top) [web](https://example.com/x)",
        "[gone](docs/b.md)",
        "[anchor](docs/a.md#three-words)",
        "[out](../elsewhere.md)",
        "`[code](docs/none.md)`",
        "```md\n[fenced](docs/none.md)\n```",
        "# Top",
      ].join("\n"),
    );
    expect(brokenLinks(root, "README.md").map((b) => [b.line, b.target])).toEqual([
      [2, "docs/b.md"],
      [3, "docs/a.md#three-words"],
      [4, "../elsewhere.md"],
    ]);
  });
});

// README.md and the docs with mermaid pictures, rendered as GitHub shows Markdown (the job-summary renderer:
// marked, GitHub's stylesheet, the mermaid package in Debian's Chromium): every picture draws, the page does
// not scroll sideways.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";
import { launch, renderSummary } from "../summaries/render.ts";
import { markdownFiles } from "./markdown.ts";

const peers = requirePeers("chromium");
const withMermaid = markdownFiles(REPO_ROOT).filter((f) =>
  readFileSync(join(REPO_ROOT, f), "utf8").includes("```mermaid"),
);

describe.skipIf(!peers.ok)("Markdown with mermaid pictures renders in a real browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch(peers.paths.chromium!);
  }, 60_000);
  afterAll(() => browser?.close());

  it("README.md has pictures to check", () => {
    expect(withMermaid).toContain("README.md");
  });

  it.each(withMermaid)("%s: every mermaid block draws; nothing scrolls the page sideways", async (file) => {
    const { facts } = await renderSummary(browser, readFileSync(join(REPO_ROOT, file), "utf8"));
    expect(facts.mermaidErrors).toEqual([]);
    expect(facts.pageOverflowX).toBe(false);
  });

  it("a broken picture fails the render (the check can fail)", async () => {
    // mermaid.run() rejects on a syntax error, and renderSummary passes that on.
    await expect(
      renderSummary(browser, "# x\n\n```mermaid\nflowchart LR\n  a[ --> \n```\n"),
    ).rejects.toBeDefined();
  });
});

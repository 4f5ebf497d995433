// Every action's job summary, rendered as GitHub shows it in headless Chromium: what the first screen shows is
// asserted from the DOM. SUMMARY_SCREENSHOTS=<suffix> also saves docs/screenshots/<action>-<suffix>.png.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHART_COLORS, namedScenario, scenarioOpenMetrics } from "@platform/canary";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBundledAction } from "../harness/run-action.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";
import { launch, type RenderedFacts, renderSummary, VIEWPORT } from "./render.ts";
import { SCENARIO_PEERS, type SummaryScenario, summaryScenarios } from "./scenarios.ts";

const peers = requirePeers("chromium", ...SCENARIO_PEERS);

/** How many screens (of 1000×800) each summary may take: the verdict and what to fix, not every detail. */
const SCREEN_BUDGET: Record<string, number> = {
  "policy-dry-run": 2,
  "build-scan": 2,
  "canary-gate": 1.5,
  sign: 1,
  verify: 1,
  "digest-bump": 1,
  "cluster-upgrade": 2,
};
const REPO = "https://github.com/northwind/app/blob/0123456789abcdef0123456789abcdef01234567/";

describe.skipIf(!peers.ok)("job summaries in a real browser (Chromium, 1000×800)", () => {
  let browser: Browser;
  let scenarios: SummaryScenario[];
  const facts = new Map<string, RenderedFacts>();

  beforeAll(async () => {
    browser = await launch(peers.paths.chromium!);
    scenarios = await summaryScenarios();
    const shots = process.env.SUMMARY_SCREENSHOTS;
    if (shots) await mkdir(join(REPO_ROOT, "docs", "screenshots"), { recursive: true });
    for (const s of scenarios) {
      const r = await renderSummary(browser, s.run.summary);
      facts.set(s.action, r.facts);
      if (shots) {
        await writeFile(join(REPO_ROOT, "docs", "screenshots", `${s.action}-${shots}.png`), r.png);
        await mkdir(join(REPO_ROOT, "test-results", "summaries"), { recursive: true });
        await writeFile(
          join(REPO_ROOT, "test-results", "summaries", `${s.action}-${shots}.md`),
          s.run.summary,
        );
      }
      console.log(`${s.action}: ${r.facts.screens} screen(s) — ${r.facts.headline?.text}`);
    }
  }, 600_000);
  afterAll(() => browser?.close());

  it("covers every action", () => {
    expect(scenarios.map((s) => s.action).sort()).toEqual(Object.keys(SCREEN_BUDGET).sort());
  });

  for (const action of Object.keys(SCREEN_BUDGET)) {
    describe(action, () => {
      const get = () => {
        const s = scenarios.find((x) => x.action === action)!;
        return { s, f: facts.get(action)! };
      };

      it("shows a ✅/❌ headline on the first screen that matches the step's outcome", () => {
        const { s, f } = get();
        expect(s.run.code, s.run.stdout).toBe(s.passed ? 0 : 1);
        expect(f.headline, s.run.summary).toBeDefined();
        expect(f.headline!.text.startsWith(s.passed ? "✅" : "❌"), f.headline!.text).toBe(true);
        expect(f.headline!.top).toBeGreaterThanOrEqual(0);
        expect(f.headline!.bottom).toBeLessThanOrEqual(VIEWPORT.height);
      });

      it(`fits ${SCREEN_BUDGET[action]} screen(s), with every table column visible without scrolling sideways`, () => {
        const { s, f } = get();
        expect(f.screens, s.run.summary).toBeLessThanOrEqual(SCREEN_BUDGET[action]!);
        expect(f.pageOverflowX).toBe(false);
        for (const t of f.tables) {
          expect(t.offScreen, `table ${t.header.join(" | ")}`).toEqual([]);
          expect(t.overflowX, `table ${t.header.join(" | ")}`).toBe(false);
        }
        expect(f.mermaidErrors).toEqual([]);
      });

      it("has no pie chart that repeats a table", () => {
        const { f } = get();
        for (const pie of f.pies)
          for (const t of f.tables)
            expect(
              pie.labels.every((l) => t.firstColumn.includes(l)) ||
                pie.labels.every((l) => t.header.includes(l)),
              `pie ${pie.labels.join(", ")} repeats table ${t.header.join(" | ")}`,
            ).toBe(false);
      });

      it("shows digests as 12 characters (the full one in a <details>) and counts with thousands separators", () => {
        const { f } = get();
        expect(f.visibleFullDigests).toEqual([]);
        for (const t of f.tables)
          for (const c of t.cells.filter((x) => /^[\d,]+$/.test(x)))
            expect(c, `table ${t.header.join(" | ")}`).toMatch(/^\d{1,3}(,\d{3})*$/);
      });
    });
  }

  it("links policy findings' file:line to the blob at the commit", () => {
    const f = facts.get("policy-dry-run")!;
    const link = f.links.find((l) => l.text === "config-repo/apps/storefront/deployment.yaml:23");
    expect(link?.href).toBe(`${REPO}config-repo/apps/storefront/deployment.yaml#L23`);
    expect(f.details.some((d) => /more finding/.test(d))).toBe(true);
  });

  it("draws the canary chart with a legend, the canary line on top of the primary's", () => {
    const f = facts.get("canary-gate")!;
    expect(f.xycharts).toHaveLength(1);
    const chart = f.xycharts[0]!;
    expect(chart.lines).toHaveLength(2);
    expect(chart.lines.every((l) => l.points > 1)).toBe(true);
    expect(new Set(chart.lines.map((l) => l.stroke)).size).toBe(2);
    // The last line drawn is on top: the canary's, in the colour the legend under the chart names.
    expect(chart.lines.map((l) => l.stroke.toLowerCase())).toEqual([
      CHART_COLORS.primary,
      CHART_COLORS.canary,
    ]);
    expect(chart.legend).toMatch(/canary \(red, drawn on top\).*primary \(blue\)/);
  });

  it("writes no summary with summary: false, and the outputs are unchanged", async () => {
    const on = scenarios.find((x) => x.action === "canary-gate")!.run;
    const ws = await mkdtemp(join(tmpdir(), "sum-off-"));
    try {
      const start = Date.parse("2026-11-25T10:00:00Z");
      await writeFile(join(ws, "spike.om"), scenarioOpenMetrics(namedScenario("error-spike", start, 30)));
      const off = await runBundledAction(
        "canary-gate",
        {
          "prometheus-url": `file://${join(ws, "spike.om")}`,
          namespace: "demo",
          service: "podinfo",
          mode: "watch",
          interval: "1m",
          "max-duration": "30m",
          summary: "false",
        },
        { workspace: ws },
      );
      expect(off.summary).toBe("");
      expect(on.summary).not.toBe("");
      expect(off.code).toBe(on.code);
      expect(off.outputs.decision).toBe(on.outputs.decision);
      expect(off.outputs.evidence).toBe(on.outputs.evidence);
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});

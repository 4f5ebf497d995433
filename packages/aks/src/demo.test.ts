import { join } from "node:path";
import { expect, it } from "vitest";
import { demoUpgradeText } from "./demo.ts";

it("the demo plans the bundled Northwind cluster offline: two hops, and its config repo blocks 1.32", async () => {
  const text = await demoUpgradeText(
    join(import.meta.dirname, "../../../examples/northwind"),
    new Date("2026-11-25T16:00:00Z"),
  );
  expect(text).toContain("1.30.7 → 1.32.4 — blocked");
  expect(text).toMatch(/1\. control-plane@1\.31\.6[\s\S]*4\. control-plane@1\.32\.4/);
  expect(text).toMatch(
    /blocker removed-api: flowcontrol\.apiserver\.k8s\.io\/v1beta3 FlowSchema .*\(manifests\/workloads\.yaml:\d+\)/,
  );
  expect(text).toContain("blocker pdb-blocks-drain: PodDisruptionBudget orders/orders-api");
  expect(text).toContain("single-replica: Deployment storefront/storefront");
  expect(text).not.toContain("single-replica: Deployment orders/orders-api");
});

it("the demo's maintenance windows are the next ones after the clock it is given, never in the past", async () => {
  const example = join(import.meta.dirname, "../../../examples/northwind");
  for (const now of [new Date("2026-11-25T16:00:00Z"), new Date("2031-02-03T12:34:00Z")]) {
    const text = await demoUpgradeText(example, now);
    const starts = [...text.matchAll(/window: .*\(next (\S+) – (\S+)\)/g)];
    expect(starts).toHaveLength(2);
    for (const [, start, end] of starts) {
      expect(Date.parse(end!)).toBeGreaterThan(now.getTime());
      // A weekly window is at most a week (plus its length) away.
      expect(Date.parse(start!) - now.getTime()).toBeLessThan(8 * 24 * 3600_000);
    }
  }
  // Sunday 01:00 +01:00 after Wednesday 2026-11-25 is 2026-11-29 00:00Z; the daily 02:00 +01:00 is the next morning.
  const fixed = await demoUpgradeText(example, new Date("2026-11-25T16:00:00Z"));
  expect(fixed).toContain("next 2026-11-29T00:00:00.000Z – 2026-11-29T04:00:00.000Z");
  expect(fixed).toContain("next 2026-11-26T01:00:00.000Z – 2026-11-26T05:00:00.000Z");
});

it("without a clock the demo uses the real one (the windows it prints are upcoming)", async () => {
  const before = Date.now();
  const text = await demoUpgradeText(join(import.meta.dirname, "../../../examples/northwind"));
  for (const [, end] of text.matchAll(/window: .*\(next \S+ – (\S+)\)/g))
    expect(Date.parse(end!)).toBeGreaterThan(before);
});

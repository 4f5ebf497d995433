import { join } from "node:path";
import { expect, it } from "vitest";
import { demoUpgradeText } from "./demo.ts";

it("the demo plans the bundled Northwind cluster offline: two hops, and its config repo blocks 1.32", async () => {
  const text = await demoUpgradeText(join(import.meta.dirname, "../../../examples/northwind"));
  expect(text).toContain("1.30.7 → 1.32.4 — blocked");
  expect(text).toMatch(/1\. control-plane@1\.31\.6[\s\S]*4\. control-plane@1\.32\.4/);
  expect(text).toMatch(
    /blocker removed-api: flowcontrol\.apiserver\.k8s\.io\/v1beta3 FlowSchema .*\(manifests\/workloads\.yaml:\d+\)/,
  );
  expect(text).toContain("blocker pdb-blocks-drain: PodDisruptionBudget orders/orders-api");
  expect(text).toContain("single-replica: Deployment storefront/storefront");
  expect(text).not.toContain("single-replica: Deployment orders/orders-api");
});

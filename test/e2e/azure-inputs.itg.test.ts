// issue 17's one vocabulary for Azure sign-in on the bundled actions: build-scan takes subscription-id (the old
// subscription still works, with a warning), and tenant-id / client-id are accepted wherever Azure is reached.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runBundledAction } from "../harness/run-action.ts";
import { layoutWithImages } from "../signing/helpers.ts";

let ws: string;
beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), "azure-inputs-"));
  await layoutWithImages(join(ws, "prebuilt"), ["app"]);
});
afterAll(() => rm(ws, { recursive: true, force: true }));

const push = (inputs: Record<string, string>) =>
  runBundledAction(
    "build-scan",
    { from: "prebuilt", image: `oci:${join(ws, "out")}`, scanner: "none", ...inputs },
    { workspace: ws },
  );

it("build-scan: subscription-id, tenant-id and client-id are inputs; subscription is deprecated and warns", async () => {
  const now = await push({
    "subscription-id": "00000000-0000-0000-0000-000000000001",
    "tenant-id": "contoso.onmicrosoft.com",
    "client-id": "9a8b7c6d-0000-4000-8000-000000000002",
  });
  expect(now.code, now.stdout).toBe(0);
  expect(now.stdout).not.toContain("deprecated");
  const old = await push({ subscription: "00000000-0000-0000-0000-000000000001" });
  expect(old.code, old.stdout).toBe(0);
  expect(old.stdout).toMatch(/::warning[^\n]*the subscription input is deprecated: use subscription-id/);
});

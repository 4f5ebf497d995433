import { expect, it } from "vitest";
import { runCaptured } from "./run-captured.ts";

it("upgrade plan --fleet is in the help, and its usage errors name the flags before any sign-in", async () => {
  const help = await runCaptured(["upgrade", "plan", "--help"], process.cwd());
  expect(help.out).toMatch(/--fleet <name>\s+Azure Kubernetes Fleet Manager name/);
  expect(help.out).toContain("--fleet-stages <stages>");
  expect(help.out).toContain("$ platform upgrade plan --fleet fleet-prod");

  const both = await runCaptured(["upgrade", "plan", "--fleet", "f", "--cluster", "c"], process.cwd());
  expect(both.code).toBe(2);
  expect(both.err).toContain("Give --cluster or --fleet, not both");

  const noRg = await runCaptured(
    ["upgrade", "plan", "--fleet", "f", "--subscription-id", "s"],
    process.cwd(),
    {},
  );
  expect(noRg.code).toBe(2);
  expect(noRg.err).toMatch(/--fleet needs --subscription-id and --resource-group.*--resource-group/s);

  const badType = await runCaptured(
    [
      "upgrade",
      "plan",
      "--fleet",
      "f",
      "--subscription-id",
      "s",
      "--resource-group",
      "rg",
      "--fleet-upgrade-type",
      "Everything",
    ],
    process.cwd(),
  );
  expect(badType.code).toBe(2);
  expect(badType.err).toContain(
    "--fleet-upgrade-type Everything is not one of Full, NodeImageOnly, ControlPlaneOnly",
  );
});

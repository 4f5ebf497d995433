import { describe, expect, it } from "vitest";
import type { AksClients } from "./arm.ts";
import { checkFleetPlan, planFleet } from "./fleet-plan.ts";

// A plain-object Fleet client: an empty fleet (no member to read), and an update strategy to read or a 404.
function clients(strategy: "found" | "missing", asked: string[]): AksClients {
  return {
    fleet: {
      fleetMembers: {
        listByFleet: async function* () {},
      },
      fleetUpdateStrategies: {
        get: async (rg: string, fleet: string, name: string) => {
          asked.push(`${rg}/${fleet}/${name}`);
          if (strategy === "missing")
            throw Object.assign(new Error("not found"), {
              statusCode: 404,
              details: { error: { code: "ResourceNotFound", message: `Strategy ${name} not found.` } },
            });
          return {
            properties: {
              strategy: {
                stages: [
                  { name: "canary", groups: [{ name: "canary" }] },
                  { name: "prod", groups: [{ name: "prod" }] },
                ],
              },
            },
          };
        },
      },
    },
  } as unknown as AksClients;
}

const STRATEGY =
  "/subscriptions/s/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/fleets/f/updateStrategies/safe-rollout";
const input = {
  fleet: { subscription: "s", resourceGroup: "rg-fleet", name: "f" },
  targetVersion: "latest-patch",
  upgradeType: "Full" as const,
  root: ".",
};

describe("planFleet with an update strategy", () => {
  it("reads the strategy's stages from ARM for the report, and apply keeps the strategy", async () => {
    const asked: string[] = [];
    const c = clients("found", asked);
    const plan = await planFleet(() => c, { ...input, updateStrategyId: STRATEGY });
    expect(asked).toEqual(["rg-fleet/f/safe-rollout"]);
    expect(plan.risk.stages).toEqual(["canary", "prod"]);
    expect(plan.updateStrategyId).toBe(STRATEGY);
    expect(await checkFleetPlan(c, plan, input.fleet)).toMatchObject({ updateStrategyId: STRATEGY });
  });

  it("a strategy ARM cannot find fails the plan (no report without its stages)", async () => {
    const c = clients("missing", []);
    await expect(planFleet(() => c, { ...input, updateStrategyId: STRATEGY })).rejects.toMatchObject({
      code: "AKS_ARM_ResourceNotFound",
      message: expect.stringContaining("reading update strategy safe-rollout of fleet f"),
    });
  });
});

import { describe, expect, it } from "vitest";
import { thrownPlatformError } from "../../../test/harness/errors.ts";
import { fleetStrategyId } from "./fleet-plan.ts";

// The update-strategy path against Fleet (plan, apply, a missing or changed strategy) runs against the
// spec-checked Fleet fake in test/aks/fleet-strategy.itg.test.ts; here only the input's grammar.
const REF = { subscription: "00000000-0000-0000-0000-000000000001", resourceGroup: "rg-fleet", name: "f" };
const ID = `/subscriptions/${REF.subscription}/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/fleets/f/updateStrategies/safe-rollout`;

describe("update-strategy: a strategy name or resource ID of the fleet", () => {
  it("a name becomes the fleet's strategy ID; an ID of this fleet is kept (ARM IDs are case-insensitive)", () => {
    expect(fleetStrategyId(REF, "safe-rollout")).toBe(ID);
    expect(fleetStrategyId(REF, ` ${ID} `)).toBe(ID);
    const upper = ID.replace("resourceGroups/rg-fleet", "resourcegroups/RG-FLEET");
    expect(fleetStrategyId(REF, upper)).toBe(upper);
  });

  it("another fleet's strategy is refused, naming both fleets", () => {
    const err = thrownPlatformError(() => fleetStrategyId(REF, ID.replace("/fleets/f/", "/fleets/other/")));
    expect(err).toMatchObject({ code: "AKS_FLEET_STRATEGY_OTHER_FLEET", input: "update-strategy" });
    expect(err.message).toContain("fleet rg-fleet/other");
    expect(err.message).toContain("not of rg-fleet/f");
    expect(thrownPlatformError(() => fleetStrategyId(REF, ID.replace(REF.subscription, "1-2-3"))).code).toBe(
      "AKS_FLEET_STRATEGY_OTHER_FLEET",
    );
  });

  it.each([
    "Safe_Rollout",
    "-lead",
    "a".repeat(51),
    `${ID}/extra`,
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/fleets/f/updateRuns/r",
  ])("%s is neither a name nor a strategy ID", (v) => {
    expect(thrownPlatformError(() => fleetStrategyId(REF, v))).toMatchObject({
      code: "AKS_FLEET_STRATEGY_ID",
      input: "update-strategy",
    });
  });
});

// The DR fake holds to its spec extracts: a request or answer the published API description does not
// allow is an error the test sees, not something the fake quietly accepts.
import { createArmClient } from "@platform/dr";
import { afterEach, describe, expect, it } from "vitest";
import { type DrFake, startDrFake } from "./dr.ts";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000001";
const ORIGIN = `${SUB}/resourceGroups/rg-global/providers/Microsoft.Cdn/profiles/afd-northwind/originGroups/storefront/origins/aks-centralus`;
const FLUX = `${SUB}/resourceGroups/rg-standby/providers/Microsoft.ContainerService/managedClusters/aks-standby/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/platform`;
const REPLICA = `${SUB}/resourceGroups/rg-global/providers/Microsoft.ContainerRegistry/registries/northwindacr/replications/centralus`;

let fake: DrFake;
afterEach(() => fake.close());

async function client() {
  fake = await startDrFake({
    origins: { "aks-centralus": 2 },
    flux: { "aks-standby/platform": { suspend: true, kustomizations: ["apps"] } },
    replications: { centralus: { location: "centralus", regionEndpointEnabled: false } },
  });
  const credential = {
    getToken: async () => ({ token: "test-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  return createArmClient(credential, { armEndpoint: fake.arm.url, ca: fake.arm.ca, maxRetries: 0 });
}

describe("DR ARM fake", () => {
  it("answers the spec's shapes for origins, Flux configurations and replications", async () => {
    const arm = await client();
    const origin = await arm.send("GET", ORIGIN, { apiVersion: "2025-06-01" });
    expect(origin.status).toBe(200);
    expect(origin.body).toMatchObject({ properties: { priority: 2, provisioningState: "Succeeded" } });
    const flux = await arm.send("GET", FLUX, { apiVersion: "2025-04-01" });
    expect(flux.body).toMatchObject({ properties: { suspend: true, complianceState: "Suspended" } });
    const replica = await arm.send("GET", REPLICA, { apiVersion: "2025-11-01" });
    expect(replica.body).toMatchObject({
      location: "centralus",
      properties: { regionEndpointEnabled: false },
    });
    const accepted = await arm.send("PATCH", FLUX, {
      apiVersion: "2025-04-01",
      body: { properties: { suspend: false } },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.headers["azure-asyncoperation"]).toContain("/_fake/operations/");
    expect(fake.arm.mismatches).toEqual([]);
  });

  it("refuses what the specs do not allow: a priority over 5, another api-version, an unknown path", async () => {
    const arm = await client();
    const tooHigh = await arm.send("PATCH", ORIGIN, {
      apiVersion: "2025-06-01",
      body: { properties: { priority: 9 } },
    });
    expect(tooHigh.status).toBe(400);
    const oldApi = await arm.send("GET", FLUX, { apiVersion: "2022-11-01" });
    expect(oldApi.status).toBe(400);
    const unknown = await arm.send("GET", `${REPLICA}/webhooks`, { apiVersion: "2025-11-01" });
    expect(unknown.status).toBe(404);
    expect(fake.arm.mismatches).toEqual([
      expect.stringMatching(/AFDOrigins_Update .*request body \/properties\/priority must be <= 5/),
      expect.stringMatching(/FluxConfigurations_Get .*api-version 2022-11-01 is not the spec's 2025-04-01/),
      expect.stringMatching(/no operation in the specs has this method and path/),
    ]);
    fake.arm.mismatches.length = 0;
  });

  it("checks its own answers: a provisioningState the spec does not list is a mismatch", async () => {
    const arm = await client();
    // A resource state the handler serialises as it is: "Reconciling" is not in ProvisioningState.
    fake.flux.get("aks-standby/platform")!.provisioningState = "Reconciling";
    await arm.send("GET", FLUX, { apiVersion: "2025-04-01" });
    expect(fake.arm.mismatches.join("\n")).toMatch(
      /FluxConfigurations_Get response 200: .*provisioningState must be equal to one of the allowed values/,
    );
    fake.arm.mismatches.length = 0;
  });
});

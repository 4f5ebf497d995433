import { describe, expect, it } from "vitest";
import { createArmClient } from "./arm.ts";

// A credential that must never be asked: both refusals happen before any request (and any token).
const credential = {
  getToken: () => {
    throw new Error("no token may be requested");
  },
};

describe("createArmClient", () => {
  it("refuses an ARM endpoint that is not https (a bearer token must not travel in clear)", () => {
    expect(() => createArmClient(credential, { armEndpoint: "http://management.azure.com" })).toThrow(
      expect.objectContaining({ code: "DR_ARM_ENDPOINT_INVALID" }),
    );
  });

  it("does not send the token to another host than the ARM endpoint (an operation URL elsewhere)", async () => {
    const arm = createArmClient(credential, { armEndpoint: "https://management.usgovcloudapi.net/" });
    expect(arm.endpoint).toBe("https://management.usgovcloudapi.net");
    await expect(arm.send("GET", "https://attacker.example/operations/1")).rejects.toMatchObject({
      code: "DR_ARM_FOREIGN_URL",
      category: "environment",
    });
  });
});

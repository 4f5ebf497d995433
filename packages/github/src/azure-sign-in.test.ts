import { lazyAzureCredential } from "@platform/azure";
import { describe, expect, it } from "vitest";
import { azureSignInInputs, withAzureSignIn } from "./inputs.ts";

// A job with GitHub's OIDC token endpoint and no AZURE_* variables (never reached: sign-in stops first).
const job = {
  GITHUB_ACTIONS: "true",
  ACTIONS_ID_TOKEN_REQUEST_URL: "http://127.0.0.1:9/token",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "not-a-real-token",
};
const signIn = (env: NodeJS.ProcessEnv) =>
  lazyAzureCredential({ env }).getToken("https://management.azure.com/.default");

describe("tenant-id and client-id inputs (azure/login's names) on the Azure actions", () => {
  it("reach the Azure sign-in as AZURE_TENANT_ID / AZURE_CLIENT_ID, without changing the job's environment", async () => {
    await expect(signIn(withAzureSignIn(job, {}))).rejects.toMatchObject({ code: "AZURE_TENANT_ID_MISSING" });
    const env = withAzureSignIn(job, { tenantId: "contoso.onmicrosoft.com" });
    // The tenant arrived: what is missing now is the client ID.
    await expect(signIn(env)).rejects.toMatchObject({ code: "AZURE_CLIENT_ID_MISSING", input: "client-id" });
    expect(env).toMatchObject({ AZURE_TENANT_ID: "contoso.onmicrosoft.com" });
    expect(job).not.toHaveProperty("AZURE_TENANT_ID");
    expect(withAzureSignIn(job, { clientId: "9a8b7c6d-0000-4000-8000-000000000002" })).toMatchObject({
      AZURE_CLIENT_ID: "9a8b7c6d-0000-4000-8000-000000000002",
    });
    expect(withAzureSignIn(job, {})).toBe(job);
  });

  it("are optional strings: empty is unset", () => {
    const { "tenant-id": tenant, "client-id": client } = azureSignInInputs();
    expect(tenant.parse("")).toBeUndefined();
    expect(client.parse(" id ")).toBe("id");
  });
});

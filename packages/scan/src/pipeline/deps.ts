import { lazyAzureCredential } from "@platform/azure";
import type { Logger } from "@platform/core";
import { acrCredentials, RegistryClient } from "@platform/oci";
import { resourceGraphClient } from "../defender.ts";
import { acrLookup } from "./acr.ts";
import type { BuildScanDeps } from "./build-scan.ts";
import { spawnExec } from "./exec.ts";

/** The `subscription` input, or AZURE_SUBSCRIPTION_ID when it is empty. */
export function subscriptionsOrEnv(subscriptions: string[], env: NodeJS.ProcessEnv): string[] {
  if (subscriptions.length > 0) return subscriptions;
  return env.AZURE_SUBSCRIPTION_ID ? [env.AZURE_SUBSCRIPTION_ID] : [];
}

/**
 * buildScan's real dependencies, as the action and the CLI use them: one lazy Azure credential (signed in
 * only when an ACR, Resource Graph or ARM is reached) behind the registry client, Defender's Resource Graph
 * and ACR → ACR promotion. PLATFORM_ARM_ENDPOINT: another cloud's Resource Manager
 * (e.g. https://management.usgovcloudapi.net).
 */
export function buildScanDeps(opts: {
  env: NodeJS.ProcessEnv;
  log: Logger;
  tempDir: string;
  version: string;
  subscriptions: string[];
}): BuildScanDeps {
  const { env, log } = opts;
  const credential = lazyAzureCredential({ env, log });
  const graph = () => resourceGraphClient(credential, { endpoint: env.PLATFORM_ARM_ENDPOINT });
  return {
    client: new RegistryClient({ log, credentials: acrCredentials(credential) }),
    exec: spawnExec,
    log,
    tempDir: opts.tempDir,
    env,
    today: new Date(),
    version: opts.version,
    graph,
    acr: {
      lookup: acrLookup(graph, opts.subscriptions),
      arm: { credential, armEndpoint: env.PLATFORM_ARM_ENDPOINT },
    },
  };
}

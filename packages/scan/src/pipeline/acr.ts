import { PlatformError } from "@platform/core";
import { type AcrArmTarget, isAcrHost } from "@platform/oci";
import type { ResourceGraphQuery } from "../defender.ts";

/** An Azure Container Registry as ARM knows it. */
export interface AcrRegistry {
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** ACR → ACR promotion: which registries are ACRs (and where in ARM), and how to call ARM. */
export interface AcrPromotion {
  /** The registry behind a login server, or undefined when it is not an ACR. */
  lookup(registry: string): Promise<AcrRegistry | undefined>;
  arm: Omit<AcrArmTarget, "subscriptionId" | "resourceGroup" | "registryName">;
}

const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i;

/**
 * Finds ACRs by login server through Resource Graph (the Reader role is enough), once per host. The host
 * is validated before it is placed in the query.
 */
export function acrLookup(
  graph: () => ResourceGraphQuery,
  subscriptions: string[],
  isAcr: (host: string) => boolean = isAcrHost,
): AcrPromotion["lookup"] {
  const cache = new Map<string, Promise<AcrRegistry | undefined>>();
  const find = async (host: string): Promise<AcrRegistry | undefined> => {
    if (!isAcr(host)) return undefined;
    if (!HOST.test(host))
      throw new PlatformError("OCI_REFERENCE_INVALID", `"${host}" is not a registry host`);
    if (subscriptions.length === 0)
      throw new PlatformError(
        "SCAN_SUBSCRIPTION_MISSING",
        `promotion to or from ACR ${host} needs its subscription`,
        {
          input: "subscription",
          hint: "Set the subscription input (or AZURE_SUBSCRIPTION_ID) to the registries' subscription ID(s).",
        },
      );
    const page = await graph().resources({
      query: [
        "resources",
        '| where type =~ "microsoft.containerregistry/registries"',
        `| where tolower(tostring(properties.loginServer)) == "${host.toLowerCase()}"`,
        "| project id, name, resourceGroup, subscriptionId",
      ].join("\n"),
      subscriptions,
    });
    const row = (Array.isArray(page.data) ? page.data[0] : undefined) as Partial<AcrRegistry> & {
      id?: string;
    };
    if (!row?.id || !row.name || !row.resourceGroup || !row.subscriptionId)
      throw new PlatformError(
        "SCAN_ACR_NOT_FOUND",
        `no container registry with login server ${host} in ${subscriptions.join(", ")}`,
        {
          category: "environment",
          input: "subscription",
          hint: "Check the subscription input and that the identity has Reader on the registry.",
        },
      );
    return {
      resourceId: row.id,
      name: row.name,
      resourceGroup: row.resourceGroup,
      subscriptionId: row.subscriptionId,
    };
  };
  return (host) => {
    const key = host.toLowerCase();
    let hit = cache.get(key);
    if (!hit) {
      hit = find(key);
      cache.set(key, hit);
    }
    return hit;
  };
}

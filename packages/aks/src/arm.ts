import {
  type AgentPool,
  ContainerServiceClient,
  type KubernetesVersion,
  type MaintenanceConfiguration,
  type ManagedCluster,
} from "@azure/arm-containerservice";
import { ContainerServiceFleetClient } from "@azure/arm-containerservicefleet";
import type { TokenCredential } from "@azure/core-auth";
import { errorMessage, type Logger, PlatformError } from "@platform/core";
import type { ClusterSnapshot, MaintenanceConfig, PoolSnapshot, RegionVersion } from "./types.ts";

export const PUBLIC_ARM_ENDPOINT = "https://management.azure.com";

export interface ArmOptions {
  /** ARM endpoint, e.g. https://management.usgovcloudapi.net; the public cloud by default. */
  armEndpoint?: string;
  log?: Logger;
  /** Extra trusted CA (PEM) for the ARM endpoint: a TLS-inspecting proxy, Azure Stack, a local fake. */
  ca?: string;
  /** Counts every HTTP request the SDK sends (for the benchmark and tests). */
  onRequest?: (method: string, url: string) => void;
}

export interface AksClients {
  aks: ContainerServiceClient;
  fleet: ContainerServiceFleetClient;
  subscription: string;
}

function endpointOf(armEndpoint: string | undefined): string {
  const endpoint = (armEndpoint ?? PUBLIC_ARM_ENDPOINT).replace(/\/+$/, "");
  if (!URL.canParse(endpoint)) {
    throw new PlatformError("AKS_ARM_ENDPOINT_INVALID", `arm-endpoint "${endpoint}" is not a URL`, {
      input: "arm-endpoint",
      hint: "Use the cloud's Resource Manager URL, e.g. https://management.azure.com.",
    });
  }
  return endpoint;
}

/** SDK clients for AKS and Fleet against one ARM endpoint; the token scope follows the endpoint (sovereign clouds). */
export function createAksClients(
  credential: TokenCredential,
  subscription: string,
  o: ArmOptions = {},
): AksClients {
  const endpoint = endpointOf(o.armEndpoint);
  const common = {
    endpoint,
    credentials: { scopes: [`${endpoint}/.default`] },
    ...(o.ca ? { tlsOptions: { ca: o.ca } } : {}),
    retryOptions: { maxRetries: 4, retryDelayInMs: 200, maxRetryDelayInMs: 5_000 },
  };
  const aks = new ContainerServiceClient(credential, subscription, common);
  const fleet = new ContainerServiceFleetClient(credential, subscription, common);
  if (o.onRequest) {
    for (const c of [aks, fleet]) {
      c.pipeline.addPolicy({
        name: "platformRequestCounter",
        sendRequest: (req, next) => {
          o.onRequest?.(req.method, req.url);
          return next(req);
        },
      });
    }
  }
  return { aks, fleet, subscription };
}

/** Parses a managed cluster resource ID or a bare name (with resource group). */
export function clusterRef(
  cluster: string,
  resourceGroup: string | undefined,
  subscription: string | undefined,
): { subscription: string; resourceGroup: string; name: string } {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerService\/managedClusters\/([^/]+)$/i.exec(
      cluster,
    );
  if (m) return { subscription: m[1]!, resourceGroup: m[2]!, name: m[3]! };
  if (!subscription || !resourceGroup) {
    throw new PlatformError("AKS_CLUSTER_REF", `cluster "${cluster}" needs subscription and resource-group`, {
      input: subscription ? "resource-group" : "subscription",
      hint: "Give subscription and resource-group, or the cluster's full resource ID.",
    });
  }
  return { subscription, resourceGroup, name: cluster };
}

/** ARM's error code and message from an SDK failure (the response body's error, else the error itself). */
export function armErrorCode(err: unknown): { code: string; message: string } {
  const body = (err as { details?: { error?: { code?: string; message?: string } } }).details?.error;
  return {
    code: body?.code ?? (err as { code?: string }).code ?? "Unknown",
    message: body?.message ?? errorMessage(err),
  };
}

/** Turns an SDK failure into a PlatformError with ARM's code and message, and a fix for the common ones. */
export function armError(err: unknown, what: string): PlatformError {
  if (err instanceof PlatformError) return err;
  const { code, message } = armErrorCode(err);
  const status = (err as { statusCode?: number }).statusCode;
  const hint =
    status === 404 || code === "ResourceNotFound" || code === "ResourceGroupNotFound"
      ? "Check subscription, resource-group and cluster (the identity also needs Reader on the cluster to see it)."
      : status === 401 || status === 403 || code === "AuthorizationFailed"
        ? "Grant the workflow's identity Azure Kubernetes Service Contributor on the cluster (or fleet)."
        : status === 409 || code === "OperationNotAllowed"
          ? "Another operation is running on the resource; wait for it to finish and re-run."
          : status === 412
            ? "The resource changed since it was read; plan again."
            : "See the ARM error above; re-run after fixing it.";
  return new PlatformError(
    `AKS_ARM_${code}`,
    `${what}: ${code}${status ? ` (HTTP ${status})` : ""}: ${message}`,
    {
      category:
        status && status >= 400 && status < 500 && status !== 409 && status !== 429 ? "usage" : "environment",
      hint,
      cause: err,
    },
  );
}

function poolSnapshot(p: AgentPool, latestNodeImageVersion: string | undefined): PoolSnapshot {
  return {
    name: p.name ?? "",
    etag: p.eTag,
    mode: p.mode,
    osType: p.osType,
    orchestratorVersion: p.currentOrchestratorVersion ?? p.orchestratorVersion ?? "",
    nodeImageVersion: p.nodeImageVersion,
    latestNodeImageVersion,
    count: p.count ?? 0,
    maxSurge: p.upgradeSettings?.maxSurge,
    maxUnavailable: p.upgradeSettings?.maxUnavailable,
    drainTimeoutInMinutes: p.upgradeSettings?.drainTimeoutInMinutes,
    provisioningState: p.provisioningState,
    powerState: p.powerState?.code,
  };
}

function regionVersions(values: KubernetesVersion[]): RegionVersion[] {
  return values.map((v) => ({
    minor: v.version ?? "",
    isPreview: v.isPreview,
    isDefault: v.isDefault,
    supportPlan: v.capabilities?.supportPlan,
    patches: Object.keys(v.patchVersions ?? {}),
  }));
}

export function maintenanceConfig(m: MaintenanceConfiguration): MaintenanceConfig {
  const w = m.maintenanceWindow;
  if (!w) return { name: m.name ?? "" };
  const s = w.schedule ?? {};
  return {
    name: m.name ?? "",
    window: {
      schedule: {
        ...(s.daily ? { daily: { intervalDays: s.daily.intervalDays } } : {}),
        ...(s.weekly
          ? { weekly: { intervalWeeks: s.weekly.intervalWeeks, dayOfWeek: s.weekly.dayOfWeek } }
          : {}),
        ...(s.absoluteMonthly
          ? {
              absoluteMonthly: {
                intervalMonths: s.absoluteMonthly.intervalMonths,
                dayOfMonth: s.absoluteMonthly.dayOfMonth,
              },
            }
          : {}),
        ...(s.relativeMonthly
          ? {
              relativeMonthly: {
                intervalMonths: s.relativeMonthly.intervalMonths,
                weekIndex: s.relativeMonthly.weekIndex,
                dayOfWeek: s.relativeMonthly.dayOfWeek,
              },
            }
          : {}),
      },
      durationHours: w.durationHours,
      startTime: w.startTime,
      utcOffset: w.utcOffset,
      startDate: w.startDate ? toDate(w.startDate) : undefined,
      notAllowedDates: w.notAllowedDates?.map((d) => ({ start: toDate(d.start), end: toDate(d.end) })),
    },
  };
}

function toDate(d: Date | string): string {
  return typeof d === "string" ? d.slice(0, 10) : d.toISOString().slice(0, 10);
}

/** Every item of an SDK list (all pages). */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Reads the cluster, its pools and their upgrade profiles, the region's versions and the maintenance configurations. */
export async function readCluster(
  clients: AksClients,
  ref: { resourceGroup: string; name: string },
): Promise<ClusterSnapshot> {
  const { aks } = clients;
  let mc: ManagedCluster;
  try {
    mc = await aks.managedClusters.get(ref.resourceGroup, ref.name);
  } catch (err) {
    const e = armError(err, `reading cluster ${ref.resourceGroup}/${ref.name}`);
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw new PlatformError(
        "AKS_CLUSTER_NOT_FOUND",
        `Cluster ${ref.name} was not found in resource group ${ref.resourceGroup} (subscription ${clients.subscription})`,
        {
          input: "cluster",
          hint: e.hint,
          cause: err,
        },
      );
    }
    throw e;
  }
  try {
    const [profile, pools, versions, maintenance] = await Promise.all([
      aks.managedClusters.getUpgradeProfile(ref.resourceGroup, ref.name),
      all(aks.agentPools.list(ref.resourceGroup, ref.name)),
      aks.managedClusters.listKubernetesVersions(mc.location),
      all(aks.maintenanceConfigurations.listByManagedCluster(ref.resourceGroup, ref.name)),
    ]);
    const poolProfiles = await Promise.all(
      pools.map((p) => aks.agentPools.getUpgradeProfile(ref.resourceGroup, ref.name, p.name ?? "")),
    );
    return {
      id: mc.id ?? "",
      subscription: clients.subscription,
      resourceGroup: ref.resourceGroup,
      name: mc.name ?? ref.name,
      location: mc.location,
      etag: mc.eTag,
      kubernetesVersion: mc.currentKubernetesVersion ?? mc.kubernetesVersion ?? "",
      provisioningState: mc.provisioningState,
      powerState: mc.powerState?.code,
      upgradeChannel: mc.autoUpgradeProfile?.upgradeChannel,
      nodeOSUpgradeChannel: mc.autoUpgradeProfile?.nodeOSUpgradeChannel,
      pools: pools.map((p, i) => poolSnapshot(p, poolProfiles[i]?.latestNodeImageVersion)),
      upgrades: (profile.controlPlaneProfile.upgrades ?? []).map((u) => ({
        kubernetesVersion: u.kubernetesVersion ?? "",
        isPreview: u.isPreview,
      })),
      versions: regionVersions(versions.values ?? []),
      maintenance: maintenance.map(maintenanceConfig),
    };
  } catch (err) {
    throw armError(err, `reading ${ref.name}'s pools, upgrade profile and versions`);
  }
}

// A stateful AKS (and Fleet) fake on top of the generic ARM fake (test/fakes/arm): managed clusters, agent
// pools, upgrade profiles, maintenance configurations and the region's Kubernetes versions, seeded from the
// same cluster descriptions the demo uses; Fleet members, update strategies and update runs. Every request and
// answer is checked against the azure-rest-api-specs extracts in test/fixtures/specs/containerservice.
// Upgrades are long-running operations with provisioningState transitions; a PUT while one runs gets 409
// OperationNotAllowed, a stale If-Match 412, and the real error payloads (UpgradeBlockedOnDeprecatedAPIUsage)
// can be switched on per cluster.
import { randomUUID } from "node:crypto";
import type { ClusterSnapshot, PoolSnapshot, RegionVersion } from "@platform/aks";
import { type ArmContext, type ArmFake, type ArmReply, type ArmRequest, startArmFake } from "./arm/index.ts";

export const AKS_SPEC =
  "containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-06-01/managedClusters.json";

export const FLEET_SPEC =
  "containerservice/resource-manager/Microsoft.ContainerService/fleet/stable/2025-03-01/fleets.json";

type FakeStages = Array<{ name: string; groups?: Array<{ name: string }>; afterStageWaitInSeconds?: number }>;

export interface FakeFleet {
  resourceGroup: string;
  name: string;
  members: Array<{ name: string; clusterId: string; group?: string }>;
  /** The fleet's FleetUpdateStrategy resources (tests may change or remove them between calls). */
  strategies?: Array<{ name: string; stages: FakeStages }>;
}

interface FakeRun {
  fleet: FakeFleet;
  name: string;
  etag: string;
  body: {
    properties: {
      strategy?: { stages: FakeStages };
      updateStrategyId?: string;
      managedClusterUpdate: {
        upgrade: { type: string; kubernetesVersion?: string };
        nodeImageSelection?: { type: string };
      };
    };
  };
  state: "NotStarted" | "Running" | "Completed" | "Failed";
  /** Stages finished so far; each GET of a running run finishes one more. */
  done: number;
  stages: Array<Record<string, unknown>>;
  error?: { code: string; message: string };
}

export interface FakePool extends PoolSnapshot {
  vmSize: string;
}

export interface FakeCluster {
  seed: ClusterSnapshot;
  etag: string;
  kubernetesVersion: string;
  provisioningState: string;
  pools: Map<string, FakePool>;
  /** APIs AKS saw in use in the last 12 hours, which block a minor upgrade to/after the version they are removed in. */
  deprecatedApiUsage?: Array<{ api: string; removedIn: string }>;
  /** If-Match of every PUT to the cluster or its pools, with the ETag the resource had then. */
  ifMatch: Array<{ sent?: string; current: string }>;
  /** The override last sent with a control-plane PUT. */
  override?: { forceUpgrade?: boolean; until?: string };
}

export interface AksFakeOptions {
  clusters: ClusterSnapshot[];
  /** [min, max] ms per request (benchmarks). */
  latencyMs?: number | [number, number];
  /** Status polls each upgrade answers InProgress (default 1). */
  polls?: number;
  /** Retry-After seconds on long-running operations (default 0). */
  retryAfter?: number;
  fleets?: FakeFleet[];
  /** Plain HTTP (in-process tests: the SDK sends bearer tokens over HTTP only to loopback). */
  http?: boolean;
}

export interface AksFake {
  arm: ArmFake;
  url: string;
  caFile: string;
  clusters: Map<string, FakeCluster>;
  cluster(resourceGroup: string, name: string): FakeCluster;
  /** The next operation of this kind ends Failed with this error (as ARM reports it). */
  failNextOperation(
    kind: "control-plane" | "pool" | "node-image",
    error: { code: string; message: string },
  ): void;
  /** Update runs by fleet/name, with their stage states. */
  runs: Map<string, FakeRun>;
  /** Members (by name) whose upgrade in an update run fails with this error. */
  failMembers: Map<string, { code: string; message: string }>;
  /** Status polls for the operations started from now on. */
  setPolls(polls: number, retryAfter?: number): void;
  close(): Promise<void>;
}

const SETTLED = new Set(["Succeeded", "Failed", "Canceled"]);
const newEtag = () => `"${randomUUID()}"`;
const key = (rg: string, name: string) => `${rg.toLowerCase()}/${name.toLowerCase()}`;

function cmp(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  return (x[0]! - y[0]!) * 1e6 + (x[1]! - y[1]!) * 1e3 + ((x[2] ?? 0) - (y[2] ?? 0));
}
const minor = (v: string) => v.split(".").slice(0, 2).join(".");

/** Starts the fake with the given clusters (cluster descriptions, as examples/northwind/cluster). */
export async function startAksFake(o: AksFakeOptions): Promise<AksFake> {
  const clusters = new Map<string, FakeCluster>();
  const versionsByLocation = new Map<string, RegionVersion[]>();
  for (const c of o.clusters) {
    clusters.set(key(c.resourceGroup, c.name), {
      seed: c,
      etag: c.etag ?? newEtag(),
      kubernetesVersion: c.kubernetesVersion,
      provisioningState: c.provisioningState ?? "Succeeded",
      ifMatch: [],
      pools: new Map(
        c.pools.map((p) => [p.name, { vmSize: "Standard_D4ds_v5", ...p, etag: p.etag ?? newEtag() }]),
      ),
    });
    versionsByLocation.set(c.location.toLowerCase(), c.versions);
  }
  const failures: Array<{ kind: string; error: { code: string; message: string } }> = [];
  let polls = o.polls ?? 1;
  let retryAfter = o.retryAfter ?? 0;

  const find = (req: ArmRequest, ctx: ArmContext): FakeCluster | ArmReply => {
    const c = clusters.get(key(req.params.resourceGroupName!, req.params.resourceName!));
    return (
      c ??
      ctx.error(
        404,
        "ResourceNotFound",
        `The Resource 'Microsoft.ContainerService/managedClusters/${req.params.resourceName}' under resource group '${req.params.resourceGroupName}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      )
    );
  };
  const isReply = (x: FakeCluster | ArmReply): x is ArmReply => "status" in x;

  const clusterId = (c: FakeCluster) =>
    `/subscriptions/${c.seed.subscription}/resourcegroups/${c.seed.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.seed.name}`;

  const poolProps = (p: FakePool) => ({
    count: p.count,
    vmSize: p.vmSize,
    type: "VirtualMachineScaleSets",
    mode: p.mode ?? "User",
    osType: p.osType ?? "Linux",
    orchestratorVersion: p.orchestratorVersion,
    currentOrchestratorVersion: p.orchestratorVersion,
    nodeImageVersion: p.nodeImageVersion,
    ...(p.maxSurge || p.drainTimeoutInMinutes || p.maxUnavailable
      ? {
          upgradeSettings: {
            ...(p.maxSurge ? { maxSurge: p.maxSurge } : {}),
            ...(p.maxUnavailable ? { maxUnavailable: p.maxUnavailable } : {}),
            ...(p.drainTimeoutInMinutes ? { drainTimeoutInMinutes: p.drainTimeoutInMinutes } : {}),
          },
        }
      : {}),
    provisioningState: p.provisioningState ?? "Succeeded",
    powerState: { code: p.powerState ?? "Running" },
  });
  const poolJson = (c: FakeCluster, p: FakePool) => ({
    id: `${clusterId(c)}/agentPools/${p.name}`,
    name: p.name,
    type: "Microsoft.ContainerService/managedClusters/agentPools",
    properties: { eTag: p.etag, ...poolProps(p) },
  });
  const clusterJson = (c: FakeCluster) => ({
    id: clusterId(c),
    name: c.seed.name,
    type: "Microsoft.ContainerService/ManagedClusters",
    location: c.seed.location,
    eTag: c.etag,
    sku: { name: "Base", tier: "Standard" },
    properties: {
      provisioningState: c.provisioningState,
      powerState: { code: c.seed.powerState ?? "Running" },
      kubernetesVersion: c.kubernetesVersion,
      currentKubernetesVersion: c.kubernetesVersion,
      dnsPrefix: c.seed.name,
      fqdn: `${c.seed.name}-dns.hcp.${c.seed.location}.azmk8s.io`,
      agentPoolProfiles: [...c.pools.values()].map((p) => ({ name: p.name, ...poolProps(p) })),
      autoUpgradeProfile: {
        upgradeChannel: c.seed.upgradeChannel ?? "none",
        nodeOSUpgradeChannel: c.seed.nodeOSUpgradeChannel ?? "NodeImage",
      },
      nodeResourceGroup: `MC_${c.seed.resourceGroup}_${c.seed.name}_${c.seed.location}`,
      enableRBAC: true,
      supportPlan: "KubernetesOfficial",
      ...(c.override ? { upgradeSettings: { overrideSettings: c.override } } : {}),
    },
  });
  /** Versions AKS offers from `current`: newer patches of its minor and every patch of the next minor. */
  const upgradesFrom = (c: FakeCluster, current: string) => {
    const versions = versionsByLocation.get(c.seed.location.toLowerCase()) ?? [];
    const [maj, min] = current.split(".").map(Number);
    return versions
      .filter((v) => v.minor === `${maj}.${min}` || v.minor === `${maj}.${(min ?? 0) + 1}`)
      .flatMap((v) =>
        v.patches.map((p) => ({ kubernetesVersion: p, ...(v.isPreview ? { isPreview: true } : {}) })),
      )
      .filter((u) => cmp(u.kubernetesVersion, current) > 0)
      .sort((a, b) => cmp(a.kubernetesVersion, b.kubernetesVersion));
  };
  const busy = (c: FakeCluster, ctx: ArmContext): ArmReply | undefined =>
    !SETTLED.has(c.provisioningState) ||
    [...c.pools.values()].some((p) => !SETTLED.has(p.provisioningState ?? "Succeeded"))
      ? ctx.error(
          409,
          "OperationNotAllowed",
          `Operation is not allowed because there's an in progress operation on the managed cluster (provisioningState ${c.provisioningState}). Please wait for it to finish before starting a new operation.`,
        )
      : undefined;
  const takeFailure = (kind: string) => {
    const i = failures.findIndex((f) => f.kind === kind);
    return i >= 0 ? failures.splice(i, 1)[0]!.error : undefined;
  };
  const lro = (
    ctx: ArmContext,
    kind: string,
    body: unknown,
    status: number,
    done: (ok: boolean) => void,
    result?: () => unknown,
  ) => {
    const error = takeFailure(kind);
    return ctx.longRunning({
      polls,
      retryAfter,
      status,
      ...(body === undefined ? {} : { body }),
      outcome: error ? "Failed" : "Succeeded",
      ...(error ? { error } : {}),
      onDone: (outcome) => done(outcome === "Succeeded"),
      ...(result ? { result } : {}),
    });
  };

  const runs = new Map<string, FakeRun>();
  const failMembers = new Map<string, { code: string; message: string }>();
  const fleets = new Map((o.fleets ?? []).map((f) => [key(f.resourceGroup, f.name), f]));
  const findFleet = (req: ArmRequest, ctx: ArmContext): FakeFleet | ArmReply =>
    fleets.get(key(req.params.resourceGroupName!, req.params.fleetName!)) ??
    ctx.error(
      404,
      "ResourceNotFound",
      `The Resource 'Microsoft.ContainerService/fleets/${req.params.fleetName}' under resource group '${req.params.resourceGroupName}' was not found.`,
    );
  const findRun = (req: ArmRequest, ctx: ArmContext): FakeRun | ArmReply => {
    const f = findFleet(req, ctx);
    if ("status" in f) return f;
    return (
      runs.get(`${key(f.resourceGroup, f.name)}/${req.params.updateRunName}`) ??
      ctx.error(404, "ResourceNotFound", `Update run ${req.params.updateRunName} not found.`)
    );
  };
  const fleetId = (f: FakeFleet, sub: string) =>
    `/subscriptions/${sub}/resourceGroups/${f.resourceGroup}/providers/Microsoft.ContainerService/fleets/${f.name}`;
  const strategyNotFound = (ctx: ArmContext, f: FakeFleet, name: string) =>
    ctx.error(
      404,
      "ResourceNotFound",
      `The Resource 'Microsoft.ContainerService/fleets/${f.name}/updateStrategies/${name}' under resource group '${f.resourceGroup}' was not found.`,
    );
  const runJson = (r: FakeRun, sub: string) => ({
    id: `${fleetId(r.fleet, sub)}/updateRuns/${r.name}`,
    name: r.name,
    type: "Microsoft.ContainerService/fleets/updateRuns",
    eTag: r.etag,
    properties: {
      provisioningState: "Succeeded",
      ...r.body.properties,
      status: {
        status: { state: r.state, ...(r.error ? { error: r.error } : {}) },
        stages: structuredClone(r.stages),
      },
    },
  });
  const clusterById = (id: string) =>
    [...clusters.values()].find((c) => clusterId(c).toLowerCase() === id.toLowerCase());
  /** Upgrades one member as AKS would for the run's upgrade type; returns an error when it cannot. */
  const upgradeMember = (
    r: FakeRun,
    m: FakeFleet["members"][number],
  ): { code: string; message: string } | undefined => {
    const failure = failMembers.get(m.name);
    if (failure) return failure;
    const c = clusterById(m.clusterId);
    if (!c) return { code: "ResourceNotFound", message: `Cluster ${m.clusterId} not found.` };
    const { type, kubernetesVersion } = r.body.properties.managedClusterUpdate.upgrade;
    if (type !== "NodeImageOnly") {
      const target = kubernetesVersion!;
      if (
        target !== c.kubernetesVersion &&
        !upgradesFrom(c, c.kubernetesVersion).some((u) => u.kubernetesVersion === target)
      ) {
        return {
          code: "UpgradeFailed",
          message: `Kubernetes version ${target} is not an available upgrade for ${c.seed.name} (${c.kubernetesVersion}).`,
        };
      }
      c.kubernetesVersion = target;
      if (type === "Full") for (const p of c.pools.values()) p.orchestratorVersion = target;
    }
    if (type !== "ControlPlaneOnly")
      for (const p of c.pools.values()) p.nodeImageVersion = p.latestNodeImageVersion ?? p.nodeImageVersion;
    c.etag = newEtag();
    return undefined;
  };
  const stageStatus = (r: FakeRun, i: number, state: string) => {
    const stage = r.body.properties.strategy?.stages[i] ?? { name: "default", groups: [{ name: "default" }] };
    const groups = (stage.groups ?? []).map((g) => ({
      name: g.name,
      status: { state },
      members: r.fleet.members
        .filter((m) => (m.group ?? "default") === g.name || stage.name === "default")
        .map((m) => ({ name: m.name, clusterResourceId: m.clusterId, status: { state } })),
    }));
    return {
      name: stage.name,
      status: { state },
      groups,
      ...(stage.afterStageWaitInSeconds
        ? {
            afterStageWaitStatus: { status: { state }, waitDurationInSeconds: stage.afterStageWaitInSeconds },
          }
        : {}),
    };
  };
  /** Runs the next stage of a running update run: its members are upgraded, in parallel groups. */
  const advance = (r: FakeRun) => {
    const total = r.body.properties.strategy?.stages.length ?? 1;
    if (r.state !== "Running" || r.done >= total) return;
    const stage = r.stages[r.done] as {
      status: { state: string };
      groups: Array<{
        status: { state: string };
        members: Array<{ name: string; status: { state: string; error?: unknown }; message?: string }>;
      }>;
      afterStageWaitStatus?: { status: { state: string } };
    };
    let failed: { code: string; message: string } | undefined;
    for (const g of stage.groups) {
      for (const m of g.members) {
        const member = r.fleet.members.find((x) => x.name === m.name)!;
        const err = upgradeMember(r, member);
        m.status = err ? { state: "Failed", error: err } : { state: "Completed" };
        if (err) {
          m.message = err.message;
          failed ??= { code: err.code, message: `member ${m.name}: ${err.message}` };
        }
      }
      g.status = { state: g.members.some((m) => m.status.state === "Failed") ? "Failed" : "Completed" };
    }
    stage.status = { state: failed ? "Failed" : "Completed" };
    if (stage.afterStageWaitStatus)
      stage.afterStageWaitStatus.status = { state: failed ? "NotStarted" : "Completed" };
    r.done++;
    if (failed) {
      r.state = "Failed";
      r.error = failed;
    } else if (r.done >= total) r.state = "Completed";
    else (r.stages[r.done] as { status: { state: string } }).status = { state: "Running" };
  };

  const arm = await startArmFake({
    specs: [AKS_SPEC, FLEET_SPEC],
    latencyMs: o.latencyMs,
    http: o.http,
    routes: {
      ManagedClusters_Get(req, ctx) {
        const c = find(req, ctx);
        return isReply(c) ? c : { status: 200, body: clusterJson(c) };
      },
      ManagedClusters_CreateOrUpdate(req, ctx) {
        const c = find(req, ctx);
        if (isReply(c)) return c;
        c.ifMatch.push({ sent: header(req, "if-match"), current: c.etag });
        const pre = ctx.ifMatch(req, c.etag) ?? busy(c, ctx);
        if (pre) return pre;
        const props =
          (
            req.body as {
              properties?: {
                kubernetesVersion?: string;
                upgradeSettings?: { overrideSettings?: FakeCluster["override"] };
              };
            }
          ).properties ?? {};
        const target = props.kubernetesVersion ?? c.kubernetesVersion;
        c.override = props.upgradeSettings?.overrideSettings;
        if (target !== c.kubernetesVersion) {
          if (!upgradesFrom(c, c.kubernetesVersion).some((u) => u.kubernetesVersion === target)) {
            return ctx.error(
              400,
              "NotAllowedUpgrade",
              `Upgrading Kubernetes version ${c.kubernetesVersion} to ${target} is not allowed. Available upgrades: ${upgradesFrom(
                c,
                c.kubernetesVersion,
              )
                .map((u) => u.kubernetesVersion)
                .join(", ")}`,
            );
          }
          const forced =
            c.override?.forceUpgrade && c.override.until && Date.parse(c.override.until) > Date.now();
          const blocking = (c.deprecatedApiUsage ?? []).filter((a) => cmp(a.removedIn, minor(target)) <= 0);
          if (blocking.length && !forced && minor(target) !== minor(c.kubernetesVersion)) {
            return ctx.error(
              400,
              "UpgradeBlockedOnDeprecatedAPIUsage",
              `Upgrade is blocked due to use of deprecated APIs: ${blocking.map((a) => a.api).join(", ")} were used in the last 12 hours and are removed in Kubernetes ${minor(target)}. Please migrate them, or set upgradeSettings.overrideSettings.forceUpgrade=true with an until time to bypass this check. See https://aka.ms/aks/upgrade/deprecated-apis-usage`,
            );
          }
          c.provisioningState = "Upgrading";
          c.etag = newEtag();
          return lro(ctx, "control-plane", clusterJson(c), 200, (ok) => {
            if (ok) c.kubernetesVersion = target;
            c.provisioningState = ok ? "Succeeded" : "Failed";
            c.etag = newEtag();
          });
        }
        c.provisioningState = "Updating";
        c.etag = newEtag();
        return lro(ctx, "control-plane", clusterJson(c), 200, (ok) => {
          c.provisioningState = ok ? "Succeeded" : "Failed";
          c.etag = newEtag();
        });
      },
      ManagedClusters_GetUpgradeProfile(req, ctx) {
        const c = find(req, ctx);
        if (isReply(c)) return c;
        return {
          status: 200,
          body: {
            id: `${clusterId(c)}/upgradeprofiles/default`,
            name: "default",
            type: "Microsoft.ContainerService/managedClusters/upgradeprofiles",
            properties: {
              controlPlaneProfile: {
                kubernetesVersion: c.kubernetesVersion,
                osType: "Linux",
                upgrades: upgradesFrom(c, c.kubernetesVersion),
              },
              agentPoolProfiles: [...c.pools.values()].map((p) => ({
                name: p.name,
                kubernetesVersion: p.orchestratorVersion,
                osType: p.osType ?? "Linux",
                upgrades: upgradesFrom(c, p.orchestratorVersion).filter(
                  (u) => cmp(u.kubernetesVersion, c.kubernetesVersion) <= 0,
                ),
              })),
            },
          },
        };
      },
      ManagedClusters_ListKubernetesVersions(req, ctx) {
        const versions = versionsByLocation.get((req.params.location ?? "").toLowerCase());
        if (!versions)
          return ctx.error(
            404,
            "LocationNotAvailableForResourceType",
            `The provided location '${req.params.location}' is not available for resource type 'Microsoft.ContainerService/locations'.`,
          );
        return {
          status: 200,
          body: {
            values: versions.map((v) => ({
              version: v.minor,
              ...(v.isDefault ? { isDefault: true } : {}),
              ...(v.isPreview ? { isPreview: true } : {}),
              capabilities: { supportPlan: v.supportPlan ?? ["KubernetesOfficial"] },
              patchVersions: Object.fromEntries(
                v.patches.map((p) => [
                  p,
                  {
                    upgrades: versions
                      .flatMap((w) => w.patches)
                      .filter((q) => cmp(q, p) > 0 && cmp(minor(q), minor(p)) <= 1),
                  },
                ]),
              ),
            })),
          },
        };
      },
      AgentPools_List(req, ctx) {
        const c = find(req, ctx);
        return isReply(c)
          ? c
          : { status: 200, body: { value: [...c.pools.values()].map((p) => poolJson(c, p)) } };
      },
      AgentPools_Get(req, ctx) {
        const c = find(req, ctx);
        if (isReply(c)) return c;
        const p = c.pools.get(req.params.agentPoolName!);
        return p
          ? { status: 200, body: poolJson(c, p) }
          : ctx.error(404, "NotFound", `Agent pool ${req.params.agentPoolName} not found.`);
      },
      AgentPools_CreateOrUpdate(req, ctx) {
        const c = find(req, ctx);
        if (isReply(c)) return c;
        const p = c.pools.get(req.params.agentPoolName!);
        if (!p) return ctx.error(404, "NotFound", `Agent pool ${req.params.agentPoolName} not found.`);
        c.ifMatch.push({ sent: header(req, "if-match"), current: p.etag! });
        const pre = ctx.ifMatch(req, p.etag) ?? busy(c, ctx);
        if (pre) return pre;
        const target =
          (req.body as { properties?: { orchestratorVersion?: string } }).properties?.orchestratorVersion ??
          p.orchestratorVersion;
        if (cmp(target, c.kubernetesVersion) > 0) {
          return ctx.error(
            400,
            "NodePoolMcVersionIncompatible",
            `Node pool version ${target} and control plane version ${c.kubernetesVersion} are incompatible. Node pool version cannot be greater than control plane version.`,
          );
        }
        p.provisioningState = "Upgrading";
        p.etag = newEtag();
        return lro(ctx, "pool", poolJson(c, p), 200, (ok) => {
          if (ok) {
            p.orchestratorVersion = target;
            p.nodeImageVersion = p.latestNodeImageVersion ?? p.nodeImageVersion;
          }
          p.provisioningState = ok ? "Succeeded" : "Failed";
          p.etag = newEtag();
          c.etag = newEtag();
        });
      },
      AgentPools_UpgradeNodeImageVersion(req, ctx) {
        const c = find(req, ctx);
        if (isReply(c)) return c;
        const p = c.pools.get(req.params.agentPoolName!);
        if (!p) return ctx.error(404, "NotFound", `Agent pool ${req.params.agentPoolName} not found.`);
        const pre = busy(c, ctx);
        if (pre) return pre;
        p.provisioningState = "UpgradingNodeImageVersion";
        p.etag = newEtag();
        return lro(
          ctx,
          "node-image",
          undefined,
          202,
          (ok) => {
            if (ok) p.nodeImageVersion = p.latestNodeImageVersion ?? p.nodeImageVersion;
            p.provisioningState = ok ? "Succeeded" : "Failed";
            p.etag = newEtag();
            c.etag = newEtag();
          },
          () => poolJson(c, p),
        );
      },
      AgentPools_GetUpgradeProfile(req, ctx) {
        const c = find(req, ctx);
        if (isReply(c)) return c;
        const p = c.pools.get(req.params.agentPoolName!);
        if (!p) return ctx.error(404, "NotFound", `Agent pool ${req.params.agentPoolName} not found.`);
        return {
          status: 200,
          body: {
            id: `${clusterId(c)}/agentPools/${p.name}/upgradeProfiles/default`,
            name: "default",
            type: "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles",
            properties: {
              kubernetesVersion: p.orchestratorVersion,
              osType: p.osType ?? "Linux",
              upgrades: upgradesFrom(c, p.orchestratorVersion).filter(
                (u) => cmp(u.kubernetesVersion, c.kubernetesVersion) <= 0,
              ),
              ...(p.latestNodeImageVersion ? { latestNodeImageVersion: p.latestNodeImageVersion } : {}),
            },
          },
        };
      },
      MaintenanceConfigurations_ListByManagedCluster(req, ctx) {
        const c = find(req, ctx);
        return isReply(c)
          ? c
          : { status: 200, body: { value: c.seed.maintenance.map((m) => maintenanceJson(clusterId(c), m)) } };
      },
      FleetMembers_ListByFleet(req, ctx) {
        const f = findFleet(req, ctx);
        if ("status" in f) return f;
        return {
          status: 200,
          body: {
            value: f.members.map((m) => ({
              id: `${fleetId(f, req.params.subscriptionId!)}/members/${m.name}`,
              name: m.name,
              type: "Microsoft.ContainerService/fleets/members",
              properties: {
                clusterResourceId: m.clusterId,
                ...(m.group ? { group: m.group } : {}),
                provisioningState: "Succeeded",
              },
            })),
          },
        };
      },
      FleetUpdateStrategies_Get(req, ctx) {
        const f = findFleet(req, ctx);
        if ("status" in f) return f;
        const name = req.params.updateStrategyName!;
        const s = f.strategies?.find((x) => x.name === name);
        if (!s) return strategyNotFound(ctx, f, name);
        return {
          status: 200,
          body: {
            id: `${fleetId(f, req.params.subscriptionId!)}/updateStrategies/${s.name}`,
            name: s.name,
            type: "Microsoft.ContainerService/fleets/updateStrategies",
            eTag: newEtag(),
            properties: { provisioningState: "Succeeded", strategy: { stages: structuredClone(s.stages) } },
          },
        };
      },
      UpdateRuns_CreateOrUpdate(req, ctx) {
        const f = findFleet(req, ctx);
        if ("status" in f) return f;
        const body = structuredClone(req.body) as FakeRun["body"];
        // Fleet's rules for a run's strategy (UpdateRunProperties.updateStrategyId): inline stages or a strategy
        // of this fleet, not both; a run made from a strategy stores a snapshot of its stages in `strategy`. The
        // error codes for the two refusals are the fake's (the spec gives only ErrorResponse's shape).
        const strategyId = body.properties.updateStrategyId;
        if (strategyId) {
          if (body.properties.strategy)
            return ctx.error(400, "InvalidRequest", "Setting both updateStrategyId and strategy is invalid.");
          const prefix = `${fleetId(f, req.params.subscriptionId!)}/updateStrategies/`.toLowerCase();
          const name = strategyId.toLowerCase().startsWith(prefix) ? strategyId.slice(prefix.length) : "";
          const s = f.strategies?.find((x) => x.name === name);
          if (!s) return strategyNotFound(ctx, f, strategyId.split("/").at(-1) ?? strategyId);
          body.properties.strategy = { stages: structuredClone(s.stages) };
        }
        const groups = new Set(f.members.map((m) => m.group ?? "default"));
        const unknown = (body.properties.strategy?.stages ?? [])
          .flatMap((st) => st.groups ?? [])
          .filter((g) => !groups.has(g.name));
        if (unknown.length) {
          return ctx.error(
            400,
            "InvalidRequest",
            `Update group(s) ${unknown.map((g) => g.name).join(", ")} not found in fleet ${f.name}; the fleet's groups are ${[...groups].join(", ")}.`,
          );
        }
        const r: FakeRun = {
          fleet: f,
          name: req.params.updateRunName!,
          etag: newEtag(),
          body,
          state: "NotStarted",
          done: 0,
          stages: [],
        };
        r.stages = (body.properties.strategy?.stages ?? [{ name: "default" }]).map((_, i) =>
          stageStatus(r, i, "NotStarted"),
        );
        runs.set(`${key(f.resourceGroup, f.name)}/${r.name}`, r);
        return ctx.longRunning({
          polls,
          retryAfter,
          status: 201,
          body: runJson(r, req.params.subscriptionId!),
        });
      },
      UpdateRuns_Get(req, ctx) {
        const r = findRun(req, ctx);
        if ("status" in r) return r;
        const body = runJson(r, req.params.subscriptionId!);
        advance(r);
        return { status: 200, body };
      },
      UpdateRuns_Start(req, ctx) {
        const r = findRun(req, ctx);
        if ("status" in r) return r;
        if (r.state !== "NotStarted")
          return ctx.error(
            409,
            "Conflict",
            `Update run ${r.name} is ${r.state}; only a NotStarted run can be started.`,
          );
        r.state = "Running";
        (r.stages[0] as { status: { state: string } }).status = { state: "Running" };
        return ctx.longRunning({
          polls,
          retryAfter,
          status: 202,
          result: () => runJson(r, req.params.subscriptionId!),
        });
      },
      MaintenanceConfigurations_Get(req, ctx) {
        const c = find(req, ctx);
        if (isReply(c)) return c;
        const m = c.seed.maintenance.find((x) => x.name === req.params.configName);
        return m
          ? { status: 200, body: maintenanceJson(clusterId(c), m) }
          : ctx.error(404, "NotFound", `Maintenance configuration ${req.params.configName} not found.`);
      },
    },
  });

  return {
    arm,
    url: arm.url,
    caFile: arm.caFile,
    clusters,
    runs,
    failMembers,
    cluster(rg, name) {
      const c = clusters.get(key(rg, name));
      if (!c) throw new Error(`no fake cluster ${rg}/${name}`);
      return c;
    },
    failNextOperation(kind, error) {
      failures.push({ kind, error });
    },
    setPolls(n, r) {
      polls = n;
      if (r !== undefined) retryAfter = r;
    },
    close: () => arm.close(),
  };
}

function header(req: ArmRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function maintenanceJson(clusterId: string, m: ClusterSnapshot["maintenance"][number]) {
  return {
    id: `${clusterId}/maintenanceConfigurations/${m.name}`,
    name: m.name,
    type: "Microsoft.ContainerService/managedClusters/maintenanceConfigurations",
    properties: m.window
      ? {
          maintenanceWindow: {
            schedule: m.window.schedule,
            durationHours: m.window.durationHours,
            startTime: m.window.startTime,
            utcOffset: m.window.utcOffset ?? "+00:00",
            ...(m.window.startDate ? { startDate: m.window.startDate } : {}),
            ...(m.window.notAllowedDates ? { notAllowedDates: m.window.notAllowedDates } : {}),
          },
        }
      : {},
  };
}

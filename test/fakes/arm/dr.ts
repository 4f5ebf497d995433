// The resources a DR drill touches, as a stateful fake on the generic ARM fake (./index.ts): Front Door
// origins (Microsoft.Cdn afdx), Flux configurations on AKS (Microsoft.KubernetesConfiguration) and an ACR
// replication. Every request and answer is checked against the spec extracts in test/fixtures/specs (cdn,
// kubernetesconfiguration, containerregistry replications.json). Writes are long-running operations in ARM's
// async pattern; a write while one runs on the same resource is 409 Conflict, as ARM answers it. A resumed
// Flux configuration reconciles after a chosen number of reads, or never (its Kustomization stays failed).
import type { ArmContext, ArmFake, ArmReply, ArmRequest, LongRunningOptions } from "./index.ts";
import { startArmFake } from "./index.ts";

export const DR_SPECS = [
  "cdn/resource-manager/Microsoft.Cdn/Cdn/stable/2025-06-01/afdx.json",
  "kubernetesconfiguration/resource-manager/Microsoft.KubernetesConfiguration/fluxConfigurations/stable/2025-04-01/fluxconfiguration.json",
  "containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/replications.json",
];

export interface DrFakeOptions {
  /** Front Door origins by name, with their priority. */
  origins: Record<string, number>;
  /** Flux configurations by `<cluster>/<name>`, with their Kustomizations. */
  flux: Record<string, { suspend: boolean; kustomizations: string[] }>;
  /** ACR replications by name. */
  replications: Record<string, { location: string; regionEndpointEnabled: boolean; displayStatus?: string }>;
  /** Status polls each operation answers InProgress (default 1). */
  polls?: number;
  /** Reads of a resumed Flux configuration before its Kustomizations are Ready (default 1), or never. */
  readyAfter?: number | "never";
  /**
   * When the Flux agent last synced each configuration's status to ARM; by default at every read (an agent
   * that keeps up). A fixed past time is an agent that stopped reporting: its last Ready is stale.
   */
  statusSyncedAt?: string;
  /** The next operation of this operationId fails with this ARM error (once). */
  failOperation?: { operationId: string; code: string; message: string };
  latencyMs?: number | [number, number];
}

interface Origin {
  name: string;
  priority: number;
  enabledState: string;
  provisioningState: string;
  busy: boolean;
}
interface Flux {
  cluster: string;
  name: string;
  suspend: boolean;
  provisioningState: string;
  kustomizations: string[];
  /** Reads left until Ready; undefined while suspended. */
  readyIn?: number | "never";
  busy: boolean;
}
interface Replica {
  name: string;
  location: string;
  regionEndpointEnabled: boolean;
  displayStatus: string;
  provisioningState: string;
  busy: boolean;
}

export interface DrFake {
  arm: ArmFake;
  origins: Map<string, Origin>;
  flux: Map<string, Flux>;
  replications: Map<string, Replica>;
  /** Makes the next operation of an operationId fail. */
  failNext(f: NonNullable<DrFakeOptions["failOperation"]>): void;
  close(): Promise<void>;
}

const conflict = (ctx: ArmContext, what: string) =>
  ctx.error(409, "Conflict", `Another operation is in progress on ${what}; retry when it has completed.`);

export async function startDrFake(o: DrFakeOptions): Promise<DrFake> {
  const origins = new Map<string, Origin>(
    Object.entries(o.origins).map(([name, priority]) => [
      name.toLowerCase(),
      { name, priority, enabledState: "Enabled", provisioningState: "Succeeded", busy: false },
    ]),
  );
  const flux = new Map<string, Flux>(
    Object.entries(o.flux).map(([key, f]) => {
      const [cluster, name] = key.split("/") as [string, string];
      return [
        key.toLowerCase(),
        {
          cluster,
          name,
          suspend: f.suspend,
          provisioningState: "Succeeded",
          kustomizations: f.kustomizations,
          ...(f.suspend ? {} : { readyIn: 0 }),
          busy: false,
        },
      ];
    }),
  );
  const replications = new Map<string, Replica>(
    Object.entries(o.replications).map(([name, r]) => [
      name.toLowerCase(),
      {
        name,
        location: r.location,
        regionEndpointEnabled: r.regionEndpointEnabled,
        displayStatus: r.displayStatus ?? "Ready",
        provisioningState: "Succeeded",
        busy: false,
      },
    ]),
  );
  let failure = o.failOperation;
  const lro = (req: ArmRequest, opts: LongRunningOptions): LongRunningOptions => {
    if (failure && failure.operationId.toLowerCase() === req.operationId.toLowerCase()) {
      const f = failure;
      failure = undefined;
      return { ...opts, outcome: "Failed", error: { code: f.code, message: f.message } };
    }
    return opts;
  };
  const polls = o.polls ?? 1;

  const originBody = (req: ArmRequest, x: Origin) => ({
    id: req.path,
    name: x.name,
    type: "Microsoft.Cdn/profiles/originGroups/origins",
    properties: {
      originGroupName: req.params.originGroupName,
      hostName: `${x.name}.pls.northwind.example`,
      httpPort: 80,
      httpsPort: 443,
      priority: x.priority,
      weight: 50,
      enabledState: x.enabledState,
      enforceCertificateNameCheck: true,
      provisioningState: x.provisioningState,
      deploymentStatus: x.busy ? "InProgress" : "Succeeded",
    },
  });

  const fluxBody = (req: ArmRequest, f: Flux) => {
    const ready = f.readyIn === 0;
    const failed = f.readyIn === "never";
    const condition = f.suspend
      ? { type: "Ready", status: "Unknown", reason: "Suspended", message: "Reconciliation is suspended" }
      : ready
        ? {
            type: "Ready",
            status: "True",
            reason: "ReconciliationSucceeded",
            message: "Applied revision: main@sha1:4f2a",
          }
        : failed
          ? {
              type: "Ready",
              status: "False",
              reason: "HealthCheckFailed",
              message:
                "health check failed after 9m30s: timeout waiting for: [Deployment/orders/api status: 'InProgress']",
            }
          : {
              type: "Ready",
              status: "Unknown",
              reason: "Progressing",
              message: "Reconciliation in progress",
            };
    return {
      id: req.path,
      name: f.name,
      type: "Microsoft.KubernetesConfiguration/fluxConfigurations",
      properties: {
        scope: "cluster",
        namespace: "flux-system",
        sourceKind: "GitRepository",
        suspend: f.suspend,
        kustomizations: Object.fromEntries(
          f.kustomizations.map((k) => [k, { name: k, path: `./${k}`, prune: true, wait: true }]),
        ),
        statuses: [
          {
            name: f.name,
            namespace: "flux-system",
            kind: "GitRepository",
            complianceState: f.suspend ? "Suspended" : "Compliant",
          },
          ...f.kustomizations.map((k) => ({
            name: `${f.name}-${k}`,
            namespace: "flux-system",
            kind: "Kustomization",
            complianceState: f.suspend
              ? "Suspended"
              : ready
                ? "Compliant"
                : failed
                  ? "Non-Compliant"
                  : "Pending",
            statusConditions: [{ ...condition, lastTransitionTime: new Date().toISOString() }],
          })),
        ],
        complianceState: f.suspend ? "Suspended" : ready ? "Compliant" : failed ? "Non-Compliant" : "Pending",
        provisioningState: f.provisioningState,
        statusUpdatedAt: o.statusSyncedAt ?? new Date().toISOString(),
      },
    };
  };

  const replicaBody = (req: ArmRequest, r: Replica) => ({
    id: req.path,
    name: r.name,
    type: "Microsoft.ContainerRegistry/registries/replications",
    location: r.location,
    properties: {
      provisioningState: r.provisioningState,
      status: { displayStatus: r.displayStatus, timestamp: new Date().toISOString() },
      regionEndpointEnabled: r.regionEndpointEnabled,
      zoneRedundancy: "Enabled",
    },
  });

  const findFlux = (req: ArmRequest) =>
    flux.get(`${req.params.clusterName}/${req.params.fluxConfigurationName}`.toLowerCase());
  const notFound = (ctx: ArmContext, what: string) =>
    ctx.error(404, "ResourceNotFound", `The Resource '${what}' was not found.`);

  /** A long-running write on one resource: 409 while another runs, `apply` once it succeeded. */
  const write = <T extends { name: string; busy: boolean; provisioningState: string }>(
    req: ArmRequest,
    ctx: ArmContext,
    x: T | undefined,
    missing: string,
    reply: { status: number; body: (x: T) => unknown },
    apply: (x: T) => void,
  ): ArmReply => {
    if (!x) return notFound(ctx, missing);
    if (x.busy) return conflict(ctx, x.name);
    x.busy = true;
    x.provisioningState = "Updating";
    return ctx.longRunning(
      lro(req, {
        polls,
        status: reply.status,
        body: reply.body(x),
        onDone: (outcome) => {
          x.busy = false;
          x.provisioningState = outcome === "Succeeded" ? "Succeeded" : "Failed";
          if (outcome === "Succeeded") apply(x);
        },
      }),
    );
  };
  const props = <P>(req: ArmRequest) => ((req.body as { properties?: P }).properties ?? {}) as Partial<P>;

  const arm = await startArmFake({
    specs: DR_SPECS,
    latencyMs: o.latencyMs,
    routes: {
      AFDOrigins_Get: (req, ctx) => {
        const x = origins.get((req.params.originName ?? "").toLowerCase());
        return x
          ? { status: 200, body: originBody(req, x) }
          : notFound(ctx, `origins/${req.params.originName}`);
      },
      AFDOrigins_Update: (req, ctx) => {
        const { priority, enabledState } = props<{ priority: number; enabledState: string }>(req);
        return write(
          req,
          ctx,
          origins.get((req.params.originName ?? "").toLowerCase()),
          `origins/${req.params.originName}`,
          { status: 202, body: (x) => originBody(req, x) },
          (x) => {
            if (priority !== undefined) x.priority = priority;
            if (enabledState !== undefined) x.enabledState = enabledState;
          },
        );
      },
      FluxConfigurations_Get: (req, ctx) => {
        const f = findFlux(req);
        if (!f) return notFound(ctx, `fluxConfigurations/${req.params.fluxConfigurationName}`);
        const reply = { status: 200, body: fluxBody(req, f) };
        // Reconciliation advances with time, which a fake measures in reads.
        if (typeof f.readyIn === "number" && f.readyIn > 0) f.readyIn--;
        return reply;
      },
      FluxConfigurations_Update: (req, ctx) => {
        const { suspend } = props<{ suspend: boolean }>(req);
        return write(
          req,
          ctx,
          findFlux(req),
          `fluxConfigurations/${req.params.fluxConfigurationName}`,
          { status: 202, body: (f) => fluxBody(req, f) },
          (f) => {
            if (suspend === undefined) return;
            f.suspend = suspend;
            f.readyIn = suspend ? undefined : (o.readyAfter ?? 1);
          },
        );
      },
      Replications_Get: (req, ctx) => {
        const r = replications.get((req.params.replicationName ?? "").toLowerCase());
        return r
          ? { status: 200, body: replicaBody(req, r) }
          : notFound(ctx, `replications/${req.params.replicationName}`);
      },
      Replications_Update: (req, ctx) => {
        const { regionEndpointEnabled } = props<{ regionEndpointEnabled: boolean }>(req);
        return write(
          req,
          ctx,
          replications.get((req.params.replicationName ?? "").toLowerCase()),
          `replications/${req.params.replicationName}`,
          { status: 201, body: (r) => replicaBody(req, r) },
          (r) => {
            if (regionEndpointEnabled !== undefined) r.regionEndpointEnabled = regionEndpointEnabled;
          },
        );
      },
    },
  });
  return {
    arm,
    origins,
    flux,
    replications,
    failNext: (f) => {
      failure = f;
    },
    close: () => arm.close(),
  };
}

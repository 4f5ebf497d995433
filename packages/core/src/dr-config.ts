import { z } from "zod";

// platform.yaml `dr`: the warm-standby topology `platform dr drill` fails over. Names are ARM resource
// names (not ids) so a plan prints the exact request paths; the checks that span fields (primary and
// standby are listed regions, names unique) are refinements with a path, so their errors carry the
// file:line:column of the offending node like every other config error.

const region = z
  .string()
  .regex(/^[a-z][a-z0-9]*$/, "must be an Azure region name in lower case, such as eastus2 or centralus");
const resourceGroup = z
  .string()
  .regex(/^[-\w._()]{1,90}$/, "must be a resource group name (letters, digits, - _ . ( ), at most 90)")
  .refine((s) => !s.endsWith("."), "must not end with a period");
const armName = z.string().min(1).max(260);
// ACR registry and replication names: alphanumeric, 5–50 (the spec's path-parameter pattern).
const acrName = z.string().regex(/^[a-zA-Z0-9]{5,50}$/, "must be 5–50 letters or digits (an ACR name)");
const uuid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/, "must be a subscription id (a GUID)");

/** A duration: seconds as a number, or `90s`, `5m`, `1h`. */
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  const m = typeof v === "string" ? /^(\d+)(s|m|h)$/.exec(v.trim()) : null;
  if (!m || Number(m[1]) === 0) {
    ctx.addIssue({ code: "custom", message: "must be a positive duration such as 90s, 5m or 1h" });
    return z.NEVER;
  }
  return Number(m[1]) * (m[2] === "h" ? 3600 : m[2] === "m" ? 60 : 1);
});

const drRegion = z.strictObject({
  /** The Azure region (eastus2). */
  name: region,
  /** Resource group of the region's AKS cluster. */
  resourceGroup,
  /** The AKS cluster's name. */
  cluster: armName,
  /** This region's origin in the Front Door origin group. */
  origin: armName,
  /** The cluster's Flux configurations (Microsoft.KubernetesConfiguration/fluxConfigurations names). */
  fluxConfigurations: z.array(armName).min(1),
  /** The ACR replication in this region (default: the region name). */
  replication: acrName.optional(),
});

/** RTO budget per failover step, in seconds (the seed's 31 minutes by default). */
const rto = z.strictObject({
  frontDoor: duration.default(5 * 60),
  fluxResume: duration.default(3 * 60),
  kustomizations: duration.default(20 * 60),
  registry: duration.default(3 * 60),
});

/** The `dr` section of platform.yaml. */
export const DrConfigSchema = z
  .strictObject({
    subscription: uuid,
    /** Region that serves today. */
    primary: region,
    /** Region the drill fails over to. */
    standby: region,
    regions: z.array(drRegion).min(2),
    frontDoor: z.strictObject({ resourceGroup, profile: armName, originGroup: armName }),
    acr: z.strictObject({ resourceGroup, name: acrName }),
    rto: rto.default(() => ({ frontDoor: 300, fluxResume: 180, kustomizations: 1200, registry: 180 })),
    /** How often the drill reads ARM while it waits (Flux compliance, operations without Retry-After). */
    pollInterval: duration.default(10),
  })
  .superRefine((dr, ctx) => {
    const names = new Map<string, number>();
    const origins = new Map<string, number>();
    dr.regions.forEach((r, i) => {
      if (names.has(r.name))
        ctx.addIssue({
          code: "custom",
          path: ["regions", i, "name"],
          message: `region ${r.name} is listed twice`,
        });
      names.set(r.name, i);
      if (origins.has(r.origin))
        ctx.addIssue({
          code: "custom",
          path: ["regions", i, "origin"],
          message: `origin ${r.origin} is already the origin of ${dr.regions[origins.get(r.origin)!]!.name}`,
        });
      origins.set(r.origin, i);
    });
    for (const key of ["primary", "standby"] as const) {
      if (!names.has(dr[key]))
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `${key} region ${dr[key]} is not in dr.regions (${[...names.keys()].join(", ")})`,
        });
    }
    if (dr.primary === dr.standby)
      ctx.addIssue({
        code: "custom",
        path: ["standby"],
        message: "standby must be another region than primary",
      });
  });

/** The `dr` settings with every default filled in. */
export type DrConfig = z.output<typeof DrConfigSchema>;

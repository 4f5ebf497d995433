import { readFile } from "node:fs/promises";
import { z } from "zod";
import { DrConfigSchema } from "./dr-config.ts";
import { PlatformError } from "./errors.ts";
import { FleetConfigSchema } from "./fleet-config.ts";
import { parseYamlStream } from "./yaml.ts";

const hostOrPrefix = z
  .string()
  .min(1)
  .regex(
    /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]*)?$/,
    "must be a registry host or host/path prefix in lower case, e.g. northwind.azurecr.io or mcr.microsoft.com/oss/",
  );

const environment = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be a lower-case name such as dev, staging, prod"),
  path: z.string().min(1),
  /** Promote only digests already running in this environment (defaults to the previous one). */
  promoteFrom: z.string().optional(),
});

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label")
  .max(63);
const quantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(
    z
      .string()
      .regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, "must be a Kubernetes quantity such as 500m, 4 or 8Gi"),
  );

/** One service of a team: what `platform team render` turns into its identity, workload and mesh objects. */
const service = z.strictObject({
  name: dnsLabel,
  port: z.number().int().min(1).max(65535).default(8080),
  /** The image, pinned by digest (repo@sha256:…): the Deployment skeleton must pass every guardrail. */
  image: z.string().optional(),
  /** Callers allowed to reach it: a service of the same team (`web`) or of another (`storefront/web`). */
  calledBy: z.array(z.string().min(1)).default(() => []),
  /** Key Vault secrets it reads (mounted by the Secrets Store CSI driver through its identity). */
  secrets: z
    .array(z.string().regex(/^[0-9a-zA-Z-]{1,127}$/, "must be a Key Vault secret name"))
    .default(() => []),
  /** Azure role assignments its identity needs: role name or definition id, on a resource id. */
  roles: z
    .array(z.strictObject({ role: z.string().min(1), scope: z.string().startsWith("/") }))
    .default(() => []),
  pool: z.enum(["general", "memory", "spot", "gpu"]).default("general"),
  /** Exposed through the platform Gateway (an HTTPRoute) at this host name, or not at all. */
  expose: z
    .strictObject({ host: z.string().min(1), path: z.string().startsWith("/").default("/") })
    .optional(),
  /** The user-assigned identity's client id, when known; else it comes from the layer-3 Bicep output. */
  clientId: z.string().optional(),
  replicas: z
    .strictObject({ min: z.number().int().min(1).default(2), max: z.number().int().min(1).default(5) })
    .default(() => ({ min: 2, max: 5 })),
  cpu: quantity.default("250m"),
  memory: quantity.default("256Mi"),
});

const team = z.strictObject({
  name: z.string().min(1),
  namespace: dnsLabel,
  owners: z.array(z.string()).default(() => []),
  identity: z.strictObject({ clientId: z.string().optional(), name: z.string().optional() }).optional(),
  services: z.array(service).default(() => []),
  quotas: z
    .strictObject({
      cpu: quantity.default("8"),
      memory: quantity.default("16Gi"),
      pods: z.number().int().min(1).default(50),
    })
    .default(() => ({ cpu: "8", memory: "16Gi", pods: 50 })),
  /** The Key Vault its services' secrets live in. */
  keyVault: z.string().optional(),
});

/** Settings of `platform team render` (where it writes, which mesh, the Gateway, Flux). */
const tenancy = z.strictObject({
  /** The config-repo directory the render owns, relative to platform.yaml. */
  out: z.string().min(1).default("teams"),
  mesh: z.enum(["istio", "cilium"]).default("istio"),
  /** Istio add-on revision (asm-1-25): namespaces get istio.io/rev instead of ambient mode. */
  istioRevision: z.string().optional(),
  gateway: z
    .strictObject({
      name: z.string().default("platform-gateway"),
      namespace: z.string().default("gateway-system"),
    })
    .default(() => ({ name: "platform-gateway", namespace: "gateway-system" })),
  /** The Flux GitRepository each team's Kustomization reads. */
  source: z
    .strictObject({ name: z.string().default("config-repo"), namespace: z.string().default("flux-system") })
    .default(() => ({ name: "config-repo", namespace: "flux-system" })),
  /** The Entra tenant the Key Vaults are in (SecretProviderClass tenantId). */
  tenantId: z.string().optional(),
});

const signing = z.strictObject({
  identities: z.array(z.string()).default(() => []),
  keys: z.array(z.string()).default(() => []),
  /** Keyless cosign signatures (verify): cosign's --certificate-identity(-regexp) and --certificate-oidc-issuer. */
  certificateIdentity: z.string().optional(),
  certificateIdentityRegexp: z.string().optional(),
  certificateOidcIssuer: z.string().optional(),
  /** The sigstore trusted_root.json (Fulcio CAs, Rekor keys, CT logs, TSAs) keyless signatures chain to. */
  trustedRoot: z.string().optional(),
});

const policy = z.strictObject({
  /** Capabilities a container may add after dropping ALL. */
  allowedCapabilities: z.array(z.string()).default(() => ["NET_BIND_SERVICE"]),
  /** Namespaces the guardrails skip (system namespaces managed by the platform itself). */
  excludedNamespaces: z
    .array(z.string())
    .default(() => ["kube-system", "gatekeeper-system", "azure-arc", "flux-system"]),
  /** Rules switched off for the whole platform, by id. */
  disabledRules: z.array(z.string()).default(() => []),
  /** Kubernetes version (x.y or x.y.z) charts are rendered for by the policy dry-run (helm --kube-version). */
  kubeVersion: z
    .string()
    .regex(/^v?\d+\.\d+(\.\d+)?$/, "must be a Kubernetes version such as 1.32 or 1.32.4")
    .optional(),
});

// Defaults are factories: zod hands a literal default out by reference, so one caller mutating
// its config (adding a trusted registry) would change every later config in the process.
/** The platform.yaml schema: fixed top-level keys, strict so typos are caught. */
export const PlatformConfigSchema = z.strictObject({
  registries: z
    .strictObject({
      trusted: z.array(hostOrPrefix).default(() => []),
      quarantine: z.string().optional(),
    })
    .default(() => ({ trusted: [] })),
  environments: z.array(environment).default(() => []),
  teams: z.array(team).default(() => []),
  tenancy: tenancy.optional(),
  dr: DrConfigSchema.optional(),
  fleet: FleetConfigSchema.optional(),
  signing: signing.default(() => ({ identities: [], keys: [] })),
  policy: policy.default(() => ({
    allowedCapabilities: ["NET_BIND_SERVICE"],
    excludedNamespaces: ["kube-system", "gatekeeper-system", "azure-arc", "flux-system"],
    disabledRules: [],
  })),
});

export type PlatformConfig = z.output<typeof PlatformConfigSchema>;
/** The `tenancy` settings with every default filled in. */
export type TenancySettings = z.output<typeof tenancy>;

/** `tenancy` from platform.yaml, or the defaults when it is absent. */
export function tenancySettings(config: PlatformConfig): TenancySettings {
  return config.tenancy ?? tenancy.parse({});
}

/** Built-in defaults, used when no platform.yaml exists. */
export function defaultConfig(): PlatformConfig {
  return PlatformConfigSchema.parse({});
}

/** Parses platform.yaml text; errors name file:line:column of the offending node. */
export function parseConfig(text: string, file: string): PlatformConfig {
  const stream = parseYamlStream(text, file, { maxDocuments: 1 });
  const d = stream.docs[0];
  if (!d) return defaultConfig();
  const syntax = d.errors[0];
  if (syntax) {
    throw new PlatformError("CONFIG_INVALID", `invalid YAML: ${syntax.message}`, {
      file,
      line: syntax.line,
      column: syntax.column,
      input: "config",
      hint: "Fix the YAML syntax at that position.",
    });
  }
  const result = PlatformConfigSchema.safeParse(normalizeBigInts(d.value ?? {}));
  if (result.success) {
    checkEnvironments(result.data, file, (path) => stream.position(d, path));
    return result.data;
  }
  const issue = result.error.issues[0]!;
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  const extra = issue.code === "unrecognized_keys" ? issue.keys : [];
  const pos = extra.length
    ? stream.position(d, [...path, extra[0]!], { key: true })
    : stream.position(d, path);
  const where = path.length ? path.join(".") : "(top level)";
  throw new PlatformError("CONFIG_INVALID", `${where}: ${issue.message}`, {
    file,
    line: pos.line,
    column: pos.column,
    input: "config",
    hint:
      issue.code === "unrecognized_keys"
        ? `Remove or rename ${extra.map((k) => `"${k}"`).join(", ")}; allowed keys are listed in the README's platform.yaml reference.`
        : "Correct the value at that position; see the README's platform.yaml reference.",
  });
}

function checkEnvironments(
  config: PlatformConfig,
  file: string,
  position: (path: Array<string | number>) => { line: number; column: number },
): void {
  const names = new Set<string>();
  for (const [i, env] of config.environments.entries()) {
    if (names.has(env.name))
      throw new PlatformError("CONFIG_INVALID", `environment "${env.name}" is listed twice`, {
        file,
        ...position(["environments", i, "name"]),
        input: "config",
      });
    if (env.promoteFrom && !names.has(env.promoteFrom)) {
      throw new PlatformError(
        "CONFIG_INVALID",
        `environment "${env.name}" promotes from "${env.promoteFrom}", which is not listed before it`,
        {
          file,
          ...position(["environments", i, "promoteFrom"]),
          input: "config",
          hint: "List environments in promotion order: dev first, prod last.",
        },
      );
    }
    names.add(env.name);
  }
}

function normalizeBigInts(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(normalizeBigInts);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeBigInts(x)]));
  return v;
}

/**
 * Loads platform.yaml. A missing file at the default path yields the built-in defaults; a missing
 * file the user named explicitly is an error.
 */
export async function loadConfig(
  path: string,
  opts: { explicit?: boolean } = {},
): Promise<{ config: PlatformConfig; source: string | undefined }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !opts.explicit)
      return { config: defaultConfig(), source: undefined };
    throw new PlatformError(
      "CONFIG_NOT_FOUND",
      `cannot read platform config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        input: "config",
        hint: "Pass the path of your platform.yaml, relative to the workspace, or omit it to use built-in defaults.",
        cause: err,
      },
    );
  }
  return { config: parseConfig(text, path), source: path };
}

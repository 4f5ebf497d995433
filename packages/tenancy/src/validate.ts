import { type PlatformConfig, PlatformError, parseConfig, parseYamlStream } from "@platform/core";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DIGEST_REF = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$/;

type Where = (path: Array<string | number>) => { file?: string; line?: number; column?: number };

/**
 * Parses platform.yaml for the render: the schema (core), then what only a whole-file view can judge
 * (duplicates, callers, namespace collisions, Entra ids, pinned images), each error at file:line:column.
 */
export function parseTeamsConfig(text: string, file: string): PlatformConfig {
  const config = parseConfig(text, file);
  const stream = parseYamlStream(text, file, { maxDocuments: 1 });
  const doc = stream.docs[0];
  const where: Where = (path) => {
    if (!doc) return { file };
    const { line, column } = stream.position(doc, path);
    return { file, line, column };
  };
  validateTeams(config, where);
  return config;
}

/** The semantic checks of `teams` (positions through `where`; without it errors name the path only). */
export function validateTeams(config: PlatformConfig, where: Where = () => ({})): void {
  const fail = (path: Array<string | number>, message: string, hint: string): never => {
    throw new PlatformError("TENANCY_INVALID", `teams[${path[1]}]${describe(path.slice(2))}: ${message}`, {
      ...where(path),
      input: "config",
      hint,
    });
  };
  const teamNames = new Map<string, number>();
  const namespaces = new Map<string, number>();
  const services = new Set<string>();
  for (const [t, team] of config.teams.entries()) {
    // The name becomes file paths and object names: a DNS label, never a path.
    if (!DNS_LABEL.test(team.name) || team.name.length > 63)
      fail(
        ["teams", t, "name"],
        `team name "${team.name}" is not a DNS-1123 label`,
        "Use lower-case letters, digits and '-', such as orders.",
      );
    const prevName = teamNames.get(team.name);
    if (prevName !== undefined)
      fail(
        ["teams", t, "name"],
        `team "${team.name}" is declared twice (also teams[${prevName}])`,
        "Give each team one entry.",
      );
    teamNames.set(team.name, t);
    const prevNs = namespaces.get(team.namespace);
    if (prevNs !== undefined)
      fail(
        ["teams", t, "namespace"],
        `namespace "${team.namespace}" is already team "${config.teams[prevNs]!.name}"'s`,
        "Each team gets a namespace of its own: quotas, RBAC and the default-deny policy are per namespace.",
      );
    if (RESERVED_NAMESPACES.has(team.namespace) || team.namespace.startsWith("kube-"))
      fail(
        ["teams", t, "namespace"],
        `namespace "${team.namespace}" is reserved for the platform`,
        "Pick the team's own namespace name.",
      );
    namespaces.set(team.namespace, t);
    for (const [o, owner] of team.owners.entries())
      if (!GUID.test(owner))
        fail(
          ["teams", t, "owners", o],
          `owner "${owner}" is not an Entra group object id (a GUID)`,
          "List the object ids of the team's Entra groups (az ad group show -g <name> --query id); AKS RBAC binds groups by id, not by name.",
        );
    const local = new Map<string, number>();
    for (const [s, svc] of team.services.entries()) {
      const prev = local.get(svc.name);
      if (prev !== undefined)
        fail(
          ["teams", t, "services", s, "name"],
          `service "${svc.name}" is declared twice in team "${team.name}" (also services[${prev}])`,
          "Give each service one entry.",
        );
      local.set(svc.name, s);
      // Azure limits a user-assigned identity's name to 128 characters.
      if (`id-${team.namespace}-${svc.name}`.length > 128)
        fail(
          ["teams", t, "services", s, "name"],
          `identity name id-${team.namespace}-${svc.name} exceeds Azure's 128 characters`,
          "Shorten the namespace or the service name.",
        );
      services.add(`${team.name}/${svc.name}`);
      if (svc.clientId !== undefined && !GUID.test(svc.clientId))
        fail(
          ["teams", t, "services", s, "clientId"],
          `clientId "${svc.clientId}" is not a GUID`,
          "Use the identity's client id (az identity show --query clientId), or omit it to take it from the layer-3 Bicep output.",
        );
      if (svc.image === undefined)
        fail(
          ["teams", t, "services", s, "name"],
          `service "${svc.name}" has no image`,
          "Add image: <registry>/<repository>@sha256:<digest> (the first build's digest); the Deployment skeleton must pass every guardrail.",
        );
      if (!DIGEST_REF.test(svc.image ?? ""))
        fail(
          ["teams", t, "services", s, "image"],
          `image "${svc.image}" is not pinned by digest`,
          "Write it as <registry>/<repository>@sha256:<digest>; the Deployment skeleton must pass every guardrail.",
        );
      if (svc.expose && !HOSTNAME.test(svc.expose.host))
        fail(
          ["teams", t, "services", s, "expose", "host"],
          `host "${svc.expose.host}" is not a DNS host name`,
          "Use a lower-case host name such as shop.northwind.example (a leading *. for a wildcard).",
        );
      // Flux substitutes ${…} across the whole render: a value carrying it would be rewritten on apply.
      if (svc.expose && /[$\s]/.test(svc.expose.path))
        fail(
          ["teams", t, "services", s, "expose", "path"],
          `path "${svc.expose.path}" holds "$" or white space`,
          "Use a plain URL path prefix such as /api.",
        );
      if (svc.replicas.min > svc.replicas.max)
        fail(
          ["teams", t, "services", s, "replicas"],
          `replicas.min ${svc.replicas.min} exceeds replicas.max ${svc.replicas.max}`,
          "Set min ≤ max.",
        );
      if (svc.secrets.length > 0 && !team.keyVault)
        fail(
          ["teams", t, "services", s, "secrets"],
          `service "${svc.name}" reads secrets but team "${team.name}" names no keyVault`,
          "Add keyVault: <vault name> to the team.",
        );
    }
  }
  // Callers resolve after every service is known: a cycle (a calls b, b calls a) is fine.
  for (const [t, team] of config.teams.entries())
    for (const [s, svc] of team.services.entries())
      for (const [c, caller] of svc.calledBy.entries())
        if (!services.has(qualify(team.name, caller)))
          fail(
            ["teams", t, "services", s, "calledBy", c],
            `caller "${caller}" of "${team.name}/${svc.name}" is not a declared service`,
            "Name a service of this team (web) or of another team (storefront/web) declared in platform.yaml.",
          );
}

/** `web` → `<team>/web`; `team/web` stays. */
export function qualify(team: string, caller: string): string {
  return caller.includes("/") ? caller : `${team}/${caller}`;
}

const RESERVED_NAMESPACES = new Set([
  "default",
  "flux-system",
  "gatekeeper-system",
  "istio-system",
  "aks-istio-system",
  "azure-arc",
  "gateway-system",
]);

function describe(path: Array<string | number>): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
}

import type { PlatformConfig } from "@platform/core";
import { parseAllDocuments } from "yaml";
import { BICEP_PARAMETERS, type RenderResult } from "./render.ts";

/** A service by team, or the platform Gateway (the way in from outside). */
export type CallEnd = { team: string; service: string } | { gateway: true };

/** One call the mesh allows: `from` may reach `to` (an ALLOW rule naming `from`'s identity). */
export interface AllowedCall {
  from: CallEnd;
  to: { team: string; service: string };
}

/** A workload identity the layer-3 parameters declare. */
export interface WorkloadIdentity {
  name: string;
  team: string;
  serviceAccount: string;
  /** `system:serviceaccount:<ns>:<sa>`: the only token subject the identity trusts. */
  subject: string;
  roles: string[];
}

type Obj = {
  kind?: string;
  metadata?: { namespace?: string };
  spec?: {
    action?: string;
    selector?: { matchLabels?: Record<string, string> };
    endpointSelector?: { matchLabels?: Record<string, string> };
    rules?: Array<{ from?: Array<{ source?: { principals?: string[] } }> }>;
    ingress?: Array<{ fromEndpoints?: Array<{ matchLabels?: Record<string, string> }> }>;
  };
};

/**
 * The call graph as the render enforces it — read from the rendered ALLOW policies (Istio AuthorizationPolicy
 * principals or Cilium fromEndpoints), not from platform.yaml's calledBy, so it shows what the mesh will
 * actually let through. Sorted; calls from identities outside the declared teams are left out.
 */
export function allowedCalls(config: PlatformConfig, render: RenderResult): AllowedCall[] {
  const teamOf = new Map(config.teams.map((t) => [t.namespace, t.name]));
  const gatewayNs = config.tenancy?.gateway.namespace ?? "gateway-system";
  const end = (ns: string, sa: string): CallEnd | undefined => {
    if (ns === gatewayNs) return { gateway: true };
    const team = teamOf.get(ns);
    return team ? { team, service: sa } : undefined;
  };
  const calls: AllowedCall[] = [];
  for (const [path, text] of render.files) {
    if (!path.endsWith(".yaml")) continue;
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as Obj | null;
      const team = teamOf.get(o?.metadata?.namespace ?? "");
      if (!o || !team) continue;
      const froms: Array<CallEnd | undefined> = [];
      let app: string | undefined;
      if (o.kind === "AuthorizationPolicy" && o.spec?.action === "ALLOW") {
        app = o.spec.selector?.matchLabels?.app;
        for (const r of o.spec.rules ?? [])
          for (const f of r.from ?? [])
            for (const p of f.source?.principals ?? []) {
              const m = /^cluster\.local\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(p);
              if (m) froms.push(end(m[1]!, m[2]!));
            }
      } else if (o.kind === "CiliumNetworkPolicy") {
        app = o.spec?.endpointSelector?.matchLabels?.app;
        for (const r of o.spec?.ingress ?? [])
          for (const e of r.fromEndpoints ?? []) {
            const ns = e.matchLabels?.["k8s:io.kubernetes.pod.namespace"];
            const sa = e.matchLabels?.["k8s:io.cilium.k8s.policy.serviceaccount"];
            if (ns && sa) froms.push(end(ns, sa));
          }
      }
      if (!app) continue;
      for (const from of froms) if (from) calls.push({ from, to: { team, service: app } });
    }
  }
  const key = (c: AllowedCall) =>
    `${"gateway" in c.from ? "" : `${c.from.team}/${c.from.service}`} ${c.to.team}/${c.to.service}`;
  return calls.sort((a, b) => key(a).localeCompare(key(b)));
}

/** The per-service workload identities of the render's layer-3 parameters. */
export function workloadIdentities(render: RenderResult): WorkloadIdentity[] {
  const text = render.files.get(BICEP_PARAMETERS);
  if (!text) return [];
  const ids = (
    JSON.parse(text) as {
      parameters: {
        workloadIdentities: {
          value: Array<{
            name: string;
            team: string;
            serviceAccount: string;
            federatedCredential: { subject: string };
            roleAssignments: Array<{ role: string }>;
          }>;
        };
      };
    }
  ).parameters.workloadIdentities.value;
  return ids.map((i) => ({
    name: i.name,
    team: i.team,
    serviceAccount: i.serviceAccount,
    subject: i.federatedCredential.subject,
    roles: i.roleAssignments.map((r) => r.role),
  }));
}

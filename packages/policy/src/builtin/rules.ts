import type { Severity } from "../types.ts";

/** Where a built-in rule looks: each container of a pod spec, the pod spec, or the whole object. */
export type RuleScope = "container" | "pod" | "object";

/**
 * A built-in guardrail, written in CEL like a ValidatingAdmissionPolicy validation: `expression` is true
 * when the target complies. Variables: `object`, `request` (namespace, name, operation, kind), `clusterScoped`, `params`, and for pod and
 * container scope `podSpec`, `podMeta`, `serviceAccounts` (namespace/name → ServiceAccount in the render);
 * container scope adds `container` and `containerType`. `render` (builtin/render.ts) carries facts about the
 * rest of the render (per Namespace: effective mTLS, default-deny policy, quotas, workloads; credential-shaped
 * Secret values); a rule that reads it is render-level and is not exported as a ValidatingAdmissionPolicy.
 */
export interface BuiltinRule {
  id: string;
  name: string;
  title: string;
  severity: Severity;
  /** The seed's platform rule this enforces. */
  enforces: string;
  scope: RuleScope;
  /** Object kinds for object scope. */
  kinds?: string[];
  /** Container lists checked for container scope (default all three). */
  containerTypes?: Array<"containers" | "initContainers" | "ephemeralContainers">;
  expression: string;
  /** CEL producing the message (as messageExpression in VAP). */
  messageExpression: string;
  /** Field paths, relative to the scope's target, to point annotations at; `[*]` picks the first offending item. */
  fields: string[];
  /** How to fix it, appended to the message. */
  fix: string;
  helpUri?: string;
  /** Meshes (platform.yaml tenancy.mesh) the rule applies to; it is not compiled at all under the others. */
  meshes?: Array<"istio" | "cilium">;
}

const CREDENTIAL_KEY =
  "(?i)(passw(or)?d|pwd|secret|token|api[-_.]?key|access[-_.]?key|client[-_.]?secret|connection[-_.]?string|private[-_.]?key|credential)";

// Namespaces that belong to the platform, not a team, when platform.yaml names no team namespaces.
const TEAM_NAMESPACE = `(params.teamNamespaces.size() > 0 ? object.metadata.name in params.teamNamespaces : !(object.metadata.name == 'default' || object.metadata.name.matches('^(kube-.*|.*-system|istio-.*|aks-istio-.*)$')))`;

// An AuthorizationPolicy source constrains the caller when it names principals, namespaces, request principals
// or IP blocks, none of them a wildcard for everything. `requestPrincipals: ["*"]` is Istio's "require a valid
// JWT" idiom and counts; a not* list alone ("anyone but") does not.
const SOURCE_CONSTRAINS =
  "(src.?principals.orValue([]).size() > 0 && src.principals.all(p, p != '*' && !(p.endsWith('*') && !p.matches('/ns/[^/*]+/')))) || (src.?namespaces.orValue([]).size() > 0 && src.namespaces.all(n, n != '*')) || src.?requestPrincipals.orValue([]).size() > 0 || (src.?ipBlocks.orValue([]).size() > 0 && src.ipBlocks.all(b, !(b in ['0.0.0.0/0', '::/0']))) || (src.?remoteIpBlocks.orValue([]).size() > 0 && src.remoteIpBlocks.all(b, !(b in ['0.0.0.0/0', '::/0'])))";
// Istio's action enum is case-sensitive (the CRD refuses `allow`); anything but DENY/AUDIT/CUSTOM is read as ALLOW.
const IS_ALLOW = "!(object.?spec.?action.orValue('ALLOW') in ['DENY', 'AUDIT', 'CUSTOM'])";
// A SPIFFE principal names its namespace as <trust domain>/ns/<namespace>/sa/<account>.
// A principal of the policy's own namespace, or one platform.yaml declares as a caller, is not reported.
const UNDECLARED_PRINCIPAL =
  "cel.bind(parts, p.split('/'), !(parts.size() >= 5 && parts[1] == 'ns' && parts[3] == 'sa' && (parts[2] == request.namespace || (parts.size() == 5 && !p.contains('*') && (request.namespace + '|' + parts[2] + '/' + parts[4]) in params.declaredCallers))))";
const MTLS_OK = "['STRICT', 'UNSET']";

export const BUILTIN_RULES: BuiltinRule[] = [
  {
    id: "PLAT001",
    name: "trusted-registry",
    title: "Images come only from trusted registries",
    severity: "error",
    enforces: "only images from the trusted registry run",
    scope: "container",
    expression:
      "cel.bind(ref, image(container.image), params.trustedRegistries.exists(t, ref.name == t || ref.name.startsWith(t + '/') || ref.registry == t))",
    messageExpression:
      "'image \"' + container.image + '\" is not from a trusted registry (trusted: ' + (params.trustedRegistries.size() == 0 ? 'none configured' : params.trustedRegistries.join(', ')) + ')'",
    fields: ["image"],
    fix: "Push the image to the platform registry (build-scan promotes it there) or add the registry to registries.trusted in platform.yaml.",
  },
  {
    id: "PLAT002",
    name: "image-digest",
    title: "Images are pinned by digest",
    severity: "error",
    enforces: "the delivery path deploys images by digest, never by mutable tag",
    scope: "container",
    expression: "image(container.image).digest != '' && image(container.image).valid == 'true'",
    messageExpression:
      "image(container.image).valid != 'true' ? 'image \"' + container.image + '\" is not a valid image reference' : 'image \"' + container.image + '\" is not pinned by digest' + (image(container.image).tag == 'latest' || image(container.image).tag == '' ? ' (it resolves to :latest)' : '')",
    fields: ["image"],
    fix: "Reference the image as repo@sha256:<digest>; the digest-bump action writes the digest for you.",
  },
  {
    id: "PLAT003",
    name: "run-as-non-root",
    title: "Containers run as non-root",
    severity: "error",
    enforces: "workloads run as non-root",
    scope: "container",
    // Pod Security "restricted" (runAsNonRoot, runAsUser): runAsNonRoot true on the container or inherited from
    // the pod, never false at pod level, and runAsUser 0 at neither level (a container's non-zero user does
    // not excuse the pod's 0).
    expression:
      "container.?securityContext.?runAsNonRoot.orValue(podSpec.?securityContext.?runAsNonRoot.orValue(false)) == true && podSpec.?securityContext.?runAsNonRoot.orValue(true) != false && container.?securityContext.?runAsUser.orValue(-1) != 0 && podSpec.?securityContext.?runAsUser.orValue(-1) != 0",
    messageExpression:
      "container.?securityContext.?runAsUser.orValue(-1) == 0 || podSpec.?securityContext.?runAsUser.orValue(-1) == 0 ? 'container \"' + container.name + '\" runs as root (runAsUser: 0)' : 'container \"' + container.name + '\" may run as root: set runAsNonRoot: true (and false at neither pod nor container level)'",
    fields: ["securityContext.runAsUser", "securityContext.runAsNonRoot", "securityContext"],
    fix: "Set securityContext.runAsNonRoot: true (pod or container level) and build the image with a numeric non-root USER.",
  },
  {
    id: "PLAT004",
    name: "no-privilege-escalation",
    title: "allowPrivilegeEscalation is false",
    severity: "error",
    enforces: "pod security: restricted",
    scope: "container",
    // As Pod Security "restricted": Windows pods are exempt (the field is Linux-only; validation refuses it there).
    expression:
      "podSpec.?os.?name.orValue('') == 'windows' || container.?securityContext.?allowPrivilegeEscalation.orValue(true) == false",
    messageExpression: "'container \"' + container.name + '\" does not set allowPrivilegeEscalation: false'",
    fields: ["securityContext.allowPrivilegeEscalation", "securityContext"],
    fix: "Set securityContext.allowPrivilegeEscalation: false on the container.",
  },
  {
    id: "PLAT005",
    name: "not-privileged",
    title: "Containers are not privileged",
    severity: "error",
    enforces: "pod security: baseline",
    scope: "container",
    expression: "container.?securityContext.?privileged.orValue(false) != true",
    messageExpression: "'container \"' + container.name + '\" is privileged'",
    fields: ["securityContext.privileged"],
    fix: "Remove securityContext.privileged (or set it to false).",
  },
  {
    id: "PLAT006",
    name: "drop-capabilities",
    title: "Capabilities drop ALL and add only allowed ones",
    severity: "error",
    enforces: "pod security: restricted",
    scope: "container",
    expression:
      "podSpec.?os.?name.orValue('') == 'windows' || container.?securityContext.?capabilities.?drop.orValue([]).exists(c, c == 'ALL') && container.?securityContext.?capabilities.?add.orValue([]).all(c, c in params.allowedCapabilities)",
    messageExpression:
      "!container.?securityContext.?capabilities.?drop.orValue([]).exists(c, c == 'ALL') ? 'container \"' + container.name + '\" does not drop ALL capabilities' : 'container \"' + container.name + '\" adds capabilities that are not allowed: ' + container.securityContext.capabilities.add.filter(c, !(c in params.allowedCapabilities)).join(', ')",
    fields: [
      "securityContext.capabilities.add",
      "securityContext.capabilities.drop",
      "securityContext.capabilities",
      "securityContext",
    ],
    fix: "Set securityContext.capabilities.drop: [ALL] and add only capabilities listed in policy.allowedCapabilities of platform.yaml.",
  },
  {
    id: "PLAT007",
    name: "read-only-root-filesystem",
    title: "Root filesystem is read-only",
    severity: "error",
    enforces: "pod security: hardened containers",
    scope: "container",
    containerTypes: ["containers", "initContainers"],
    expression: "container.?securityContext.?readOnlyRootFilesystem.orValue(false) == true",
    messageExpression: "'container \"' + container.name + '\" does not set readOnlyRootFilesystem: true'",
    fields: ["securityContext.readOnlyRootFilesystem", "securityContext"],
    fix: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app must write.",
  },
  {
    id: "PLAT008",
    name: "resources",
    title: "CPU and memory requests and limits are set",
    severity: "error",
    enforces: "every team runs within its quota: requests and limits on every container",
    scope: "container",
    containerTypes: ["containers", "initContainers"],
    expression:
      "['cpu', 'memory'].all(r, r in container.?resources.?requests.orValue({}) && r in container.?resources.?limits.orValue({}))",
    messageExpression:
      "'container \"' + container.name + '\" is missing ' + ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'].filter(k, !(k.split('.')[1] in (k.startsWith('requests') ? container.?resources.?requests.orValue({}) : container.?resources.?limits.orValue({})))).join(', ')",
    fields: ["resources.limits", "resources.requests", "resources"],
    fix: "Set resources.requests and resources.limits for cpu and memory.",
  },
  {
    id: "PLAT009",
    name: "host-namespaces",
    title: "No hostNetwork, hostPID or hostIPC",
    severity: "error",
    enforces: "no host networking",
    scope: "pod",
    expression:
      "!podSpec.?hostNetwork.orValue(false) && !podSpec.?hostPID.orValue(false) && !podSpec.?hostIPC.orValue(false)",
    messageExpression:
      "'pod shares the host\\'s ' + ['hostNetwork', 'hostPID', 'hostIPC'].filter(k, k in podSpec && podSpec[k] == true).join(', ')",
    fields: ["hostNetwork", "hostPID", "hostIPC"],
    fix: "Remove hostNetwork, hostPID and hostIPC from the pod spec.",
  },
  {
    id: "PLAT010",
    name: "host-path",
    title: "No hostPath volumes",
    severity: "error",
    enforces: "no host access",
    scope: "pod",
    expression: "podSpec.?volumes.orValue([]).all(v, !has(v.hostPath))",
    messageExpression:
      "'pod mounts hostPath volume(s): ' + podSpec.volumes.filter(v, has(v.hostPath)).map(v, v.name).join(', ')",
    fields: ["volumes[*].hostPath"],
    fix: "Use a PersistentVolumeClaim, emptyDir or CSI volume instead of hostPath.",
  },
  {
    id: "PLAT011",
    name: "host-port",
    title: "No hostPort",
    severity: "error",
    enforces: "no host networking",
    scope: "container",
    containerTypes: ["containers", "initContainers"],
    expression: "container.?ports.orValue([]).all(p, p.?hostPort.orValue(0) == 0)",
    messageExpression:
      "'container \"' + container.name + '\" binds host port(s) ' + container.ports.filter(p, p.?hostPort.orValue(0) != 0).map(p, string(p.hostPort)).join(', ')",
    fields: ["ports[*].hostPort"],
    fix: "Remove hostPort; expose the port through a Service and the mesh gateway.",
  },
  {
    id: "PLAT012",
    name: "seccomp",
    title: "seccomp profile is RuntimeDefault or Localhost",
    severity: "error",
    enforces: "pod security: restricted",
    scope: "container",
    expression:
      // A container-level profile, even one without a type (which the API server rejects), overrides the pod's
      // for that container; as in Pod Security "restricted", a bad pod-level profile fails anyway, and Windows
      // pods are exempt.
      "podSpec.?os.?name.orValue('') == 'windows' || cel.bind(t, container.?securityContext.?seccompProfile.hasValue() ? container.securityContext.seccompProfile.?type.orValue('') : podSpec.?securityContext.?seccompProfile.?type.orValue(''), (t == 'RuntimeDefault' || t == 'Localhost') && podSpec.?securityContext.?seccompProfile.?type.orValue('RuntimeDefault') in ['RuntimeDefault', 'Localhost'])",
    messageExpression:
      "!(podSpec.?securityContext.?seccompProfile.?type.orValue('RuntimeDefault') in ['RuntimeDefault', 'Localhost']) ? 'pod has seccomp profile ' + podSpec.securityContext.seccompProfile.?type.orValue('(no type)') + ' (container \"' + container.name + '\")' : 'container \"' + container.name + '\" has seccomp profile ' + (container.?securityContext.?seccompProfile.hasValue() ? container.securityContext.seccompProfile.?type.orValue('(no type)') : podSpec.?securityContext.?seccompProfile.?type.orValue('(none)'))",
    fields: ["securityContext.seccompProfile.type", "securityContext"],
    fix: "Set securityContext.seccompProfile.type: RuntimeDefault at pod level.",
  },
  {
    id: "PLAT013",
    name: "workload-identity",
    title: "Workload-identity pods use a federated ServiceAccount",
    severity: "error",
    enforces: "no secrets anywhere: pods reach Azure through workload identity",
    scope: "pod",
    expression:
      "podMeta.?labels[?'azure.workload.identity/use'].orValue('') != 'true' || cel.bind(key, request.namespace + '/' + podSpec.?serviceAccountName.orValue('default'), !(key in serviceAccounts) || serviceAccounts[key].metadata.?annotations[?'azure.workload.identity/client-id'].orValue('') != '')",
    messageExpression:
      "'pod is labelled azure.workload.identity/use: \"true\" but ServiceAccount \"' + podSpec.?serviceAccountName.orValue('default') + '\" has no azure.workload.identity/client-id annotation'",
    fields: ["serviceAccountName"],
    fix: "Annotate the ServiceAccount with azure.workload.identity/client-id (team onboarding creates it), or use the team's ServiceAccount.",
  },
  {
    id: "PLAT014",
    name: "no-credentials-in-secrets",
    title: "No credentials committed in Secret objects",
    severity: "error",
    enforces: "no stored secrets: credentials come from Key Vault through workload identity",
    scope: "object",
    kinds: ["Secret"],
    expression: `(params.teamNamespaces.size() > 0 && !(request.namespace in params.teamNamespaces)) || object.?type.orValue('Opaque') in ['kubernetes.io/service-account-token', 'kubernetes.io/tls'] || (object.?data.orValue({}).all(k, !k.matches('${CREDENTIAL_KEY}')) && object.?stringData.orValue({}).all(k, !k.matches('${CREDENTIAL_KEY}')))`,
    // Map keys come in no fixed order on the server (Go maps), and Kubernetes 1.30 CEL cannot sort: the
    // message names the first and last key by order, so both sides word it the same.
    messageExpression: `cel.bind(keys, object.?data.orValue({}).filter(k, k.matches('${CREDENTIAL_KEY}')) + object.?stringData.orValue({}).filter(k, k.matches('${CREDENTIAL_KEY}')), 'Secret holds credential-looking key(s): ' + (keys.size() == 1 ? keys[0] : keys.min() + ', ' + keys.max() + (keys.size() > 2 ? ' and ' + string(keys.size() - 2) + ' more' : '')))`,
    fields: ["stringData", "data"],
    fix: "Store the credential in Key Vault and read it with workload identity (Secrets Store CSI driver); never commit it.",
  },
  {
    id: "PLAT015",
    name: "no-default-namespace",
    title: "Nothing runs in the default namespace",
    severity: "error",
    enforces: "every team has its own namespace",
    scope: "object",
    expression: "clusterScoped || request.namespace != 'default'",
    messageExpression: "object.kind + ' \"' + object.metadata.name + '\" is in the default namespace'",
    fields: ["metadata.namespace"],
    fix: "Set metadata.namespace to the team's namespace (platform.yaml teams[].namespace).",
  },
  {
    id: "PLAT016",
    name: "internal-load-balancer",
    title: "LoadBalancer Services are internal",
    severity: "error",
    enforces: "the cluster is private; ingress goes through Front Door/WAF",
    scope: "object",
    kinds: ["Service"],
    expression:
      "object.?spec.?type.orValue('ClusterIP') != 'LoadBalancer' || object.metadata.?annotations[?'service.beta.kubernetes.io/azure-load-balancer-internal'].orValue('') == 'true'",
    messageExpression: "'Service \"' + object.metadata.name + '\" is a public LoadBalancer'",
    fields: ["spec.type"],
    fix: 'Annotate it with service.beta.kubernetes.io/azure-load-balancer-internal: "true", or expose it through the Gateway.',
  },
  {
    id: "PLAT017",
    name: "prefer-gateway-api",
    title: "Gateway API HTTPRoute instead of Ingress",
    severity: "warning",
    enforces: "traffic enters through the mesh gateway",
    scope: "object",
    kinds: ["Ingress"],
    expression: "false",
    messageExpression:
      "'Ingress \"' + object.metadata.name + '\" is discouraged; use a Gateway API HTTPRoute'",
    fields: ["kind"],
    fix: "Replace the Ingress with an HTTPRoute attached to the platform Gateway.",
  },
  {
    id: "PLAT018",
    name: "namespace-set",
    title: "Namespaced objects name their namespace",
    severity: "warning",
    enforces: "every team has its own namespace",
    scope: "object",
    expression: "clusterScoped || request.namespace != ''",
    messageExpression:
      "object.kind + ' \"' + object.metadata.name + '\" has no metadata.namespace and would land in whatever namespace applies it'",
    fields: ["metadata"],
    fix: "Set metadata.namespace (or `namespace:` in the kustomization).",
  },
  {
    id: "PLAT019",
    name: "mesh-mtls-strict",
    title: "Team namespaces enforce STRICT mTLS",
    severity: "error",
    enforces: "all traffic inside the mesh is mutual TLS",
    scope: "object",
    kinds: ["Namespace"],
    // With `mesh: cilium` transport encryption is the cluster's (WireGuard, set by the infrastructure), not an
    // object of the render: the rule is not run there rather than passed.
    meshes: ["istio"],
    expression: `!${TEAM_NAMESPACE} || render.namespaces[?object.metadata.name].?mtls.orValue('') == 'STRICT'`,
    messageExpression:
      "cel.bind(f, render.namespaces[object.metadata.name], 'Namespace \"' + object.metadata.name + '\" has mTLS mode ' + f.mtls + ' (' + f.mtlsFrom + '), not STRICT')",
    fields: ["metadata.name"],
    fix: "Add a PeerAuthentication without a selector and with mtls.mode: STRICT to the namespace (platform team render writes it), or a mesh-wide one in istio-system.",
  },
  {
    id: "PLAT020",
    name: "mesh-default-deny",
    title: "Team namespaces deny traffic by default",
    severity: "error",
    enforces: "default-deny traffic with explicit allows",
    scope: "object",
    kinds: ["Namespace"],
    // With `mesh: cilium` the default-deny is a namespace-wide CiliumNetworkPolicy or NetworkPolicy instead.
    expression: `cel.bind(f, render.namespaces[?object.metadata.name].orValue({'defaultDeny': '', 'defaultDenyNetwork': ''}), !${TEAM_NAMESPACE} || (params.mesh == 'cilium' ? f.defaultDenyNetwork : f.defaultDeny) != '')`,
    messageExpression:
      "'Namespace \"' + object.metadata.name + '\" has no default-deny ' + (params.mesh == 'cilium' ? 'CiliumNetworkPolicy or NetworkPolicy (endpointSelector/podSelector {}, no ingress peers)' : 'AuthorizationPolicy (namespace-wide, `spec: {}`)') + ' in the render'",
    fields: ["metadata.name"],
    fix: "Add an AuthorizationPolicy with `spec: {}` (allow-nothing) to the namespace (with mesh: cilium, a CiliumNetworkPolicy with endpointSelector: {} and ingress: [{}]), then one ALLOW per declared caller; platform team render writes them.",
  },
  {
    id: "PLAT021",
    name: "authz-no-allow-all",
    title: "AuthorizationPolicies do not allow any caller",
    severity: "error",
    enforces: "default-deny traffic with explicit allows",
    scope: "object",
    kinds: ["AuthorizationPolicy"],
    // A rule's `from` entries are alternatives: one entry that does not constrain the caller (or no `from`)
    // lets any caller in, whatever `to` and `when` say.
    expression: `!${IS_ALLOW} || object.?spec.?rules.orValue([]).all(r, r.?from.orValue([]).size() > 0 && r.from.all(f, cel.bind(src, f.?source.orValue({}), ${SOURCE_CONSTRAINS})))`,
    messageExpression:
      "'AuthorizationPolicy \"' + object.metadata.name + '\" allows any caller (an ALLOW rule without a `from`, or with a source that names no principal, namespace or IP block)'",
    fields: ["spec.rules"],
    fix: "Name the callers in each ALLOW rule: from.source.principals: [cluster.local/ns/<ns>/sa/<serviceaccount>].",
  },
  {
    id: "PLAT022",
    name: "authz-cross-namespace",
    title: "AuthorizationPolicies allow other namespaces only for declared callers",
    severity: "warning",
    enforces: "default-deny traffic with explicit allows",
    scope: "object",
    kinds: ["AuthorizationPolicy"],
    // A principal in another namespace passes when platform.yaml declares it (params.declaredCallers, from
    // `calledBy` and exposed services); `namespaces` from elsewhere (any account there) are always reported.
    expression: `!${IS_ALLOW} || object.?spec.?rules.orValue([]).all(r, r.?from.orValue([]).all(f, f.?source.?principals.orValue([]).all(p, !${UNDECLARED_PRINCIPAL}) && f.?source.?namespaces.orValue([]).all(n, n == request.namespace)))`,
    messageExpression: `'AuthorizationPolicy "' + object.metadata.name + '" allows undeclared callers outside namespace ' + request.namespace + ': ' + object.spec.rules.map(r, r.?from.orValue([]).map(f, (f.?source.?principals.orValue([]).filter(p, ${UNDECLARED_PRINCIPAL}) + f.?source.?namespaces.orValue([]).filter(n, n != request.namespace)).join(', ')).filter(x, x != '').join(', ')).filter(x, x != '').join(', ')`,
    fields: ["spec.rules"],
    fix: "Declare the caller in platform.yaml (teams[].services[].calledBy) and let platform team render write the ALLOW, or waive this finding with the reason.",
  },
  {
    id: "PLAT023",
    name: "mesh-no-permissive-mtls",
    title: "No PERMISSIVE or DISABLE mTLS",
    severity: "error",
    enforces: "all traffic inside the mesh is mutual TLS",
    scope: "object",
    kinds: ["PeerAuthentication"],
    // Istio's mode enum is case-sensitive (the CRD refuses `strict`), so only STRICT and UNSET (inherit) pass.
    expression: `object.?spec.?mtls.?mode.orValue('UNSET') in ${MTLS_OK} && object.?spec.?portLevelMtls.orValue({}).all(port, object.spec.portLevelMtls[port].?mode.orValue('UNSET') in ${MTLS_OK})`,
    messageExpression: `'PeerAuthentication "' + object.metadata.name + '" sets mTLS mode ' + (object.?spec.?mtls.?mode.orValue('UNSET') in ${MTLS_OK} ? object.spec.portLevelMtls.filter(port, !(object.spec.portLevelMtls[port].?mode.orValue('UNSET') in ${MTLS_OK})).map(port, object.spec.portLevelMtls[port].mode + ' on port ' + port).join(', ') : object.spec.mtls.mode)`,
    fields: ["spec.mtls.mode", "spec.portLevelMtls", "spec"],
    fix: "Set mtls.mode: STRICT (exactly, upper case) and remove PERMISSIVE/DISABLE portLevelMtls; migrate plaintext callers into the mesh first.",
  },
  {
    id: "PLAT024",
    name: "namespace-quota",
    title: "Workloads run only in namespaces with a ResourceQuota",
    severity: "error",
    enforces: "every team runs within its quota",
    scope: "object",
    kinds: ["Namespace"],
    // Judged on the Namespace: a render without the workloads' Namespace object has no row for this rule (it
    // cannot know the cluster's quotas), never a pass.
    expression:
      "cel.bind(f, render.namespaces[?object.metadata.name].orValue({'workloads': [], 'quotas': []}), f.workloads.size() == 0 || f.quotas.size() > 0)",
    messageExpression:
      "cel.bind(w, render.namespaces[object.metadata.name].workloads, 'Namespace \"' + object.metadata.name + '\" has no ResourceQuota in the render but runs ' + (w.size() <= 3 ? w.join(', ') : w.slice(0, 3).join(', ') + ' and ' + string(w.size() - 3) + ' more'))",
    fields: ["metadata.name"],
    fix: "Add a ResourceQuota to the namespace (platform.yaml teams[].quotas; platform team render writes it).",
  },
  {
    id: "PLAT025",
    name: "no-token-automount",
    title: "ServiceAccount tokens are not automounted",
    severity: "warning",
    enforces: "least privilege: a pod gets a Kubernetes API token only when it needs one",
    scope: "pod",
    // The pod's field wins over its ServiceAccount's (Kubernetes' rule); unset on both means mounted. A pod that
    // needs the API sets it true and carries a waiver; workload identity does not need it (the webhook projects
    // its own token).
    expression:
      "podSpec.?automountServiceAccountToken.orValue(cel.bind(key, request.namespace + '/' + podSpec.?serviceAccountName.orValue('default'), key in serviceAccounts ? serviceAccounts[key].?automountServiceAccountToken.orValue(true) : true)) == false",
    messageExpression:
      "podSpec.?automountServiceAccountToken.orValue(false) == true ? 'pod sets automountServiceAccountToken: true' : 'pod mounts a ServiceAccount token: neither the pod nor ServiceAccount \"' + podSpec.?serviceAccountName.orValue('default') + '\" sets automountServiceAccountToken: false'",
    fields: ["automountServiceAccountToken", "serviceAccountName"],
    fix: "Set automountServiceAccountToken: false on the ServiceAccount or the pod spec; waive the finding for a pod that calls the Kubernetes API.",
  },
  {
    id: "PLAT026",
    name: "no-credential-values-in-secrets",
    title: "No credential values committed in Secret objects",
    severity: "error",
    enforces: "no stored secrets: credentials come from Key Vault through workload identity",
    scope: "object",
    kinds: ["Secret"],
    // PLAT014 judges key names and stays enforceable at admission; this one reads the values (stringData as
    // written, data base64-decoded), which Kubernetes CEL cannot decode.
    expression: `(params.teamNamespaces.size() > 0 && !(request.namespace in params.teamNamespaces)) || object.?type.orValue('Opaque') in ['kubernetes.io/service-account-token', 'kubernetes.io/tls'] || !((request.namespace + '/' + object.metadata.name) in render.secretCredentials)`,
    messageExpression:
      "'Secret holds credential-looking value(s): ' + render.secretCredentials[request.namespace + '/' + object.metadata.name].join(', ')",
    fields: ["stringData", "data"],
    fix: "Store the credential in Key Vault and read it with workload identity (Secrets Store CSI driver); never commit it.",
  },
];

// Edge cases where our built-in rules and the gatekeeper-library templates differ BY DESIGN (or by a
// quirk of the library). They are kept out of the timed, generated set so that set must agree 100%;
// here each is run through both engines on every bench run, so the documented difference is evidence,
// not an assumption, and a change on either side shows up as "undocumented".
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";

const D = `sha256:${"ab".repeat(32)}`;
const IMG = `acrplatform.azurecr.io/orders/api@${D}`;
const sc = () => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
});
const res = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

function pod(name, container = {}, spec = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "team-a" },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      ...spec,
      containers: [{ name: "app", image: IMG, securityContext: sc(), resources: res, ...container }],
    },
  };
}

/** Each probe: the object, which categories each engine is expected to flag, and why they differ. */
export const PROBES = [
  {
    obj: pod("short-digest", { image: "acrplatform.azurecr.io/orders/api@sha256:abc" }),
    ours: ["digest"],
    gator: [],
    why: "PLAT002 requires a well-formed digest (>= 32 hex chars) in a valid reference; K8sImageDigests accepts any '@alg:x' substring.",
  },
  {
    obj: pod("invalid-reference", { image: `acrplatform.azurecr.io/Orders/API@${D}` }),
    ours: ["digest"],
    gator: [],
    why: "Repository paths must be lower-case; PLAT002 refuses an invalid reference, the library does not parse references.",
  },
  {
    obj: pod("uppercase-host", { image: `ACRPLATFORM.azurecr.io/orders/api@${D}` }),
    ours: [],
    gator: ["registry"],
    why: "Registry hosts are case-insensitive; PLAT001 lower-cases them, K8sAllowedRepos is a case-sensitive string prefix.",
  },
  {
    obj: pod("drop-lowercase-all", { securityContext: { ...sc(), capabilities: { drop: ["all"] } } }),
    ours: ["capabilities"],
    gator: [],
    why: "PLAT006 wants exactly 'ALL', as the restricted Pod Security Standard spells it; the library's CEL code lower-cases the drop list.",
  },
  {
    obj: pod("two-ports-one-hostport", {
      ports: [{ containerPort: 8080 }, { containerPort: 9090, hostPort: 9090 }],
    }),
    ours: ["host-port"],
    gator: [],
    why: "The library's CEL code (run by gator) flags a container only if ALL its ports have an out-of-range hostPort; its Rego code and PLAT011 flag any.",
  },
  {
    obj: pod(
      "ephemeral-writable-root",
      {},
      {
        ephemeralContainers: [
          {
            name: "debug",
            image: IMG,
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          },
        ],
      },
    ),
    ours: [],
    gator: ["read-only-root-fs"],
    why: "PLAT007 (and PLAT008/011) skip ephemeral debug containers; the library judges them too.",
  },
  {
    obj: pod("seccomp-profile-without-type", { securityContext: { ...sc(), seccompProfile: {} } }),
    ours: ["seccomp"],
    gator: ["seccomp"],
    why: "Invalid (the API server requires seccompProfile.type). PLAT012 judges the container's own (typeless) profile; the library's CEL errors, and failurePolicy Fail makes that a violation.",
  },
  {
    obj: pod(
      "runasuser-as-string",
      { securityContext: { ...sc(), runAsUser: "0" } },
      { securityContext: { seccompProfile: { type: "RuntimeDefault" } } },
    ),
    ours: [],
    oursError: ["run-as-non-root"],
    gator: [],
    why: 'Invalid (runAsUser is an integer). PLAT003 returns an error verdict (blocks in enforce mode); the library\'s Rego compares "0" != 0 and lets it pass.',
  },
];

/** Writes the probe objects to `dir`/probes.yaml. */
export function writeProbes(dir) {
  writeFileSync(
    join(dir, "probes.yaml"),
    PROBES.map((p) => stringify(p.obj, { aliasDuplicateObjects: false })).join("---\n"),
  );
}

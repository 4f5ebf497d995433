// A generated GitOps config repo: N services × 3 environments. Most services are kustomize (base +
// overlays/<env>/kustomization.yaml with an `images:` entry for the service and one for the shared
// otel-agent sidecar); every tenth is a Helm service (values-<env>.yaml with an image map and the agent
// as an image string). Files vary the way real repos do: comments, quoting, CRLF, a missing final newline.
import { createHash } from "node:crypto";

export const ENVS = ["dev", "staging", "prod"];
export const REGISTRY = "northwindacr.azurecr.io";
export const AGENT = `${REGISTRY}/platform/otel-agent`;

export const digestOf = (seed) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;
export const serviceName = (i) => `svc-${String(i).padStart(4, "0")}`;
export const teamOf = (i) => `team-${String(i % 20).padStart(2, "0")}`;
export const imageOf = (i) => `${REGISTRY}/${teamOf(i)}/${serviceName(i)}`;
export const isHelm = (i) => i % 10 === 9;

/** path → text for the whole repo, and the list of service images by kind. */
export function generateRepo(services) {
  const files = new Map();
  const agentDigest = digestOf("otel-agent-0.98.0");
  for (let i = 0; i < services; i++) {
    const name = serviceName(i);
    const image = imageOf(i);
    const dir = `services/${teamOf(i)}/${name}`;
    const tagQuote = i % 3 === 0 ? '"' : i % 3 === 1 ? "'" : "";
    ENVS.forEach((env, e) => {
      const d = digestOf(`${name}-${env}`);
      const eol = (i + e) % 7 === 0 ? "\r\n" : "\n";
      const finalNewline = (i + e) % 11 !== 0;
      let lines;
      let path;
      if (isHelm(i)) {
        path = `${dir}/helm/values-${env}.yaml`;
        lines = [
          `# ${name} (${teamOf(i)}) — ${env}`,
          `replicaCount: ${env === "prod" ? 3 : 1}`,
          "resources: &resources",
          "  requests: {cpu: 100m, memory: 128Mi}",
          "image:",
          `  registry: ${REGISTRY}`,
          `  repository: ${teamOf(i)}/${name}   # built by ${name}-ci`,
          `  tag: ${tagQuote}1.${i % 9}.${e}${tagQuote}`,
          `  digest: ${tagQuote}${d}${tagQuote}`,
          "  pullPolicy: IfNotPresent",
          "sidecars:",
          "  otel:",
          `    image: "${AGENT}:0.98.0@${agentDigest}"`,
          "    resources: *resources",
        ];
      } else {
        path = `${dir}/overlays/${env}/kustomization.yaml`;
        lines = [
          `# ${name} — ${env} overlay (owned by ${teamOf(i)})`,
          "apiVersion: kustomize.config.k8s.io/v1beta1",
          "kind: Kustomization",
          `namespace: ${teamOf(i)}-${env}`,
          "resources:",
          "  - ../../base",
          "labels:",
          "  - pairs:",
          `      app.kubernetes.io/part-of: ${teamOf(i)}`,
          "images:",
          `  - name: ${name} # the service`,
          `    newName: ${image}`,
          `    newTag: ${tagQuote}1.${i % 9}.${e}${tagQuote}`,
          `    digest: ${d}`,
          "  - name: otel-agent",
          `    newName: ${AGENT}`,
          "    newTag: 0.98.0",
          `    digest: ${agentDigest}`,
        ];
      }
      files.set(path, lines.join(eol) + (finalNewline ? eol : ""));
    });
    if (!isHelm(i)) {
      files.set(
        `${dir}/base/kustomization.yaml`,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n",
      );
      files.set(
        `${dir}/base/deployment.yaml`,
        [
          "apiVersion: apps/v1",
          "kind: Deployment",
          "metadata:",
          `  name: ${name}`,
          "spec:",
          "  selector:",
          `    matchLabels: {app: ${name}}`,
          "  template:",
          "    metadata:",
          `      labels: {app: ${name}}`,
          "    spec:",
          "      containers:",
          `        - name: ${name}`,
          `          image: ${name}`,
          "        - name: otel-agent",
          "          image: otel-agent",
          "",
        ].join("\n"),
      );
    }
  }
  return { files, agentDigest };
}

import { parseManifestStream } from "@platform/core";
import { describe, expect, it } from "vitest";
import { checkTyped, fieldPath, isBuiltinGroup, isBuiltinKind, TYPED_SCHEMA_VERSION } from "./schema.ts";

const decode = (text: string) =>
  parseManifestStream(text, "m.yaml").docs[0]!.value as Record<string, unknown>;
const issues = (text: string) => checkTyped(decode(text)).issues.map((i) => `${i.kind} ${fieldPath(i.path)}`);

const pod = (container: string, spec = "") =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${spec}  containers:\n    - name: app\n      image: nginx\n${container}`;

describe("typed, strict decoding of built-in kinds", () => {
  it("knows the built-in kinds of the generated release, and no custom resources", () => {
    expect(TYPED_SCHEMA_VERSION).toMatch(/^v1\.\d+\.\d+$/);
    for (const k of [
      "v1/Pod",
      "apps/v1/Deployment",
      "batch/v1/CronJob",
      "networking.k8s.io/v1/NetworkPolicy",
    ]) {
      const [kind, ...gv] = k.split("/").reverse();
      expect(isBuiltinKind(gv.reverse().join("/"), kind!), k).toBe(true);
    }
    expect(checkTyped({ apiVersion: "example.com/v1", kind: "Widget", anything: 1 })).toEqual({
      known: false,
      issues: [],
    });
    expect(isBuiltinGroup("flowcontrol.apiserver.k8s.io/v1beta3")).toBe(true);
    expect(isBuiltinGroup("example.com/v1")).toBe(false);
  });

  it("reports unknown fields at every depth with the server's path spelling, case-sensitively", () => {
    expect(issues(pod("      securityContxt: {}\n      Image: x\n", "  hostNetwrok: true\n"))).toEqual([
      "unknown-field spec.hostNetwrok",
      "unknown-field spec.containers[0].securityContxt",
      "unknown-field spec.containers[0].Image",
    ]);
    expect(checkTyped(decode(pod("      securityContxt: {}\n"))).issues[0]!.message).toBe(
      'unknown field "spec.containers[0].securityContxt"',
    );
  });

  it("refuses a value whose JSON type the Go field cannot take", () => {
    expect(issues(pod('      securityContext: {privileged: "yes", runAsUser: 1.5}\n'))).toEqual([
      "type spec.containers[0].securityContext.privileged",
      "type spec.containers[0].securityContext.runAsUser",
    ]);
    expect(issues(pod("      ports: [{containerPort: '80'}, {containerPort: 4294967296}]\n"))).toEqual([
      "type spec.containers[0].ports[0].containerPort",
      "type spec.containers[0].ports[1].containerPort",
    ]);
    expect(
      issues("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {v: 1}}\ndata: {a: yes}\n"),
    ).toEqual(["type metadata.labels.v", "type data.a"]);
  });

  it("accepts what the server accepts: go-yaml booleans, integral floats, int-or-string, quantities, nulls", () => {
    expect(
      issues(
        pod(
          "      securityContext: {privileged: yes, runAsUser: 1000.0}\n      resources: {limits: {cpu: 0.5, memory: 128Mi}}\n      ports: ~\n",
          "  hostNetwork: on\n",
        ),
      ),
    ).toEqual([]);
    expect(
      issues(
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {minAvailable: 50%, maxUnavailable: 1}\n",
      ),
    ).toEqual([]);
  });

  it("checks quantities, RFC 3339 times and base64 bytes as their Go decoders do", () => {
    expect(issues(pod("      resources: {limits: {cpu: lots, memory: yes}}\n"))).toEqual([
      "type spec.containers[0].resources.limits.cpu",
      "type spec.containers[0].resources.limits.memory",
    ]);
    expect(
      issues(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, creationTimestamp: 2024-01-01}\ndata: {k: 'not*b64'}\n",
      ),
    ).toEqual(["type metadata.creationTimestamp", "type data.k"]);
    expect(
      issues(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, creationTimestamp: '2024-01-01T00:00:00Z'}\ndata: {k: aGk=}\n",
      ),
    ).toEqual([]);
  });

  it("checks a custom resource's metadata, as the server decodes every object's ObjectMeta strictly", () => {
    const cr = (meta: string) =>
      `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, ${meta}}\nspec: {anything: 1}\n`;
    expect(checkTyped(decode(cr("labelz: {}"))).known).toBe(false);
    expect(issues(cr("labelz: {}"))).toEqual(["unknown-field metadata.labelz"]);
    expect(issues(cr("labels: {v: 2}"))).toEqual(["type metadata.labels.v"]);
    expect(issues(cr("labels: {v: '2'}"))).toEqual([]);
  });
});

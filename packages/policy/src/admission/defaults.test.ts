import { describe, expect, it } from "vitest";
import type { KubeObject } from "../types.ts";
import { admittedObject } from "./defaults.ts";

// biome-ignore lint/suspicious/noExplicitAny: the defaulted shape is probed field by field
type Container = Record<string, any>;

const pod = (spec: Record<string, unknown>): KubeObject =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "n" }, spec }) as KubeObject;

describe("admittedObject (what the apiserver hands admission, k8s v1.32 defaults)", () => {
  it("drops explicit nulls and leaves the input untouched", () => {
    const input = pod({ securityContext: null, containers: [{ name: "a", image: "x:1", resources: null }] });
    const out = admittedObject(input) as unknown as {
      spec: { securityContext: unknown; containers: Array<Record<string, unknown>> };
    };
    expect(out.spec.securityContext).toEqual({});
    // A struct field: always written, empty when the manifest has none.
    expect(out.spec.containers[0]!.resources).toEqual({});
    expect((input.spec as Record<string, unknown>).securityContext).toBeNull();
  });

  it("Pods: requests default to limits, hostNetwork ports become host ports; templates get neither", () => {
    const spec = {
      hostNetwork: true,
      containers: [
        {
          name: "a",
          image: "x",
          ports: [{ containerPort: 80 }],
          resources: { limits: { cpu: 1, memory: "1Gi" }, requests: { cpu: "100m" } },
        },
      ],
    };
    const c = (
      admittedObject(pod(structuredClone(spec))) as unknown as {
        spec: { containers: Array<Container> };
      }
    ).spec.containers[0]!;
    expect(c.resources.requests).toEqual({ cpu: "100m", memory: "1Gi" });
    expect(c.resources.limits.cpu).toBe("1");
    const q = admittedObject(
      pod({
        containers: [
          {
            name: "a",
            image: "x",
            resources: { requests: { cpu: "0.5", memory: "1.5Gi" }, limits: { memory: 1048576, cpu: "bad" } },
          },
        ],
      }),
    );
    expect((q as unknown as { spec: { containers: Container[] } }).spec.containers[0]!.resources).toEqual({
      requests: { cpu: "500m", memory: "1536Mi" },
      limits: { memory: "1048576", cpu: "bad" },
    });
    expect(c.ports).toEqual([{ containerPort: 80, hostPort: 80, protocol: "TCP" }]);
    expect(c.imagePullPolicy).toBe("Always");
    const deploy = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: { template: { spec: structuredClone(spec) } },
    } as KubeObject;
    const out = admittedObject(deploy) as unknown as {
      spec: { replicas: number; template: { spec: { containers: Array<Container> } } };
    };
    expect(out.spec.replicas).toBe(1);
    const t = out.spec.template.spec.containers[0]!;
    expect(t.resources.requests).toEqual({ cpu: "100m" });
    expect(t.ports[0].hostPort).toBeUndefined();
  });

  it("imagePullPolicy follows the tag: latest or none → Always, a tag or a digest → IfNotPresent", () => {
    const policy = (image: string) =>
      (
        admittedObject(pod({ containers: [{ name: "a", image }] })) as unknown as {
          spec: { containers: Array<{ imagePullPolicy: string }> };
        }
      ).spec.containers[0]!.imagePullPolicy;
    expect(policy("nginx")).toBe("Always");
    expect(policy("nginx:latest")).toBe("Always");
    expect(policy("localhost:5000/nginx")).toBe("Always");
    expect(policy("nginx:1.2")).toBe("IfNotPresent");
    expect(policy(`nginx@sha256:${"a".repeat(64)}`)).toBe("IfNotPresent");
  });

  it("Secrets: stringData is merged into data (base64), Namespaces carry kubernetes.io/metadata.name", () => {
    const s = admittedObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { a: "eA==" },
      stringData: { b: "y" },
    } as KubeObject) as unknown as Record<string, unknown>;
    expect(s).toMatchObject({ type: "Opaque", data: { a: "eA==", b: "eQ==" } });
    expect("stringData" in s).toBe(false);
    const ns = admittedObject({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop", labels: { env: "prod", "kubernetes.io/metadata.name": "other" } },
    } as KubeObject);
    expect(ns.metadata.labels).toEqual({ env: "prod", "kubernetes.io/metadata.name": "shop" });
  });

  // Each of these the real kube-apiserver does (test/conformance/apiserver-defaults.itg.test.ts: 845 objects agree).
  it("controllers get the apps/v1 and batch/v1 defaults admission policies read (issue 19)", () => {
    const tpl = { spec: { containers: [{ name: "a", image: "x:1" }] } };
    const d = admittedObject({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: { template: tpl },
    }) as unknown as Container;
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" },
    });
    expect([d.spec.revisionHistoryLimit, d.spec.progressDeadlineSeconds]).toEqual([10, 600]);
    const j = admittedObject({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j" },
      spec: { template: tpl },
    }) as unknown as Container;
    expect([j.spec.completions, j.spec.parallelism, j.spec.backoffLimit, j.spec.completionMode]).toEqual([
      1,
      1,
      6,
      "NonIndexed",
    ]);
    expect(j.spec.template.metadata.labels).toEqual({ "batch.kubernetes.io/job-name": "j", "job-name": "j" });
    const c = admittedObject({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c" },
      spec: { schedule: "* * * * *", jobTemplate: { spec: { template: tpl } } },
    }) as unknown as Container;
    expect([
      c.spec.concurrencyPolicy,
      c.spec.suspend,
      c.spec.successfulJobsHistoryLimit,
      c.spec.failedJobsHistoryLimit,
    ]).toEqual(["Allow", false, 3, 1]);
  });

  it("Pods pass the mutating admission plugins; probes, volumes and omitempty fields as the server writes them", () => {
    const out = admittedObject(
      pod({
        hostNetwork: false,
        volumes: [{ name: "s", secret: { secretName: "s" } }],
        containers: [
          {
            name: "a",
            image: "x:1",
            ports: [{ containerPort: 80, hostPort: 0 }],
            livenessProbe: { httpGet: { port: 80 } },
            securityContext: { procMount: "Unmasked", capabilities: { add: [] } },
          },
        ],
      }),
    ) as unknown as Container;
    const c = out.spec.containers[0];
    expect(out.spec.hostNetwork).toBeUndefined();
    expect(c.ports).toEqual([{ containerPort: 80, protocol: "TCP" }]);
    expect(c.livenessProbe).toEqual({
      httpGet: { port: 80, scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    // ProcMountType is off in 1.32: the server writes Default, so PSA baseline admits the pod.
    expect(c.securityContext).toEqual({ procMount: "Default", capabilities: {} });
    expect(out.spec.serviceAccountName).toBe("default");
    expect(out.spec.volumes.map((v: { name: string }) => v.name)).toEqual(["s", "kube-api-access-00000"]);
    expect(out.spec.volumes[0].secret.defaultMode).toBe(420);
    expect(c.volumeMounts).toEqual([
      {
        name: "kube-api-access-00000",
        readOnly: true,
        mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
      },
    ]);
    expect(out.spec.tolerations.map((t: { key: string }) => t.key)).toEqual([
      "node.kubernetes.io/not-ready",
      "node.kubernetes.io/unreachable",
    ]);
    expect([out.spec.priority, out.spec.preemptionPolicy]).toEqual([0, "PreemptLowerPriority"]);
  });
});

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
});

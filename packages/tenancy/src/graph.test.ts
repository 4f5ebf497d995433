import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allowedCalls, workloadIdentities } from "./graph.ts";
import { renderTeams } from "./render.ts";
import { parseTeamsConfig, qualify } from "./validate.ts";

const FILE = join(import.meta.dirname, "../../../examples/northwind/platform.yaml");
const northwind = async () => parseTeamsConfig(await readFile(FILE, "utf8"), FILE);
const name = (e: { team: string; service: string } | { gateway: true }) =>
  "gateway" in e ? "gateway" : `${e.team}/${e.service}`;

describe("allowedCalls and workloadIdentities (read back from the render)", () => {
  it("the rendered ALLOW policies give exactly platform.yaml's calledBy edges plus the Gateway's, on both meshes", async () => {
    const config = await northwind();
    const declared = config.teams
      .flatMap((t) =>
        t.services.flatMap((s) => [
          ...s.calledBy.map((c) => `${qualify(t.name, c)} → ${t.name}/${s.name}`),
          ...(s.expose ? [`gateway → ${t.name}/${s.name}`] : []),
        ]),
      )
      .sort();
    for (const mesh of ["istio", "cilium"] as const) {
      const render = renderTeams({ ...config, tenancy: { ...config.tenancy!, mesh } });
      const edges = allowedCalls(config, render).map((c) => `${name(c.from)} → ${name(c.to)}`);
      expect(edges.sort(), mesh).toEqual(declared);
    }
    expect(declared).toContain("storefront/web → orders/api");
    expect(declared.filter((e) => e.startsWith("gateway"))).toHaveLength(3);
  });

  it("an ALLOW the render does not hold is not in the graph (read from the files, not the config)", async () => {
    const config = await northwind();
    const render = renderTeams(config);
    const files = new Map(render.files);
    files.set("orders/api.yaml", files.get("orders/api.yaml")!.replace("sa/web", "sa/nobody"));
    const edges = allowedCalls(config, { ...render, files }).map((c) => `${name(c.from)} → ${name(c.to)}`);
    expect(edges).not.toContain("storefront/web → orders/api");
    expect(edges).toContain("storefront/nobody → orders/api");
  });

  it("one federated identity per service, least-privilege roles", async () => {
    const ids = workloadIdentities(renderTeams(await northwind()));
    expect(ids).toHaveLength(28);
    const api = ids.find((i) => i.name === "id-orders-api")!;
    expect(api).toMatchObject({ team: "orders", subject: "system:serviceaccount:orders:api" });
    expect(api.roles.sort()).toEqual(["Azure Service Bus Data Sender", "Key Vault Secrets User"]);
    expect(workloadIdentities({ files: new Map(), notes: [] })).toEqual([]);
  });
});

// Registry faults through the bundled build-scan action, against a REAL docker-registry 2.8 with token auth
// (its Bearer challenge names the ACR-shaped token service of test/oci/acr-fake.ts): a run without a
// registry identity is refused with the denied scope and the role that grants it, and nothing is pushed,
// tagged or promoted. Unreadable and malformed reports are input errors at file:line.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { type AcrTokenFake, startAcrTokenFake } from "../oci/acr-fake.ts";
import { requirePeers } from "../peers/index.ts";

const SERVICE = "buildscan.azurecr.io";
const buildah = requirePeers("buildah");

describe.skipIf(!requireRegistry("distribution").ok || !buildah.ok)(
  "build-scan registry and report errors",
  () => {
    let acr: AcrTokenFake;
    let reg: RunningRegistry;
    let open: RunningRegistry;
    let ws: string;

    beforeAll(async () => {
      acr = await startAcrTokenFake({ service: SERVICE, acceptAadToken: () => undefined, roles: () => [] });
      [reg, open] = await Promise.all([
        startRegistry("distribution", {
          auth: {
            realm: acr.realm,
            service: SERVICE,
            issuer: acr.issuer,
            certificatePem: acr.certificatePem,
          },
        }),
        startRegistry("distribution"),
      ]);
      ws = await mkdtemp(join(tmpdir(), "build-scan-errors-"));
      await mkdir(join(ws, "ctx"));
      await writeFile(join(ws, "ctx", "hello.txt"), "hello\n");
      await writeFile(join(ws, "ctx", "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
      await writeFile(
        join(ws, "broken.json"),
        '{\n  "SchemaVersion": 2,\n  "Results": [\n    { "Target": "x" }\n  ,]\n}\n',
      );
    });
    // After every test: the fake saw nothing its spec does not describe (cleared so a failure names its test).
    afterEach(() => expect(acr?.mismatches.splice(0)).toEqual([]));
    afterAll(async () => {
      await Promise.all([reg?.stop(), open?.stop(), acr?.close()]);
      if (ws) await rm(ws, { recursive: true, force: true });
    });

    const action = (inputs: Record<string, string>) =>
      runBundledAction("build-scan", { context: "ctx", builder: "buildah", ...inputs }, { workspace: ws });

    it("a registry that refuses the push names the scope and the role; nothing is pushed or promoted", async () => {
      const r = await action({
        image: `${reg.host}/team/app`,
        "scan-report": "broken.json",
        "promote-to": `${reg.host}/trusted/app`,
        tags: "v1",
      });
      expect(r.code).toBe(1);
      const err = r.annotations.find((a) => a.level === "error")!;
      expect(err.title).toMatch(/^OCI_(UNAUTHORIZED|DENIED)$/);
      expect(err.message).toContain("repository:team/app:pull,push");
      expect(r.stdout).toMatch(/hint: .*AcrPush/);
      expect(r.outputs.digest).toBeUndefined();
      const tags = await fetch(`${reg.url}/v2/team/app/tags/list`);
      expect(tags.status).toBe(401);
      // The client asked ACR's token service (without an identity: the anonymous token route), as the spec has it.
      expect(acr.requests.map((q) => `${q.operationId} ${q.status}`)).toContain(
        "Authentication_GetAcrAccessTokenFromLogin 401",
      );
      expect(acr.mismatches).toEqual([]);
    });

    it("a malformed report is an input error at file:line, after the push and before any tag or promotion", async () => {
      const r = await action({
        image: `${open.host}/team/app`,
        "scan-report": "broken.json",
        "promote-to": `${open.host}/trusted/app`,
        tags: "v1",
      });
      expect(r.code).toBe(1);
      expect(r.annotations.find((a) => a.title === "SCAN_REPORT_INVALID")).toMatchObject({
        file: "broken.json",
        line: 5,
      });
      const missing = await action({
        image: `${open.host}/team/app`,
        "scan-report": "nope.json",
        tags: "v1",
      });
      expect(missing.annotations.find((a) => a.title === "SCAN_REPORT_UNREADABLE")?.message).toContain(
        "nope.json",
      );
      for (const path of ["team/app/tags/list", "trusted/app/tags/list"]) {
        const res = await fetch(`${open.url}/v2/${path}`);
        const tags = res.ok ? ((await res.json()) as { tags?: string[] | null }).tags : undefined;
        expect(tags ?? []).toEqual([]);
      }
    });
  },
);

// scanner: defender in the bundled action, end to end: the job's GitHub OIDC token (fake) is exchanged at
// Entra (fake) through core's credential, the real @azure/arm-resourcegraph client queries the swagger-checked
// ARM fake for the pushed digest (documented MDVM rows), and the gate decides on Defender's findings. The
// image is pushed by digest to a real registry (olareg); an unscanned digest is never promoted.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyImage, RegistryClient } from "@platform/oci";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArmFake, SPECS_ROOT, startArmFake } from "../fakes/arm/index.ts";
import { type EntraFake, type GitHubOidcFake, startEntraFake, startGitHubOidcFake } from "../fakes/entra.ts";
import { expectNoLeaks } from "../harness/leaks.ts";
import { type RunningRegistry, requireRegistry, startRegistry } from "../harness/registry.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { pushImage, randomImage } from "../oci/images.ts";
import { mdvmRow, queriedDigest, RG_SPEC, SEC_SPEC, SUB } from "./defender-rows.ts";

describe.skipIf(!requireRegistry("olareg").ok)("build-scan with scanner: defender (bundled action)", () => {
  let registry: RunningRegistry;
  let github: GitHubOidcFake;
  let entra: EntraFake;
  let arm: ArmFake;
  let ws: string;
  /** Digests Defender "has scanned". */
  const scanned = new Set<string>();

  beforeAll(async () => {
    registry = await startRegistry("olareg");
    github = await startGitHubOidcFake();
    entra = await startEntraFake({ trust: github });
    arm = await startArmFake({
      specs: [RG_SPEC, SEC_SPEC],
      routes: {
        Resources: (req) => {
          const digest = queriedDigest(req.body);
          const data =
            digest && scanned.has(digest)
              ? [
                  mdvmRow(1, digest, {
                    id: "CVE-2024-6387",
                    pkg: "openssh-server",
                    version: "1:9.2p1-2",
                    fixed: "1:9.2p1-2+deb12u3",
                    severity: "High",
                    category: "OS",
                  }),
                  mdvmRow(2, digest, {
                    id: "CVE-2023-4911",
                    pkg: "libc6",
                    version: "2.36-9",
                    fixed: "",
                    severity: "High",
                    category: "OS",
                  }),
                  mdvmRow(3, digest, {
                    id: "CVE-2024-2511",
                    pkg: "libssl3",
                    version: "3.0.11-1",
                    fixed: "3.0.14-1",
                    severity: "Low",
                    category: "OS",
                  }),
                ]
              : [];
          // Resource Graph's data is untyped in its spec: each row is held to the sub-assessment definition.
          for (const row of data)
            arm.mismatches.push(
              ...arm.catalog.validateDefinition(join(SPECS_ROOT, SEC_SPEC), "SecuritySubAssessment", row),
            );
          return {
            status: 200,
            body: { totalRecords: data.length, count: data.length, resultTruncated: "false", data },
          };
        },
      },
    });
    ws = await mkdtemp(join(tmpdir(), "defender-action-"));
    await writeFile(join(ws, "ca.pem"), `${entra.ca}\n${arm.ca}\n`);
    // The image: a layout made from an in-memory image pushed to a staging repository.
    const client = new RegistryClient();
    const img = randomImage([400]);
    await pushImage(client, { registry: registry.host, repository: "staging/app" }, img);
    await copyImage(
      `${registry.host}/staging/app@${img.descriptor.digest}`,
      { layout: join(ws, "image"), reference: "app" },
      { client },
    );
    scanned.add(img.descriptor.digest);
  });
  // After every test: the fake saw nothing its spec does not describe (cleared so a failure names its test).
  afterEach(() => expect(arm?.mismatches.splice(0)).toEqual([]));
  afterAll(async () => {
    await Promise.all([registry?.stop(), arm?.close(), entra?.close(), github?.close()]);
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  /** Runs the bundled action; none of the sign-in secrets may show in its log, summary or outputs. */
  const run = async (inputs: Record<string, string>) => {
    const r = await runBundledAction(
      "build-scan",
      {
        from: "image",
        image: `${registry.host}/quarantine/app`,
        scanner: "defender",
        subscription: SUB,
        ...inputs,
      },
      {
        workspace: ws,
        env: {
          ...github.env,
          AZURE_TENANT_ID: "4f1c2d3e-0000-4000-8000-00000000d3f0",
          AZURE_CLIENT_ID: "9a8b7c6d-0000-4000-8000-00000000d3f0",
          AZURE_AUTHORITY_HOST: entra.url,
          PLATFORM_ARM_ENDPOINT: arm.url,
          NODE_EXTRA_CA_CERTS: join(ws, "ca.pem"),
        },
      },
    );
    expectNoLeaks(r, [
      github.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
      ...github.minted.map((m) => m.token),
      ...entra.issued.map((i) => i.accessToken),
    ]);
    return r;
  };

  it("signs in with the job's OIDC token, reads Defender's findings for the digest and gates on them", async () => {
    const failing = await run({ "fail-on": "high", "promote-to": `${registry.host}/trusted/app` });
    expect(failing.code, failing.stdout).toBe(1);
    expect(failing.summary).toContain("scanned by defender");
    expect(failing.annotations.filter((a) => a.level === "error").map((a) => a.title)).toEqual(
      expect.arrayContaining(["CVE-2024-6387", "CVE-2023-4911", "SCAN_GATE_FAILED"]),
    );
    expect(failing.outputs["promoted-ref"]).toBe("");

    const passing = await run({
      "fail-on": "high",
      "only-fixed": "true",
      waivers: "w.yaml",
      "promote-to": `${registry.host}/trusted/app`,
    });
    // The waiver file does not exist yet: a clear input error.
    expect(passing.code).toBe(1);
    expect(passing.stdout).toMatch(/cannot read waivers file w\.yaml \(input: waivers\)/);

    await writeFile(
      join(ws, "w.yaml"),
      "waivers:\n  - id: CVE-2024-6387\n    package: openssh-server\n    reason: sshd is not started in this image\n    owner: team-orders\n    expires: 2099-01-01\n",
    );
    const ok = await run({
      "fail-on": "high",
      "only-fixed": "true",
      waivers: "w.yaml",
      "promote-to": `${registry.host}/trusted/app`,
    });
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.outputs["promoted-ref"]).toBe(`${registry.host}/trusted/app@${ok.outputs.digest}`);
    expect(ok.outputs.findings).toBe("3");

    // Resource Graph was called with the Entra token minted for the job, and the token never reached the log.
    const token = entra.issued.at(-1)!.accessToken;
    expect(entra.issued.at(-1)!.scope).toBe(`${arm.url}/.default`);
    expect(ok.masked).toContain(token);
    expect(github.minted.length).toBeGreaterThan(0);
    expect(arm.mismatches).toEqual([]);
  });

  it("a digest Defender has not scanned fails the step and is not promoted", async () => {
    scanned.clear();
    const r = await run({ "promote-to": `${registry.host}/trusted/app2` });
    expect(r.code).toBe(1);
    expect(r.annotations.find((a) => a.title === "SCAN_NOT_SCANNED")?.message).toMatch(/no results/);
    expect(r.outputs["promoted-ref"]).toBeUndefined();
  });
});

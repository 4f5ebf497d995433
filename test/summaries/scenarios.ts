// The job summaries the bundled actions write, each from the same kind of run the e2e tests make (the same
// fixtures, the same peers), so the browser test looks at what a user would see, not a hand-made sample.
import { createPublicKey } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namedScenario, scenarioOpenMetrics } from "@platform/canary";
import { RegistryClient } from "@platform/oci";
import { publicKeyPem } from "@platform/signing";
import { northwind, startSignIn, windowAround } from "../aks/helpers.ts";
import { startAksFake } from "../fakes/aks.ts";
import { startGitHubFake } from "../fakes/github.ts";
import { startRegistry } from "../harness/registry.ts";
import { type ActionRun, runBundledAction } from "../harness/run-action.ts";
import { REPO_ROOT, requirePeers } from "../peers/index.ts";
import { identityOnDisk, pushRandomImage } from "../signing/helpers.ts";

/** The peers the scenarios need (the e2e tests' peers, and Chromium to look at the result). */
export const SCENARIO_PEERS = ["kustomize", "helm", "olareg", "buildah"] as const;

export interface SummaryScenario {
  action: string;
  /** What the run was, for the docs. */
  title: string;
  /** Whether the run's verdict is a pass (✅) or not (❌). */
  passed: boolean;
  run: ActionRun;
}

const tmp = (p: string) => mkdtemp(join(tmpdir(), p));

/** Runs every action once on its e2e fixtures and returns the summaries; cleans up after itself. */
export async function summaryScenarios(extraEnv: Record<string, string> = {}): Promise<SummaryScenario[]> {
  const peers = requirePeers(...SCENARIO_PEERS);
  const out: SummaryScenario[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];
  const env = (e: Record<string, string> = {}) => ({ ...extraEnv, ...e });
  try {
    // policy-dry-run: the Northwind example in enforce mode (e2e: policy-dry-run.itg.test.ts).
    const pws = await tmp("sum-policy-");
    cleanup.push(() => rm(pws, { recursive: true, force: true }));
    await cp(join(REPO_ROOT, "examples", "northwind"), pws, { recursive: true });
    out.push({
      action: "policy-dry-run",
      title: "Northwind config repo, enforce mode (20 violations)",
      passed: false,
      run: await runBundledAction(
        "policy-dry-run",
        { manifests: "config-repo", waivers: "config-repo/platform/waivers.yaml", mode: "enforce" },
        {
          workspace: pws,
          env: env({ PLATFORM_KUSTOMIZE: peers.paths.kustomize!, PLATFORM_HELM: peers.paths.helm! }),
        },
      ),
    });

    // canary-gate: the error-spike replay watched to its decision (e2e: canary-gate.itg.test.ts).
    const cws = await tmp("sum-canary-");
    cleanup.push(() => rm(cws, { recursive: true, force: true }));
    const start = Date.parse("2026-11-25T10:00:00Z");
    await writeFile(join(cws, "spike.om"), scenarioOpenMetrics(namedScenario("error-spike", start, 30)));
    out.push({
      action: "canary-gate",
      title: "error-spike replay, watch mode (rollback)",
      passed: false,
      run: await runBundledAction(
        "canary-gate",
        {
          "prometheus-url": `file://${join(cws, "spike.om")}`,
          namespace: "demo",
          service: "podinfo",
          mode: "watch",
          interval: "1m",
          "max-duration": "30m",
        },
        { workspace: cws, env: env() },
      ),
    });

    // build-scan: buildah build, olareg push, the mixed Trivy fixture gated at high (e2e: build-scan.itg.test.ts).
    const registry = await startRegistry("olareg");
    cleanup.push(() => registry.stop());
    const bws = await tmp("sum-build-");
    cleanup.push(() => rm(bws, { recursive: true, force: true }));
    await mkdir(join(bws, "app"));
    await writeFile(join(bws, "app", "hello.txt"), "hello\n");
    await writeFile(join(bws, "app", "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
    const report = JSON.parse(
      await readFile(join(REPO_ROOT, "test", "fixtures", "scan", "trivy", "image-mixed.json"), "utf8"),
    );
    report.ArtifactName = "app";
    report.Metadata.RepoDigests = [];
    await writeFile(join(bws, "report.json"), JSON.stringify(report));
    await writeFile(
      join(bws, "waivers.yaml"),
      "waivers:\n  - id: CVE-2021-44228\n    package: org.apache.logging.log4j:log4j-core\n    reason: JndiLookup is removed at build time\n    owner: team-orders\n    expires: 2099-12-31\n  - id: CVE-2024-24790\n    reason: never parses addresses from requests\n    owner: team-orders\n    expires: 2020-01-01\n",
    );
    out.push({
      action: "build-scan",
      title: "buildah build, Trivy report gated at high, one expired waiver",
      passed: false,
      run: await runBundledAction(
        "build-scan",
        {
          builder: "buildah",
          context: "app",
          image: `${registry.host}/quarantine/app`,
          tags: "v1",
          "scan-report": "report.json",
          "allow-unbound-report": "true",
          "fail-on": "high",
          waivers: "waivers.yaml",
          "promote-to": `${registry.host}/trusted/app`,
        },
        { workspace: bws, env: env() },
      ),
    });

    // sign and verify: a PEM identity on olareg, notation + cosign + SBOM + provenance (e2e: sign-verify.itg.test.ts).
    const sws = await tmp("sum-sign-");
    cleanup.push(() => rm(sws, { recursive: true, force: true }));
    const id = await identityOnDisk();
    cleanup.push(() => rm(id.dir, { recursive: true, force: true }));
    await cp(id.keyFile, join(sws, "signing.key"));
    await cp(id.chainFile, join(sws, "signing.crt"));
    await cp(id.trustStoreDir, join(sws, "trust-store"), { recursive: true });
    await cp(id.policyFile, join(sws, "trustpolicy.json"));
    await writeFile(join(sws, "cosign.pub"), publicKeyPem(createPublicKey(id.privateKey)));
    await writeFile(join(sws, "sbom.json"), '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}');
    const ref = await pushRandomImage(new RegistryClient(), {
      registry: registry.host,
      repository: "team/app",
    });
    out.push({
      action: "sign",
      title: "PEM key, notation + cosign, SBOM and provenance",
      passed: true,
      run: await runBundledAction(
        "sign",
        { "image-ref": ref, key: "signing.key", "certificate-chain": "signing.crt", sbom: "sbom.json" },
        { workspace: sws, env: env() },
      ),
    });
    out.push({
      action: "verify",
      title: "the signed image against a notation trust policy and the cosign key",
      passed: true,
      run: await runBundledAction(
        "verify",
        {
          "image-ref": ref,
          "trust-policy": "trustpolicy.json",
          "trust-store": "trust-store",
          "cosign-key": "cosign.pub",
        },
        { workspace: sws, env: env() },
      ),
    });

    // digest-bump: one pull request on the GitHub fake (e2e: digest-bump.itg.test.ts).
    const image = "northwindacr.azurecr.io/orders/api";
    const overlay = (d: string) =>
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: orders\nresources:\n  - ../../base\nimages:\n  - name: ${image}\n    digest: ${d}\n`;
    const gh = await startGitHubFake({
      owner: "northwind",
      repo: "gitops",
      files: {
        "apps/orders/overlays/dev/kustomization.yaml": overlay(`sha256:${"a".repeat(64)}`),
        "apps/orders/overlays/prod/kustomization.yaml": overlay(`sha256:${"a".repeat(64)}`),
      },
    });
    cleanup.push(() => gh.close());
    const dws = await tmp("sum-bump-");
    cleanup.push(() => rm(dws, { recursive: true, force: true }));
    await writeFile(
      join(dws, "platform.yaml"),
      "environments:\n  - name: dev\n    path: apps/orders/overlays/dev\n  - name: prod\n    path: apps/orders/overlays/prod\n    promoteFrom: dev\n",
    );
    out.push({
      action: "digest-bump",
      title: "one pull request for dev on the config repo",
      passed: true,
      run: await runBundledAction(
        "digest-bump",
        {
          "image-ref": `${image}:1.4.2@sha256:${"b".repeat(64)}`,
          "config-repo": "northwind/gitops",
          token: gh.token,
          environments: "dev",
        },
        { workspace: dws, env: env({ GITHUB_API_URL: gh.url }) },
      ),
    });

    // cluster-upgrade: a two-minor plan blocked by a removed API in the config repo (e2e: cluster-upgrade.itg.test.ts).
    const signIn = await startSignIn();
    cleanup.push(() => signIn.close());
    const aks = await startAksFake({
      clusters: [northwind({ maintenance: windowAround(new Date(), true) })],
    });
    cleanup.push(() => aks.close());
    const uws = await tmp("sum-upgrade-");
    cleanup.push(() => rm(uws, { recursive: true, force: true }));
    await cp(join(REPO_ROOT, "test", "fixtures", "aks", "config-repo"), join(uws, "config-repo"), {
      recursive: true,
    });
    await writeFile(join(uws, "ca.pem"), `${signIn.entra.ca}\n${aks.arm.ca}\n`);
    out.push({
      action: "cluster-upgrade",
      title: "plan 1.30 → 1.32, blocked by a removed API",
      passed: false,
      run: await runBundledAction(
        "cluster-upgrade",
        {
          subscription: "00000000-0000-0000-0000-000000000001",
          "resource-group": "rg-northwind-prod",
          cluster: "aks-northwind-prod",
          "arm-endpoint": aks.url,
          "authority-host": signIn.entra.url,
          mode: "plan",
          "target-version": "latest-minor",
          "config-repo-path": "config-repo/apps/orders, config-repo/platform",
        },
        {
          workspace: uws,
          env: env({
            ...signIn.env,
            NODE_EXTRA_CA_CERTS: join(uws, "ca.pem"),
            PLATFORM_KUSTOMIZE: peers.paths.kustomize!,
            PLATFORM_HELM: peers.paths.helm!,
          }),
        },
      ),
    });
    return out;
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  }
}

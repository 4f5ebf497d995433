// Northwind end to end (issue 16): one delivery of orders/api through every step, on real components, as a
// GitHub workflow runs them — the bundled actions as processes and the `platform` CLI as a user runs it:
//   app repo (real git) → build-scan: buildah builds, pushes by digest to olareg's quarantine → a Trivy-format
//   report bound to that digest gates it (fails without the team's waivers, passes with them) and promotes it →
//   sign (Notary + cosign) → verify (ours, from platform.yaml's signing section; and notation's and cosign's own
//   verdicts) → digest-bump of the real git config repo holding the committed team render (local mode; then
//   GitHub mode on the spec-checked fake) → `platform team check` (a bump is not drift) and policy-dry-run of the
//   bumped render → the render before the real kube-apiserver carrying the exported guardrail VAPs and the
//   render's PSA labels: everything is admitted; an injected `:latest` image and hostNetwork are refused by the
//   server itself → canary-gate replays the orders/api canary's metrics.
// Each step is its own `it`; a step whose input an earlier step did not produce fails naming that step.
import { execFile } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { cp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { namedScenario, scenarioOpenMetrics } from "@platform/canary";
import { publicKeyPem } from "@platform/signing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { install, scopeBindings, uninstall, waitForPolicies } from "../../conformance/apiserver/setup.ts";
import { type GitHubFake, startGitHubFake } from "../../fakes/github.ts";
import { type KubeClient, type KubeObject, startApiServer } from "../../harness/apiserver.ts";
import { type RunningRegistry, startRegistry } from "../../harness/registry.ts";
import { runBundledAction } from "../../harness/run-action.ts";
import { admitRender, deleteCrds, ensureCrds, podOf, renderObjects } from "../../harness/team-render.ts";
import { writeWorkspace } from "../../harness/workspace.ts";
import { REPO_ROOT, requirePeers } from "../../peers/index.ts";
import { anchorVerdict } from "../../signing/adversarial/judges.ts";
import { identityOnDisk } from "../../signing/helpers.ts";

const run = promisify(execFile);
const peers = requirePeers("olareg", "skopeo", "buildah", "notation", "cosign");
/** A kube-apiserver for this file alone (skips with the reason when the peer is missing, fails with CI=true). */
async function ownApiServer(): Promise<{ ok: boolean; client?: KubeClient }> {
  const { afterAll: after } = await import("vitest");
  if (!requirePeers("kube-apiserver", "etcd").ok) return { ok: false };
  const server = await startApiServer();
  after(() => server.stop());
  return { ok: true, client: server.client };
}

// Its own API server, not the suites' shared one: this test installs the exported guardrails under their real
// names with Northwind's params (kube-system/platform-guardrails-params), which the VAP differential installs
// too with other values; sharing a server, either could be judged by the other's policies.
const kas = await ownApiServer();
const EXAMPLE = join(REPO_ROOT, "examples", "northwind");
// The bundled CLI (`npm run build`, like the actions' dist), as a user runs it.
const CLI = join(REPO_ROOT, "packages", "cli", "dist", "platform.js");
/** Northwind's release identity, as its platform.yaml `signing.identities` trusts it. */
const RELEASE_SUBJECT = "C=US, ST=WA, O=Northwind Traders, CN=northwind-release";
/** Scopes the exported bindings to this file's namespaces on the shared API server. */
const SUITE_LABEL = "northwind-e2e.platform.test/run";
const API_FILE = "teams/orders/api.yaml";

interface Step {
  name: string;
  ms: number;
  did: string;
}
const steps: Step[] = [];
/** What the steps hand on; `need` names the step that should have produced a value. */
const state: Partial<{
  digest: string;
  promoted: string;
  signed: boolean;
  before: Record<string, string>;
  bumped: string;
  checked: boolean;
}> = {};
const producer: Record<keyof typeof state, string> = {
  digest: "build",
  promoted: "gate and promote",
  signed: "sign",
  before: "config repo",
  bumped: "digest-bump (local)",
  checked: "team check and policy dry-run",
};
function need<K extends keyof typeof state>(key: K): NonNullable<(typeof state)[K]> {
  const v = state[key];
  if (v === undefined || v === false)
    throw new Error(`needs the result of step "${producer[key]}", which did not complete`);
  return v as NonNullable<(typeof state)[K]>;
}
/** Times a step and keeps one line of what it did, for the run's table. */
async function step(name: string, fn: () => Promise<string>): Promise<void> {
  const t0 = performance.now();
  const did = await fn();
  steps.push({ name, ms: Math.round(performance.now() - t0), did });
}

let registry: RunningRegistry;
let ws: string;
let host: string;
let fake: GitHubFake | undefined;
const crds: string[] = [];
let vaps: KubeObject[] = [];

const git = (dir: string, ...args: string[]) =>
  run("git", ["-C", dir, "-c", "user.name=northwind-ci", "-c", "user.email=ci@northwind.example", ...args]);
const platform = (args: string[], cwd: string) =>
  run(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === "number" ? e.code : -1,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
    }),
  );
const action = (verb: string, inputs: Record<string, string>, env?: Record<string, string>) =>
  runBundledAction(verb, { config: "config/platform.yaml", ...inputs }, { workspace: ws, env });
const log = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

async function skopeo(...args: string[]) {
  return (await run(peers.paths.skopeo!, args)).stdout;
}
/** The digest the registry serves for `ref`, or undefined for "manifest unknown". */
async function served(ref: string): Promise<string | undefined> {
  try {
    return (
      await skopeo("inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${ref}`)
    ).trim();
  } catch (err) {
    if (/manifest unknown/.test((err as { stderr?: string }).stderr ?? "")) return undefined;
    throw err;
  }
}

async function filesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name);
    if (!e.isFile() || relative(dir, full).split("/")[0] === ".git") continue;
    out[relative(dir, full)] = await readFile(full, "utf8");
  }
  return out;
}

describe.skipIf(!peers.ok || !kas.ok)("Northwind end to end: orders/api from commit to admission", () => {
  const k = kas.client!;

  beforeAll(async () => {
    registry = await startRegistry("olareg");
    host = registry.host;
    // Northwind's platform.yaml with its registry on this machine: trusted, quarantine, every team's image.
    const config = (await readFile(join(EXAMPLE, "platform.yaml"), "utf8")).replaceAll(
      "northwindacr.azurecr.io",
      host,
    );
    ws = await writeWorkspace(
      {
        "app/Dockerfile": "FROM scratch\nCOPY server.txt /srv/server.txt\nUSER 65532:65532\n",
        "app/server.txt": "orders-api 1.4.2\n",
        "app/waivers.yaml": await readFile(join(EXAMPLE, "scan", "waivers.yaml"), "utf8"),
        "config/platform.yaml": config,
      },
      "northwind-e2e-",
    );
  });

  afterAll(async () => {
    if (steps.length)
      console.log(
        `Northwind end to end, ${steps.length} steps:\n${steps.map((s) => `  ${s.name.padEnd(34)} ${String(s.ms).padStart(6)} ms  ${s.did}`).join("\n")}`,
      );
    await fake?.close();
    if (vaps.length) await uninstall(k, vaps);
    await deleteCrds(k, crds);
    await registry?.stop();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  it("app repo: a real git repository with the service's Dockerfile", async () => {
    await step("app repo", async () => {
      await git(join(ws, "app"), "init", "-q", "-b", "main");
      await git(join(ws, "app"), "add", ".");
      await git(join(ws, "app"), "commit", "-qm", "orders-api 1.4.2");
      const sha = (await git(join(ws, "app"), "rev-parse", "HEAD")).stdout.trim();
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
      return `commit ${sha.slice(0, 12)}`;
    });
  });

  it("config repo: `platform team render` writes the six squads' render, committed to real git", async () => {
    await step("config repo", async () => {
      const dir = join(ws, "config");
      const r = await platform(["team", "render"], dir);
      expect(r.code, log(r)).toBe(0);
      expect(r.stdout).toContain("6 team(s), 28 service(s)");
      await git(dir, "init", "-q", "-b", "main");
      await git(dir, "add", ".");
      await git(dir, "commit", "-qm", "teams: initial render");
      // The bytes equal the example's committed render (only the registry host differs).
      const ours = await readFile(join(dir, API_FILE), "utf8");
      const example = await readFile(join(EXAMPLE, API_FILE), "utf8");
      expect(ours).toBe(example.replaceAll("northwindacr.azurecr.io", host));
      state.before = await filesUnder(dir);
      return `${Object.keys(state.before).length - 1} files rendered and committed`;
    });
  });

  it("build: buildah builds the app, build-scan pushes it by digest into quarantine only", async () => {
    await step("build", async () => {
      const r = await action("build-scan", {
        builder: "buildah",
        context: "app",
        image: `${host}/quarantine/orders/api`,
        scanner: "none",
      });
      expect(r.code, log(r)).toBe(0);
      const digest = r.outputs.digest!;
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(JSON.parse(r.outputs.result!).built).toBe("buildah");
      expect(await served(`${host}/quarantine/orders/api@${digest}`)).toBe(digest);
      expect(await served(`${host}/orders/api@${digest}`)).toBeUndefined();
      state.digest = digest;
      return `buildah → ${host}/quarantine/orders/api@${digest.slice(0, 19)}…`;
    });
  });

  it("gate and promote: a Trivy report of that digest fails without the waivers, passes with them and promotes", async () => {
    await step("gate and promote", async () => {
      const digest = need("digest");
      const quarantined = `${host}/quarantine/orders/api@${digest}`;
      // The pushed image as a layout, digest kept, and the Trivy report (Northwind's) bound to that digest.
      await skopeo(
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        `docker://${quarantined}`,
        `oci:${join(ws, "layout")}:api`,
      );
      const report = JSON.parse(await readFile(join(EXAMPLE, "scan", "trivy-orders-api.json"), "utf8"));
      report.ArtifactName = quarantined;
      report.Metadata = { ...report.Metadata, RepoDigests: [quarantined] };
      await writeFile(join(ws, "app", "trivy.json"), JSON.stringify(report));
      const gate = (extra: Record<string, string>) =>
        action("build-scan", {
          from: "layout",
          image: `${host}/quarantine/orders/api`,
          "scan-report": "app/trivy.json",
          "fail-on": "high",
          "only-fixed": "true",
          "promote-to": `${host}/orders/api`,
          ...extra,
        });
      const refused = await gate({});
      expect(refused.code, log(refused)).toBe(1);
      expect(refused.annotations.some((a) => a.title === "SCAN_GATE_FAILED")).toBe(true);
      expect(await served(`${host}/orders/api@${digest}`)).toBeUndefined();
      const passed = await gate({ waivers: "app/waivers.yaml" });
      expect(passed.code, log(passed)).toBe(0);
      expect(passed.outputs.digest).toBe(digest);
      const promoted = `${host}/orders/api@${digest}`;
      expect(passed.outputs["promoted-ref"]).toBe(promoted);
      expect(await served(promoted)).toBe(digest);
      const result = JSON.parse(passed.outputs.result!);
      expect(result.passed).toBe(true);
      state.promoted = promoted;
      return `${passed.outputs.findings} findings; fails without waivers, ${result.waiversUsed.length} waivers → promoted`;
    });
  });

  let id: Awaited<ReturnType<typeof identityOnDisk>>;
  it("sign: Notary Project and cosign signatures on the promoted digest", async () => {
    await step("sign", async () => {
      const promoted = need("promoted");
      id = await identityOnDisk({
        subject: RELEASE_SUBJECT,
        trustedIdentity: `x509.subject: ${RELEASE_SUBJECT}`,
      });
      await cp(id.keyFile, join(ws, "signing.key"));
      await cp(id.chainFile, join(ws, "signing.crt"));
      await writeFile(join(ws, "cosign.pub"), publicKeyPem(createPublicKey(id.privateKey)));
      const r = await action("sign", {
        "image-ref": promoted,
        key: "signing.key",
        "certificate-chain": "signing.crt",
      });
      expect(r.code, log(r)).toBe(0);
      const kinds = JSON.parse(r.outputs.signatures!).map((s: { kind: string }) => s.kind);
      expect(kinds).toEqual(expect.arrayContaining(["notation", "cosign-bundle"]));
      state.signed = true;
      return `${kinds.join(", ")}`;
    });
  });

  it("verify: platform.yaml's signing section accepts it, and so do notation and cosign themselves", async () => {
    await step("verify", async () => {
      need("signed");
      const promoted = need("promoted");
      await cp(id.trustStoreDir, join(ws, "trust-store"), { recursive: true });
      const ok = await action("verify", {
        "image-ref": promoted,
        "trust-store": "trust-store",
        "cosign-key": "cosign.pub",
      });
      expect(ok.code, log(ok)).toBe(0);
      expect(ok.outputs.verified).toBe("true");
      // The same digest in quarantine carries no signature: refused, with the reason.
      const unsigned = await action("verify", {
        "image-ref": promoted.replace("/orders/api@", "/quarantine/orders/api@"),
        "trust-store": "trust-store",
        "cosign-key": "cosign.pub",
      });
      expect(unsigned.outputs.verified).toBe("false");
      // The authorities: notation verify (trust policy naming Northwind's identity) and cosign verify.
      const xdg = join(ws, "xdg");
      await mkdir(join(xdg, "notation"), { recursive: true });
      await cp(id.policyFile, join(xdg, "notation", "trustpolicy.json"));
      await cp(id.trustStoreDir, join(xdg, "notation", "truststore"), { recursive: true });
      const home = join(ws, "home");
      await mkdir(home, { recursive: true });
      const judged = async (anchor: "notation" | "cosign") =>
        anchorVerdict(
          {
            id: "northwind",
            class: "e2e",
            anchor,
            what: "the promoted orders/api",
            build: async () => ({ ref: promoted }),
          },
          anchor === "notation"
            ? { ref: promoted, xdg }
            : { ref: promoted, cosign: { pubFile: join(ws, "cosign.pub"), legacy: false } },
          peers.paths as Record<string, string>,
          home,
        );
      const notation = await judged("notation");
      expect(notation.accepted, notation.message).toBe(true);
      const cosign = await judged("cosign");
      expect(cosign.accepted, cosign.message).toBe(true);
      return `ours: ${JSON.parse(ok.outputs.signers!).join(" + ")}; notation ✓, cosign ✓; unsigned quarantine copy refused`;
    });
  });

  it("digest-bump (local): the config repo checkout gets only the new digest bytes", async () => {
    await step("digest-bump (local)", async () => {
      const promoted = need("promoted");
      const before = need("before");
      const r = await action("digest-bump", {
        "image-ref": promoted,
        "config-repo": "config",
        environments: "dev",
        paths: "teams/orders",
      });
      expect(r.code, log(r)).toBe(0);
      expect(JSON.parse(r.outputs["changed-files"]!)).toEqual([API_FILE]);
      const old = /orders\/api@(sha256:[0-9a-f]{64})/.exec(before[API_FILE]!)![1]!;
      const after = await readFile(join(ws, "config", API_FILE), "utf8");
      expect(after).toBe(before[API_FILE]!.replace(old, need("digest")));
      await git(join(ws, "config"), "commit", "-qam", `orders/api: ${need("digest")}`);
      const diff = (await git(join(ws, "config"), "show", "--numstat", "--format=", "HEAD")).stdout.trim();
      expect(diff).toBe(`1\t1\t${API_FILE}`);
      state.bumped = after;
      return `${API_FILE}: ${old.slice(0, 15)}… → ${need("digest").slice(0, 15)}… (1 line, committed)`;
    });
  });

  it("digest-bump (GitHub mode, spec-checked fake): one pull request with the same bytes", async () => {
    await step("digest-bump (GitHub)", async () => {
      const promoted = need("promoted");
      const bumped = need("bumped");
      fake = await startGitHubFake({ owner: "northwind", repo: "config", files: need("before") });
      const r = await action(
        "digest-bump",
        {
          "image-ref": promoted,
          "config-repo": "northwind/config",
          token: fake.token,
          environments: "dev",
          paths: "teams/orders",
        },
        { GITHUB_API_URL: fake.url },
      );
      expect(r.code, log(r)).toBe(0);
      const pulls = fake.openPulls();
      expect(pulls).toHaveLength(1);
      expect(fake.readFile(pulls[0]!.head, API_FILE)).toBe(bumped);
      expect(fake.violations).toEqual([]);
      return `pull request #${r.outputs["pull-request-number"]} on ${pulls[0]!.head}`;
    });
  });

  it("team check and policy dry-run: the bump is not drift, and the bumped render passes every guardrail", async () => {
    await step("team check and policy dry-run", async () => {
      const bumped = need("bumped");
      const dir = join(ws, "config");
      const check = await platform(["team", "check"], dir);
      expect(check.code, log(check)).toBe(0);
      expect(check.stderr).toContain("the committed render matches platform.yaml");
      // A re-render keeps the bump (digest-bump owns the image once rendered).
      const render = await platform(["team", "render"], dir);
      expect(render.code, log(render)).toBe(0);
      expect(render.stdout).toContain("0 written, 0 removed");
      expect(await readFile(join(dir, API_FILE), "utf8")).toBe(bumped);
      // A tag where the digest was is not a bump: drift, with the diff (the checkout is put back after).
      await writeFile(
        join(dir, API_FILE),
        bumped.replace(/orders\/api@sha256:[0-9a-f]{64}/, "orders/api:latest"),
      );
      const drift = await platform(["team", "check"], dir);
      expect(drift.code, log(drift)).toBe(1);
      expect(drift.stdout).toContain("-        - image: ");
      expect(drift.stdout).toContain("orders/api:latest");
      await git(dir, "checkout", "--", API_FILE);
      expect(await readFile(join(dir, API_FILE), "utf8")).toBe(bumped);
      const dry = await action("policy-dry-run", { manifests: "config/teams", mode: "enforce" });
      expect(dry.code, log(dry)).toBe(0);
      const result = JSON.parse(dry.outputs.result!);
      expect(result.passed).toBe(true);
      expect(dry.outputs.violations).toBe("0");
      expect(result.counts.warn ?? 0).toBe(0);
      state.checked = true;
      return `bump not drift, :latest is; ${result.objects} objects, 0 violations, 0 warnings`;
    });
  });

  it("admission: the real kube-apiserver with the exported VAPs admits the bumped render, refuses :latest and hostNetwork", async () => {
    await step("admission (kube-apiserver)", async () => {
      need("checked");
      const exported = await platform(
        ["policy", "export-vap", "--config", "config/platform.yaml", "--out", "vap.yaml"],
        ws,
      );
      expect(exported.code, log(exported)).toBe(0);
      const docs = parseAllDocuments(await readFile(join(ws, "vap.yaml"), "utf8"))
        .map((d) => d.toJS() as KubeObject | null)
        .filter((d): d is KubeObject => !!d);
      crds.push(...(await ensureCrds(k)));
      await k.namespace("flux-system");
      await k.namespace("nw-e2e-probe", {
        [SUITE_LABEL]: "true",
        "pod-security.kubernetes.io/enforce": "restricted",
      });
      vaps = await install(k, scopeBindings(docs, SUITE_LABEL));
      const policies = docs
        .filter((d) => d.kind === "ValidatingAdmissionPolicy")
        .map((d) => d.metadata!.name!);
      const probe = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "probe", namespace: "nw-e2e-probe" },
        spec: {
          selector: { matchLabels: { app: "probe" } },
          template: {
            metadata: { labels: { app: "probe" } },
            spec: {
              hostNetwork: true,
              containers: [{ name: "main", image: "nginx:latest", securityContext: { privileged: true } }],
            },
          },
        },
      } as KubeObject;
      await waitForPolicies(
        k,
        probe,
        policies.filter((n) => /plat002|plat009/.test(n)),
      );

      const files = new Map(Object.entries(await filesUnder(join(ws, "config", "teams"))));
      const objects = renderObjects(files);
      const admitted = await admitRender(k, objects, { namespaceLabels: { [SUITE_LABEL]: "true" } });
      expect(admitted.problems).toEqual([]);
      const api = objects.find(
        (o) => o.kind === "Deployment" && o.metadata?.namespace === "orders" && o.metadata?.name === "api",
      )!;
      const container = (o: KubeObject) =>
        (o.spec as { template: { spec: { containers: Array<{ image: string }>; hostNetwork?: boolean } } })
          .template.spec;
      expect(container(api).containers[0]!.image).toBe(need("promoted"));

      const latest = structuredClone(api);
      container(latest).containers[0]!.image = `${host}/orders/api:latest`;
      const hostNet = structuredClone(api);
      container(hostNet).hostNetwork = true;
      const refusals: string[] = [];
      for (const [what, o] of [
        [":latest Deployment", latest],
        ["hostNetwork Deployment", hostNet],
        ["hostNetwork Pod", podOf(hostNet)],
      ] as const) {
        const r = await k.create(o, { dryRun: true });
        expect(r.allowed, `${what} was admitted`).toBe(false);
        refusals.push(`${what}: ${r.status} ${r.message}`);
      }
      // The cluster's own verdicts: the exported VAPs deny the Deployments, Pod Security Admission the Pod.
      expect(refusals[0]).toMatch(
        /^:latest Deployment: 403 .*ValidatingAdmissionPolicy 'platform-plat002-image-digest' .*denied request: image ".*:latest" is not pinned by digest/,
      );
      expect(refusals[1]).toMatch(
        /^hostNetwork Deployment: 403 .*ValidatingAdmissionPolicy 'platform-plat009-/,
      );
      expect(refusals[2]).toMatch(
        /^hostNetwork Pod: 403 .*violates PodSecurity "restricted:latest": host namespaces/,
      );
      console.log(`refused by the API server:\n  ${refusals.join("\n  ")}`);
      return `${admitted.admitted} objects and pods admitted; refused (403): :latest and hostNetwork Deployments by the VAPs, the hostNetwork Pod by PSA`;
    });
  });

  it("canary gate replay: the orders/api canary's metrics — healthy promotes, an error spike rolls back", async () => {
    await step("canary gate (replay)", async () => {
      need("bumped");
      const start = Date.parse("2026-12-08T10:00:00Z");
      const scenario = async (name: "healthy" | "error-spike") => {
        const file = join(ws, `${name}.om`);
        await writeFile(
          file,
          scenarioOpenMetrics({ ...namedScenario(name, start, 30), namespace: "orders", service: "api" }),
        );
        return action("canary-gate", {
          "prometheus-url": `file://${file}`,
          namespace: "orders",
          service: "api",
        });
      };
      const healthy = await scenario("healthy");
      expect(healthy.code, log(healthy)).toBe(0);
      expect(["promote", "continue"]).toContain(healthy.outputs.decision);
      const spike = await scenario("error-spike");
      expect(spike.code).toBe(1);
      expect(spike.outputs.decision).toBe("rollback");
      return `healthy → ${healthy.outputs.decision}; error spike → ${spike.outputs.decision}`;
    });
  });
});

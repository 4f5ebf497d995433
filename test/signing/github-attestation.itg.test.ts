// The sign action's GitHub artifact attestation, judged by the real GitHub CLI: the bundled action signs the
// provenance keyless (sigstore fakes: Fulcio, Rekor, TSA, GitHub OIDC), stores it through the spec-checked
// GitHub fake's attestations API, and `gh attestation verify` accepts what was stored for the image digest
// and refuses it for another image, another owner and a root without the signing CA.
import { execFile } from "node:child_process";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { RegistryClient } from "@platform/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubFake, startGitHubFake } from "../fakes/github.ts";
import { expectNoLeaks } from "../harness/leaks.ts";
import { type RunningRegistry, startRegistry } from "../harness/registry.ts";
import { runBundledAction } from "../harness/run-action.ts";
import { requirePeers } from "../peers/index.ts";
import { identityOnDisk, pushRandomImage } from "./helpers.ts";
import { type SigstoreFakes, startSigstoreFakes } from "./keyless-fakes.ts";

const run = promisify(execFile);
const peers = requirePeers("olareg", "gh");

describe.skipIf(!peers.ok)(
  "sign github-attestation: gh attestation verify accepts what the action stored",
  () => {
    let reg: RunningRegistry;
    let fakes: SigstoreFakes;
    let github: GitHubFake;
    let ws: string;
    let image: string;
    let other: string;
    const client = new RegistryClient();

    beforeAll(async () => {
      [reg, fakes, github] = await Promise.all([
        startRegistry("olareg"),
        startSigstoreFakes(),
        startGitHubFake({ owner: "octo-org", repo: "octo-repo" }),
      ]);
      ws = await mkdtemp(join(tmpdir(), "gh-attest-"));
      const id = await identityOnDisk();
      await cp(id.keyFile, join(ws, "signing.key"));
      await cp(id.chainFile, join(ws, "signing.crt"));
      await writeFile(join(ws, "event.json"), JSON.stringify({ repository: { visibility: "private" } }));
      image = await pushRandomImage(client, { registry: reg.host, repository: "apps/orders" });
      other = await pushRandomImage(client, { registry: reg.host, repository: "apps/orders" });
    });
    afterAll(async () => {
      await reg?.stop();
      await fakes?.close();
      await github?.close();
      if (ws) await rm(ws, { recursive: true, force: true });
    });

    const sign = (imageRef: string, env: Record<string, string> = {}, token = github.token) =>
      runBundledAction(
        "sign",
        {
          "image-ref": imageRef,
          key: "signing.key",
          "certificate-chain": "signing.crt",
          format: "notation",
          "github-attestation": "true",
          token,
        },
        {
          workspace: ws,
          env: {
            ...fakes.env,
            GITHUB_API_URL: github.url,
            GITHUB_REPOSITORY: "octo-org/octo-repo",
            GITHUB_EVENT_PATH: join(ws, "event.json"),
            ...env,
          },
        },
      );

    /** The stored bundle for a digest, read back through the API gh itself queries. */
    async function storedBundle(digest: string): Promise<string> {
      const res = await fetch(`${github.url}/repos/octo-org/octo-repo/attestations/${digest}`, {
        headers: { authorization: `Bearer ${github.token}`, accept: "application/vnd.github+json" },
      });
      const body = (await res.json()) as { attestations: Array<{ bundle: unknown }> };
      expect(body.attestations).toHaveLength(1);
      const file = join(ws, `${digest.replace(":", "-")}.jsonl`);
      await writeFile(file, `${JSON.stringify(body.attestations[0]!.bundle)}\n`);
      return file;
    }

    async function gh(args: string[]): Promise<{ code: number; out: string }> {
      try {
        const r = await run(peers.paths.gh!, ["attestation", "verify", ...args], {
          env: {
            PATH: process.env.PATH ?? "",
            HOME: ws,
            GH_TOKEN: "unused-offline",
            GH_NO_UPDATE_NOTIFIER: "1",
          },
          timeout: 60_000,
        });
        return { code: 0, out: r.stdout + r.stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
      }
    }

    it("stores one attestation for the digest and names it in the outputs", async () => {
      const r = await sign(image);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expectNoLeaks(r, [github.token]);
      const digest = image.slice(image.indexOf("@") + 1);
      expect(github.state.attestations).toHaveLength(1);
      expect(github.state.attestations[0]!.subjectDigests).toEqual([digest]);
      expect(r.outputs["attestation-id"]).toBe(String(github.state.attestations[0]!.id));
      expect(r.outputs["attestation-url"]).toBe(
        `https://github.com/octo-org/octo-repo/attestations/${github.state.attestations[0]!.id}`,
      );
      expect(github.violations).toEqual([]);
    });

    it("gh attestation verify accepts it for the image, and refuses another image, owner and root", async () => {
      const digest = image.slice(image.indexOf("@") + 1);
      const bundle = await storedBundle(digest);
      // gh reads --custom-trusted-root as JSON lines: one root per line.
      const jsonl = async (file: string, root: Record<string, unknown>) => {
        await writeFile(file, `${JSON.stringify(root)}\n`);
        return file;
      };
      const root = await jsonl(join(ws, "trusted_root.jsonl"), fakes.trustedRoot);
      const common = ["--bundle", bundle, "--custom-trusted-root", root];
      const ok = await gh([`oci://${image}`, ...common, "--owner", "octo-org", "--format", "json"]);
      expect(ok.code, ok.out).toBe(0);
      // gh's own account of what it verified: our statement about this digest, signed by this workflow.
      const [verified] = JSON.parse(ok.out) as Array<{
        verificationResult: {
          statement: { subject: Array<{ name: string; digest: { sha256: string } }>; predicateType: string };
          signature: { certificate: { sourceRepositoryOwnerURI: string } };
        };
      }>;
      expect(verified!.verificationResult.statement.subject).toEqual([
        { name: image.slice(0, image.indexOf("@")), digest: { sha256: digest.slice("sha256:".length) } },
      ]);
      expect(verified!.verificationResult.statement.predicateType).toBe("https://slsa.dev/provenance/v1");
      expect(verified!.verificationResult.signature.certificate.sourceRepositoryOwnerURI).toBe(
        "https://github.com/octo-org",
      );
      const wrongImage = await gh([`oci://${other}`, ...common, "--owner", "octo-org"]);
      expect(wrongImage.code, wrongImage.out).not.toBe(0);
      // Each differs from the accepted call in one argument, and fails in verification, not as a usage error.
      expect(wrongImage.out).toMatch(/verifying with issuer/);
      const wrongOwner = await gh([`oci://${image}`, ...common, "--owner", "someone-else"]);
      expect(wrongOwner.code, wrongOwner.out).not.toBe(0);
      expect(wrongOwner.out).toMatch(/verifying with issuer/);
      const foreign = await jsonl(join(ws, "foreign.jsonl"), await fakes.foreignTrustedRoot());
      const wrongRoot = await gh([
        `oci://${image}`,
        "--bundle",
        bundle,
        "--custom-trusted-root",
        foreign,
        "--owner",
        "octo-org",
      ]);
      expect(wrongRoot.code, wrongRoot.out).not.toBe(0);
      expect(wrongRoot.out).toMatch(/verifying with issuer/);
    });

    it("without attestations: write the step fails with the permission to add, after signing", async () => {
      const denied = await startGitHubFake({
        owner: "octo-org",
        repo: "octo-repo",
        permissions: { attestations: "none" },
      });
      try {
        const r = await sign(other, { GITHUB_API_URL: denied.url }, denied.token);
        expect(r.code).not.toBe(0);
        expect(r.stdout).toMatch(/ATTESTATION_UPLOAD_FAILED|refused the artifact attestation/);
        expect(r.stdout).toMatch(/attestations: write/);
        expect(denied.state.attestations).toHaveLength(0);
      } finally {
        await denied.close();
      }
    });
  },
);

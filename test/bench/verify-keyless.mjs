// Keyless verify benchmark: N images signed keylessly (local GitHub OIDC, Fulcio, Rekor, TSA fakes;
// test/signing/keyless-fakes.ts) in a local olareg behind a counting proxy, then verified against the
// instance's trusted_root.json for the workflow identity and GitHub's issuer:
// - HTTP requests to the registry for one verify: ours vs `cosign verify --trusted-root`;
// - verify N images: our library in one process (as the action does per image) vs a loop of
//   `cosign verify --trusted-root` — wall time and ratio, same run.
// Prints a table and writes bench-results/verify-keyless.json. Knob: BENCH_KEYLESS_IMAGES=20
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { RegistryClient } from "@platform/oci";
import { GITHUB_OIDC_ISSUER, keylessPolicy, keylessSigning, signImage, verifyImage } from "@platform/signing";
import { countingProxy, startRegistry } from "../harness/registry.ts";
import { requirePeers } from "../peers/index.ts";
import { pushRandomImage } from "../signing/helpers.ts";
import { startSigstoreFakes, WORKFLOW_SAN } from "../signing/keyless-fakes.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const IMAGES = Number(process.env.BENCH_KEYLESS_IMAGES ?? 20);
const run = promisify(execFile);

const peers = requirePeers("olareg", "cosign");
if (!peers.ok) {
  console.error(`verify-keyless bench skipped: ${peers.reason}`);
  process.exit(process.env.CI === "true" ? 1 : 0);
}

const tmp = await mkdtemp(join(tmpdir(), "bench-keyless-"));
const reg = await startRegistry("olareg");
const proxy = await countingProxy(reg.host);
const fakes = await startSigstoreFakes();
try {
  const client = new RegistryClient();
  const root = await fakes.writeTrustedRoot(join(tmp, "trusted_root.json"));
  const signer = await keylessSigning({ env: fakes.env });
  const refs = [];
  for (let i = 0; i < IMAGES; i++) {
    const ref = await pushRandomImage(client, { registry: proxy.host, repository: "bench/keyless" });
    await signImage({ imageRef: ref, format: "cosign", cosignLayout: "bundle", signer, client });
    refs.push(ref);
  }
  const policy = await keylessPolicy({
    certificateIdentity: WORKFLOW_SAN,
    certificateOidcIssuer: GITHUB_OIDC_ISSUER,
    trustedRoot: root,
  });
  const ours = async (ref) => {
    const r = await verifyImage({ imageRef: ref, client, keyless: policy });
    if (!r.verified) throw new Error(`ours did not verify ${ref}: ${r.reasons.join("; ")}`);
  };
  const cosign = (ref) =>
    run(
      peers.paths.cosign,
      [
        "verify",
        "--trusted-root",
        root,
        "--certificate-identity",
        WORKFLOW_SAN,
        "--certificate-oidc-issuer",
        GITHUB_OIDC_ISSUER,
        "--allow-http-registry",
        ref,
      ],
      { env: { PATH: process.env.PATH ?? "", HOME: tmp }, timeout: 60_000 },
    );
  const measure = (fn) => proxy.measure(fn);

  const oursOne = await measure(() => ours(refs[0]));
  const cosignOne = await measure(() => cosign(refs[0]));
  const oursN = await measure(async () => {
    for (const r of refs) await ours(r);
  });
  const cosignN = await measure(async () => {
    for (const r of refs) await cosign(r);
  });
  const speedup = Math.round((cosignN.ms / oursN.ms) * 10) / 10;
  const results = {
    images: IMAGES,
    oneImage: {
      ours: { requests: oursOne.requests, byMethod: oursOne.byMethod },
      cosign: { requests: cosignOne.requests, byMethod: cosignOne.byMethod },
    },
    verifyAll: { oursMs: oursN.ms, cosignCliMs: cosignN.ms, speedup },
  };
  console.log("\nVerify one keyless-signed image (HTTP requests to the registry)");
  console.log(
    `  ours                         ${String(oursOne.requests).padStart(3)}  ${JSON.stringify(oursOne.byMethod)}`,
  );
  console.log(
    `  cosign verify --trusted-root ${String(cosignOne.requests).padStart(3)}  ${JSON.stringify(cosignOne.byMethod)}`,
  );
  console.log(`\nVerify ${IMAGES} keyless-signed images (wall time)`);
  console.log(`  ours ${oursN.ms} ms   cosign CLI loop ${cosignN.ms} ms   → ${speedup}× faster`);
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "verify-keyless.json"), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await fakes.close();
  await proxy.close();
  await reg.stop();
  await rm(tmp, { recursive: true, force: true });
}

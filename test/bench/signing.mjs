// Signing benchmark (issue 5), against a local olareg behind one counting proxy (every request any tool
// makes is counted the same way):
// 1. Sign + attach one image: HTTP requests for a Notary Project signature (goal ≤ 6; the registry is
//    anonymous, so there is no auth traffic), and for the full set (Notary + cosign bundle + SBOM +
//    provenance); `notation sign` and `cosign sign --key` on the same kind of image for comparison.
// 2. Sign 50 images: our library in one process (a loop, as the action does per image) against a loop of
//    `notation sign` and of `cosign sign --key --tlog-upload=false` — wall time and ratio, same run.
// Prints a table and writes bench-results/signing.json. Knob: BENCH_SIGNING_IMAGES=50
import { execFile } from "node:child_process";
import { createPublicKey, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeJson, MediaType, RegistryClient, sha256Digest } from "@platform/oci";
import { generateSigningIdentity, localSigner, signImage, verifyImage } from "@platform/signing";
import { countingProxy, startRegistry } from "../harness/registry.ts";
import { requirePeers } from "../peers/index.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const IMAGES = Number(process.env.BENCH_SIGNING_IMAGES ?? 50);
const run = promisify(execFile);

const peers = requirePeers("olareg", "notation", "cosign");
if (!peers.ok) {
  console.error(`signing bench skipped: ${peers.reason}`);
  process.exit(process.env.CI === "true" ? 1 : 0);
}

/** Pushes `n` small distinct images to `repo` (setup, not measured); returns their references. */
async function pushImages(client, host, repo, n) {
  const refs = [];
  for (let i = 0; i < n; i++) {
    const layer = new Uint8Array(randomBytes(256));
    const config = encodeJson({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [sha256Digest(layer)] },
    });
    const manifest = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.byteLength },
      layers: [{ mediaType: MediaType.ociLayer, digest: sha256Digest(layer), size: layer.byteLength }],
    });
    const r = { registry: host, repository: repo };
    await client.pushBlob(r, layer);
    await client.pushBlob(r, config);
    await client.putManifest(r, manifest, MediaType.ociManifest);
    refs.push(`${host}/${repo}@${sha256Digest(manifest)}`);
  }
  return refs;
}

const tmp = await mkdtemp(join(tmpdir(), "bench-signing-"));
const reg = await startRegistry("olareg");
const proxy = await countingProxy(reg.host);
try {
  const setup = new RegistryClient();
  const id = await generateSigningIdentity({ subject: "C=US, ST=WA, O=Bench, CN=bench-signer" });
  const signer = localSigner(id.privateKey, id.chain, "bench key");
  const sbom = join(tmp, "sbom.json");
  await writeFile(
    sbom,
    JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", version: 1, components: [] }),
  );
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    XDG_CONFIG_HOME: join(tmp, "xdg"),
    COSIGN_PASSWORD: "",
  };
  await mkdir(env.XDG_CONFIG_HOME, { recursive: true });
  await run(peers.paths.notation, ["cert", "generate-test", "--default", "bench"], { env });
  await run(peers.paths.cosign, ["generate-key-pair"], { cwd: tmp, env });
  const notationSign = (ref) =>
    run(peers.paths.notation, ["sign", "--insecure-registry", "--force-referrers-tag=false", ref], { env });
  const cosignSign = (ref) =>
    run(
      peers.paths.cosign,
      [
        "sign",
        "--key",
        join(tmp, "cosign.key"),
        "--tlog-upload=false",
        "--use-signing-config=false",
        "--allow-http-registry",
        "-y",
        ref,
      ],
      { env },
    );

  // ---- 1. one image: requests -----------------------------------------------------------------
  // The first signature in a repository also uploads the `{}` config blob (HEAD, POST, PUT); after that
  // it is found with one HEAD — the steady state, and the state notation's and cosign's runs below see.
  const [first, a, b, c, d] = await pushImages(setup, proxy.host, "bench/one", 5);
  const firstInRepo = await proxy.measure(() =>
    signImage({ imageRef: first, format: "notation", signer, client: new RegistryClient() }),
  );
  const ours = await proxy.measure(() =>
    signImage({ imageRef: a, format: "notation", signer, client: new RegistryClient() }),
  );
  const oursFull = await proxy.measure(() =>
    signImage({
      imageRef: b,
      format: "both",
      cosignLayout: "bundle",
      signer,
      client: new RegistryClient(),
      sbom,
      provenance: { GITHUB_REPOSITORY: "bench/app", GITHUB_SHA: "0".repeat(40), GITHUB_RUN_ID: "1" },
    }),
  );
  const notationOne = await proxy.measure(() => notationSign(c));
  const cosignOne = await proxy.measure(() => cosignSign(d));
  const rerun = await proxy.measure(() =>
    signImage({ imageRef: a, format: "notation", signer, client: new RegistryClient() }),
  );

  // ---- 2. fifty images: time ------------------------------------------------------------------
  const batch = async (repo, fn) => {
    const refs = await pushImages(setup, proxy.host, repo, IMAGES);
    return proxy.measure(async () => {
      for (const ref of refs) await fn(ref);
    });
  };
  const client = new RegistryClient();
  const oursNotation50 = await batch("bench/ours-notation", (ref) =>
    signImage({ imageRef: ref, format: "notation", signer, client }),
  );
  const notation50 = await batch("bench/notation", notationSign);
  const oursCosign50 = await batch("bench/ours-cosign", (ref) =>
    signImage({ imageRef: ref, format: "cosign", cosignLayout: "bundle", signer, client }),
  );
  const cosign50 = await batch("bench/cosign", cosignSign);

  // Sanity: what we signed verifies (so the timing is of real signatures).
  const check = await verifyImage({
    imageRef: b,
    client: setup,
    cosignKeys: [{ name: "bench", key: createPublicKey(id.privateKey) }],
  });
  if (!check.verified) throw new Error(`bench signature does not verify: ${check.reasons.join("; ")}`);

  const ratio = (x, y) => Math.round((y / x) * 10) / 10;
  const results = {
    oneImage: {
      ours: { requests: ours.requests, byMethod: ours.byMethod, ms: ours.ms, goal: 6 },
      oursFirstInRepository: { requests: firstInRepo.requests, byMethod: firstInRepo.byMethod },
      oursFull: {
        requests: oursFull.requests,
        byMethod: oursFull.byMethod,
        what: "notation + cosign bundle + SBOM + provenance",
      },
      oursRerun: { requests: rerun.requests, what: "same digest, same key: nothing pushed" },
      notation: { requests: notationOne.requests, byMethod: notationOne.byMethod },
      cosign: { requests: cosignOne.requests, byMethod: cosignOne.byMethod },
    },
    images: IMAGES,
    notation: {
      oursMs: oursNotation50.ms,
      notationCliMs: notation50.ms,
      speedup: ratio(oursNotation50.ms, notation50.ms),
    },
    cosign: {
      oursMs: oursCosign50.ms,
      cosignCliMs: cosign50.ms,
      speedup: ratio(oursCosign50.ms, cosign50.ms),
    },
  };
  console.log("\nSign + attach one image (HTTP requests to the registry, anonymous: no auth traffic)");
  console.log(
    `  ours, Notary signature            ${String(ours.requests).padStart(3)}  (goal ≤ 6) ${JSON.stringify(ours.byMethod)}`,
  );
  console.log(
    `  ours, Notary+cosign+SBOM+SLSA     ${String(oursFull.requests).padStart(3)}  ${JSON.stringify(oursFull.byMethod)}`,
  );
  console.log(
    `  ours, first signature in the repo ${String(firstInRepo.requests).padStart(3)}  (also uploads the {} config) ${JSON.stringify(firstInRepo.byMethod)}`,
  );
  console.log(`  ours, re-run (already signed)     ${String(rerun.requests).padStart(3)}`);
  console.log(
    `  notation sign                     ${String(notationOne.requests).padStart(3)}  ${JSON.stringify(notationOne.byMethod)}`,
  );
  console.log(
    `  cosign sign --key                 ${String(cosignOne.requests).padStart(3)}  ${JSON.stringify(cosignOne.byMethod)}`,
  );
  console.log(`\nSign ${IMAGES} images (wall time)`);
  console.log(
    `  Notary:  ours ${oursNotation50.ms} ms   notation CLI loop ${notation50.ms} ms   → ${results.notation.speedup}× faster`,
  );
  console.log(
    `  cosign:  ours ${oursCosign50.ms} ms   cosign CLI loop ${cosign50.ms} ms   → ${results.cosign.speedup}× faster`,
  );
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "signing.json"), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await proxy.close();
  await reg.stop();
  await rm(tmp, { recursive: true, force: true });
}

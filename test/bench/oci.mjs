// Push benchmark (issue 4): a ~100 MB, 5-layer image (random data, gzip-compressed at run time into an
// OCI layout) pushed to a local olareg by our client (packages/oci copyImage) and by `skopeo copy` in the
// same run — wall time and HTTP request count, both counted by one tiny proxy in front of the registry
// (so every request either tool makes is seen the same way). Then a second push of the same image when
// every blob exists: the registry should see HEADs and one manifest PUT at most.
// Each round pushes to fresh repositories; the order of the tools alternates between rounds; medians are
// reported. Prints a table and writes bench-results/oci.json.
// Knobs: BENCH_OCI_MB=100  BENCH_OCI_LAYERS=5  BENCH_OCI_ROUNDS=5
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { copyImage, encodeJson, MediaType, OciLayout, RegistryClient, sha256Digest } from "@platform/oci";
import { countingProxy, startRegistry } from "../harness/registry.ts";
import { requirePeers } from "../peers/index.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const MB = Number(process.env.BENCH_OCI_MB ?? 100);
const LAYERS = Number(process.env.BENCH_OCI_LAYERS ?? 5);
const ROUNDS = Number(process.env.BENCH_OCI_ROUNDS ?? 5);
const run = promisify(execFile);

const peers = requirePeers("olareg", "skopeo");
if (!peers.ok) {
  console.error(`oci bench skipped: ${peers.reason}`);
  process.exit(process.env.CI === "true" ? 1 : 0);
}

/** Random layers, gzip level 1 (random data does not shrink; it must be real gzip so skopeo keeps it). */
async function buildLayout(dir) {
  const layout = await OciLayout.create(dir);
  const per = Math.floor((MB * 1024 * 1024) / LAYERS);
  const layers = [];
  const diffIds = [];
  for (let i = 0; i < LAYERS; i++) {
    const raw = randomBytes(per);
    const gz = new Uint8Array(gzipSync(raw, { level: 1 }));
    diffIds.push(sha256Digest(raw));
    await layout.writeBlob(gz);
    layers.push({ mediaType: MediaType.ociLayerGzip, digest: sha256Digest(gz), size: gz.byteLength });
  }
  const config = encodeJson({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: diffIds },
  });
  await layout.writeBlob(config);
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: sha256Digest(config), size: config.byteLength },
    layers,
  });
  await layout.addManifest(manifest, MediaType.ociManifest, "v1");
  return { bytes: layers.reduce((n, l) => n + l.size, config.byteLength), digest: sha256Digest(manifest) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const tmp = await mkdtemp(join(tmpdir(), "bench-oci-"));
try {
  const dir = join(tmp, "layout");
  const image = await buildLayout(dir);
  console.log(`image: ${LAYERS} layers, ${(image.bytes / 1024 / 1024).toFixed(1)} MiB, ${image.digest}`);
  const ours = async (host, repo) => {
    const client = new RegistryClient();
    await copyImage({ layout: dir, reference: "v1" }, `${host}/${repo}:v1`, { client, referrers: false });
  };
  const skopeo = async (host, repo) => {
    const args = ["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"];
    await run(peers.paths.skopeo, [...args, `oci:${dir}:v1`, `docker://${host}/${repo}:v1`], {
      timeout: 300_000,
      maxBuffer: 10_000_000,
    });
  };
  const tools = { ours, skopeo };
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    // A fresh registry (new port) per round: skopeo's blob-info cache (/var/lib/containers/cache for
    // root) would otherwise mount blobs it pushed in an earlier round — not a cold push.
    const reg = await startRegistry("olareg", { storage: "dir" });
    const proxy = await countingProxy(reg.host);
    try {
      const order = round % 2 === 0 ? ["ours", "skopeo"] : ["skopeo", "ours"];
      const r = {};
      for (const name of order) {
        const repo = `bench/${name}`;
        const first = await proxy.measure(() => tools[name](proxy.host, repo));
        const again = await proxy.measure(() => tools[name](proxy.host, repo));
        r[name] = { first, again };
      }
      // Both pushed the same manifest bytes.
      const check = new RegistryClient();
      for (const name of order) {
        const d = await check.resolve(`${reg.host}/bench/${name}:v1`);
        if (d.digest !== image.digest)
          throw new Error(`${name} pushed ${d.digest}, expected ${image.digest}`);
      }
      rounds.push(r);
      console.log(
        `round ${round + 1}: ours ${r.ours.first.ms} ms / ${r.ours.first.requests} req (again ${r.ours.again.ms} ms / ${r.ours.again.requests} req) — skopeo ${r.skopeo.first.ms} ms / ${r.skopeo.first.requests} req (again ${r.skopeo.again.ms} ms / ${r.skopeo.again.requests} req)`,
      );
    } finally {
      await proxy.close();
      await reg.stop();
    }
  }
  const summary = (name, phase) => ({
    ms: median(rounds.map((r) => r[name][phase].ms)),
    requests: median(rounds.map((r) => r[name][phase].requests)),
    byMethod: rounds[0][name][phase].byMethod,
  });
  const result = {
    benchmark: "oci-push",
    image: { layers: LAYERS, bytes: image.bytes, digest: image.digest },
    rounds: ROUNDS,
    registry:
      "olareg (referrers API) on 127.0.0.1, disk storage, a fresh one per round; requests counted by one proxy in front of it",
    ours: { first: summary("ours", "first"), again: summary("ours", "again") },
    skopeo: { first: summary("skopeo", "first"), again: summary("skopeo", "again") },
  };
  result.ratio = {
    timeFirst: +(result.ours.first.ms / result.skopeo.first.ms).toFixed(2),
    requestsFirst: +(result.ours.first.requests / result.skopeo.first.requests).toFixed(2),
    timeAgain: +(result.ours.again.ms / result.skopeo.again.ms).toFixed(2),
    requestsAgain: +(result.ours.again.requests / result.skopeo.again.requests).toFixed(2),
  };
  const row = (label, o, s, k) =>
    `${label.padEnd(26)} ${String(o[k]).padStart(8)} ${String(s[k]).padStart(8)} ${(o[k] / s[k]).toFixed(2).padStart(7)}`;
  console.log(`\n${"".padEnd(26)} ${"ours".padStart(8)} ${"skopeo".padStart(8)} ${"ratio".padStart(7)}`);
  console.log(row("push, ms (median)", result.ours.first, result.skopeo.first, "ms"));
  console.log(row("push, HTTP requests", result.ours.first, result.skopeo.first, "requests"));
  console.log(row("push again, ms", result.ours.again, result.skopeo.again, "ms"));
  console.log(row("push again, HTTP requests", result.ours.again, result.skopeo.again, "requests"));
  console.log(
    `requests by method — ours: ${JSON.stringify(result.ours.first.byMethod)} again ${JSON.stringify(result.ours.again.byMethod)}`,
  );
  console.log(
    `                  skopeo: ${JSON.stringify(result.skopeo.first.byMethod)} again ${JSON.stringify(result.skopeo.again.byMethod)}`,
  );
  mkdirSync(join(ROOT, "bench-results"), { recursive: true });
  writeFileSync(join(ROOT, "bench-results", "oci.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log("wrote bench-results/oci.json");
} finally {
  await rm(tmp, { recursive: true, force: true });
}

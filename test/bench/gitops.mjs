// digest-bump benchmark (issue 6): a generated config repo of 1,000 services × 3 environments.
//   (a) locate + edit every reference of one image (goal < 200 ms), end to end on disk and in memory;
//   (b) bump 100 images (goal < 1 s);
//   (c) the same edits with the real `kustomize edit set image <name>=<newName>:<tag>@<digest>` run in each
//       overlay directory: time ratio, and bytes changed outside the digests (ours must be 0).
// Prints the figures and writes bench-results/gitops.json (git-ignored).
// Knobs: BENCH_GITOPS_SERVICES=1000  BENCH_GITOPS_IMAGES=100  BENCH_RUNS=5  KUSTOMIZE=<path>  BENCH_KEEP=1
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { applyChanges, diskReader, planBump } from "@platform/gitops";
import { load } from "js-yaml";
import { bytesOutsideDigests } from "./gitops/diff.mjs";
import {
  AGENT,
  digestOf,
  ENVS,
  generateRepo,
  imageOf,
  isHelm,
  serviceName,
  teamOf,
} from "./gitops/generate.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const SERVICES = Number(process.env.BENCH_GITOPS_SERVICES ?? 1000);
const IMAGES = Number(process.env.BENCH_GITOPS_IMAGES ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GOALS = { oneImageMs: 200, hundredImagesMs: 1000, bytesOutsideDigests: 0 };

const log = (s = "") => process.stdout.write(`${s}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const num = (n) => n.toLocaleString("en-US");

if (Number(process.versions.node.split(".")[0]) < 24) {
  console.error(`node ${process.version}: the bench needs Node 24 (run it with npm run bench)`);
  process.exit(2);
}

/** The pinned kustomize from test/peers (installed on demand), or $KUSTOMIZE; undefined when unavailable. */
function findKustomize() {
  if (process.env.KUSTOMIZE) return existsSync(process.env.KUSTOMIZE) ? process.env.KUSTOMIZE : undefined;
  const bin = join(ROOT, ".peers", "bin", "kustomize");
  if (!existsSync(bin)) {
    log("kustomize is not installed; installing the pinned version (test/peers) ...");
    spawnSync(process.execPath, [join(ROOT, "test/peers/install.mjs"), "kustomize", "--best-effort"], {
      stdio: "inherit",
    });
  }
  return existsSync(bin) ? bin : undefined;
}

const tmp = mkdtempSync(join(tmpdir(), "platform-bench-gitops-"));
const cleanup = () => {
  if (process.env.BENCH_KEEP !== "1") rmSync(tmp, { recursive: true, force: true });
};
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });

// ---- the repo ---------------------------------------------------------------------------------------------
const tGen = performance.now();
const { files: original } = generateRepo(SERVICES);
const master = join(tmp, "original");
for (const [path, text] of original) {
  mkdirSync(dirname(join(master, path)), { recursive: true });
  writeFileSync(join(master, path), text);
}
const copy = (name) => {
  const dir = join(tmp, name);
  cpSync(master, dir, { recursive: true });
  return dir;
};
const totalBytes = [...original.values()].reduce((n, t) => n + Buffer.byteLength(t), 0);
const kustomize = findKustomize();
const kustomizeVersion = kustomize
  ? spawnSync(kustomize, ["version"], { encoding: "utf8" }).stdout.trim()
  : undefined;

log(
  `platform digest-bump benchmark — node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}`,
);
log(
  `repo: ${num(SERVICES)} services × ${ENVS.length} environments = ${num(original.size)} files, ${num(totalBytes)} bytes (generated in ${fmtMs(performance.now() - tGen)})`,
);
log(
  `peer: ${kustomize ? `kustomize ${kustomizeVersion} (${relative(ROOT, kustomize) || kustomize})` : "kustomize unavailable — peer figures skipped"}`,
);
log(`runs: ours ${RUNS} (median); temp dir ${tmp}\n`);

/** A reader over files already in memory (the domain work alone); it sees later `set`s on the map. */
function memoryReader(map) {
  const paths = [...map.keys()].sort();
  return {
    list: async (dir) => (dir ? paths.filter((p) => p === dir || p.startsWith(`${dir}/`)) : paths),
    read: async (p) => map.get(p),
  };
}

// ---- (a) one image: locate + edit every reference ------------------------------------------------------------
const oneImage = [
  { label: "one kustomize service (3 overlays)", image: imageOf(0) },
  { label: "one Helm service (3 values files)", image: imageOf(9) },
  { label: `shared sidecar in every environment of every service`, image: AGENT },
];
const aDir = copy("ours-a");
const a = [];
const overlays = (i) => ENVS.map((env) => `services/${teamOf(i)}/${serviceName(i)}/overlays/${env}`);
log("(a) locate + edit all references of one image");
for (const { label, image, paths } of [
  ...oneImage,
  { label: "one kustomize service, paths = its 3 overlays", image: imageOf(0), paths: overlays(0) },
]) {
  const disk = [];
  const memory = [];
  let plan;
  const req = (r) => ({ image, digest: digestOf(`${image}-run-${r % 2}`), paths: paths ?? ["services"] });
  for (let r = 0; r < RUNS; r++) {
    // Alternate between two digests so every run really edits and writes.
    const t0 = performance.now();
    plan = await planBump(diskReader(aDir), req(r));
    await applyChanges(aDir, plan.changes);
    disk.push(performance.now() - t0);
    const t1 = performance.now();
    await planBump(memoryReader(original), req(r));
    memory.push(performance.now() - t1);
  }
  const entry = {
    label,
    image,
    searched: paths ?? ["services"],
    references: plan.references.length,
    changedFiles: plan.changes.length,
    endToEndMs: median(disk),
    endToEndSamplesMs: disk,
    inMemoryMs: median(memory),
    inMemorySamplesMs: memory,
  };
  a.push(entry);
  const what = paths ? `list + read ${paths.length} dirs` : `list + read ${num(original.size)} files`;
  log(
    `   ${label}: ${num(entry.references)} refs in ${num(entry.changedFiles)} files — ${fmtMs(entry.endToEndMs)} end to end (${what} + locate + edit + verify + atomic writes), ${fmtMs(entry.inMemoryMs)} in memory`,
  );
}

// ---- (b) 100 images ---------------------------------------------------------------------------------------
const batch = [];
for (let i = 0; batch.length < IMAGES && i < SERVICES; i++) if (!isHelm(i)) batch.push(i);
const newDigest = (i) => digestOf(`${serviceName(i)}-bumped`);
log(`\n(b) bump ${batch.length} images (each in all ${ENVS.length} environments)`);
const bRuns = [];
let bDir;
let bRefs = 0;
let bChanged = new Map();
for (let r = 0; r < Math.max(1, Math.min(RUNS, 3)); r++) {
  bDir = copy(`ours-b-${r}`);
  const t0 = performance.now();
  // One read of the checkout, then every plan sees the previous plans' results (as one commit would).
  const reader = diskReader(bDir);
  const current = new Map();
  for (const p of await reader.list("services")) current.set(p, await reader.read(p));
  const tRead = performance.now() - t0;
  const changed = new Map();
  const inMemory = memoryReader(current);
  let refs = 0;
  for (const i of batch) {
    const plan = await planBump(inMemory, { image: imageOf(i), digest: newDigest(i), paths: ["services"] });
    refs += plan.references.length;
    for (const c of plan.changes) {
      current.set(c.file, c.after);
      changed.set(c.file, {
        file: c.file,
        before: changed.get(c.file)?.before ?? c.before,
        after: c.after,
        edits: [],
      });
    }
  }
  await applyChanges(bDir, [...changed.values()]);
  const ms = performance.now() - t0;
  bRuns.push({ ms, readMs: tRead });
  bRefs = refs;
  bChanged = changed;
}
const bMs = median(bRuns.map((x) => x.ms));
log(
  `   ours: ${fmtMs(bMs)} median (${bRuns.map((x) => fmtMs(x.ms)).join(", ")}) for ${num(bRefs)} refs in ${num(bChanged.size)} files — of which reading the checkout ${fmtMs(median(bRuns.map((x) => x.readMs)))}`,
);

// Ours, bytes changed outside digests over every file we wrote.
let oursOutside = 0;
for (const file of bChanged.keys()) {
  oursOutside += bytesOutsideDigests(original.get(file), readFileSync(join(bDir, file), "utf8"));
}

// ---- (c) kustomize edit set image over the same overlays ------------------------------------------------------
let peer;
if (kustomize) {
  const run = (dir, i, e) => {
    const tag = `1.${i % 9}.${e}`; // the overlay's own tag: only the digest changes
    const arg = `${serviceName(i)}=${imageOf(i)}:${tag}@${newDigest(i)}`;
    const res = spawnSync(kustomize, ["edit", "set", "image", arg], { cwd: dir, encoding: "utf8" });
    if (res.status !== 0) throw new Error(`kustomize edit set image failed in ${dir}: ${res.stderr}`);
  };
  const overlay = (root, i, env) => join(root, "services", teamOf(i), serviceName(i), "overlays", env);

  // (a) for kustomize: the one kustomize service, its three overlays.
  const kaDir = copy("kustomize-a");
  const kaRuns = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (const [e, env] of ENVS.entries()) run(overlay(kaDir, 0, env), 0, e);
    kaRuns.push(performance.now() - t0);
  }
  // (b) for kustomize: the same images, every overlay.
  const kbDir = copy("kustomize-b");
  const t0 = performance.now();
  for (const i of batch) for (const [e, env] of ENVS.entries()) run(overlay(kbDir, i, env), i, e);
  const kbMs = performance.now() - t0;

  let outside = 0;
  let reformatted = 0;
  let agree = 0;
  let compared = 0;
  const entries = (text) =>
    JSON.stringify(
      (load(text).images ?? [])
        .map((x) => ({ name: x.name, newName: x.newName, newTag: String(x.newTag), digest: x.digest }))
        .sort((p, q) => p.name.localeCompare(q.name)),
    );
  for (const i of batch) {
    for (const env of ENVS) {
      const file = relative(kbDir, join(overlay(kbDir, i, env), "kustomization.yaml"));
      const theirs = readFileSync(join(kbDir, file), "utf8");
      const ours = readFileSync(join(bDir, file), "utf8");
      const bytes = bytesOutsideDigests(original.get(file), theirs);
      outside += bytes;
      if (bytes > 0) reformatted++;
      compared++;
      if (entries(theirs) === entries(ours)) agree++;
    }
  }
  peer = {
    version: kustomizeVersion,
    oneImage: { invocations: ENVS.length, ms: median(kaRuns), samplesMs: kaRuns },
    hundredImages: { invocations: batch.length * ENVS.length, ms: kbMs },
    bytesOutsideDigests: outside,
    filesReformatted: reformatted,
    filesCompared: compared,
    sameImagesAsOurs: agree,
  };
  log(`\n(c) kustomize edit set image <name>=<newName>:<tag>@<digest>, once per overlay`);
  const scoped = a[a.length - 1];
  log(
    `   one image: ${fmtMs(peer.oneImage.ms)} median for ${ENVS.length} invocations (told the 3 directories) — ratio kustomize/ours ${(peer.oneImage.ms / scoped.endToEndMs).toFixed(1)}× against ours on the same 3 directories, ${(peer.oneImage.ms / a[0].endToEndMs).toFixed(1)}× against ours searching the whole repo`,
  );
  log(
    `   ${batch.length} images: ${fmtMs(kbMs)} for ${num(peer.hundredImages.invocations)} invocations — ratio kustomize/ours ${(kbMs / bMs).toFixed(1)}×`,
  );
  log(
    `   bytes changed outside digests: kustomize ${num(outside)} (${num(reformatted)} of ${num(compared)} files reformatted), ours ${num(oursOutside)} (${num(bChanged.size)} files)`,
  );
  log(`   same images entries after both (parsed): ${num(agree)} of ${num(compared)} files`);
}

const result = {
  node: process.version,
  cpu: cpus()[0]?.model,
  services: SERVICES,
  environments: ENVS,
  files: original.size,
  bytes: totalBytes,
  runs: RUNS,
  oneImage: a,
  hundredImages: {
    images: batch.length,
    references: bRefs,
    changedFiles: bChanged.size,
    ms: bMs,
    samples: bRuns,
    bytesOutsideDigests: oursOutside,
  },
  kustomize: peer ?? null,
  ratio: peer
    ? {
        oneImageSameDirectories: peer.oneImage.ms / a[a.length - 1].endToEndMs,
        oneImageWholeRepoSearched: peer.oneImage.ms / a[0].endToEndMs,
        hundredImages: peer.hundredImages.ms / bMs,
      }
    : null,
  goals: {
    ...GOALS,
    oneImageMet: a[0].endToEndMs < GOALS.oneImageMs,
    hundredImagesMet: bMs < GOALS.hundredImagesMs,
    bytesOutsideDigestsMet: oursOutside === 0,
  },
};
mkdirSync(join(ROOT, "bench-results"), { recursive: true });
writeFileSync(join(ROOT, "bench-results", "gitops.json"), `${JSON.stringify(result, null, 2)}\n`);
log(
  `\ngoals: one image < ${GOALS.oneImageMs} ms ${result.goals.oneImageMet ? "met" : "MISSED"} (${fmtMs(a[0].endToEndMs)}), ` +
    `${batch.length} images < ${GOALS.hundredImagesMs} ms ${result.goals.hundredImagesMet ? "met" : "MISSED"} (${fmtMs(bMs)}), ` +
    `0 bytes outside digests ${result.goals.bytesOutsideDigestsMet ? "met" : "MISSED"} (${oursOutside})`,
);
log(`wrote ${relative(ROOT, join(ROOT, "bench-results", "gitops.json"))}`);

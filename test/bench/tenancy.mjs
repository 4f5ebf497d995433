// Benchmark of `platform team render` (issue 16): 100 teams × 20 services (2,000 services, every one called
// by two others across teams, a third exposed, a quarter reading Key Vault secrets) rendered from platform.yaml
// text: parse + schema + validation, the render itself, and the write into an empty config repo. Target: the
// render under 1 s. There is no peer tool that renders the same objects, so the figure stands alone against
// the target. Writes bench-results/tenancy.json.
// Knobs: BENCH_TENANCY_TEAMS=100  BENCH_TENANCY_SERVICES=20  BENCH_TENANCY_RUNS=5
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkRender, parseTeamsConfig, renderTeams, writeRender } from "@platform/tenancy";
import { stringify } from "yaml";

const ROOT = join(import.meta.dirname, "..", "..");
const TEAMS = Number(process.env.BENCH_TENANCY_TEAMS ?? 100);
const SERVICES = Number(process.env.BENCH_TENANCY_SERVICES ?? 20);
const RUNS = Number(process.env.BENCH_TENANCY_RUNS ?? 5);
const TARGET_MS = 1000;

const hex = (n, i) => i.toString(16).padStart(8, "0").repeat(8).slice(0, n);
const guid = (i) => `${hex(8, i)}-0000-4000-8000-${hex(12, i + 1)}`;
const text = stringify({
  registries: { trusted: ["northwindacr.azurecr.io"] },
  tenancy: { out: "teams", tenantId: guid(0) },
  teams: Array.from({ length: TEAMS }, (_, t) => ({
    name: `team-${t}`,
    namespace: `team-${t}`,
    owners: [guid(t + 1)],
    keyVault: `kv-team-${t}`,
    services: Array.from({ length: SERVICES }, (_, s) => ({
      name: `svc-${s}`,
      port: 8080,
      image: `northwindacr.azurecr.io/team-${t}/svc-${s}@sha256:${hex(64, t * SERVICES + s)}`,
      calledBy: [`team-${(t + 1) % TEAMS}/svc-${s}`, `svc-${(s + 1) % SERVICES}`],
      ...(s % 4 === 0 ? { secrets: ["db-password"] } : {}),
      ...(s % 3 === 0 ? { expose: { host: `svc-${s}.team-${t}.example` } } : {}),
      pool: ["general", "memory", "spot", "gpu"][s % 4],
      ...(s % 2 === 0 ? { clientId: guid(t * SERVICES + s) } : {}),
    })),
  })),
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f) => {
  const t0 = performance.now();
  const v = f();
  return [performance.now() - t0, v];
};
const parse = [];
const render = [];
let result;
for (let i = 0; i < RUNS; i++) {
  const [p, config] = time(() => parseTeamsConfig(text, "platform.yaml"));
  const [r, out] = time(() => renderTeams(config));
  parse.push(p);
  render.push(r);
  result = out;
}
const dir = mkdtempSync(join(tmpdir(), "bench-tenancy-"));
let t0 = performance.now();
await writeRender(dir, result);
const writeMs = performance.now() - t0;
t0 = performance.now();
const drift = await checkRender(dir, result);
const checkMs = performance.now() - t0;
rmSync(dir, { recursive: true, force: true });
if (drift.drifted.length) throw new Error(`a fresh render drifted: ${drift.drifted.slice(0, 3).join(", ")}`);

const bytes = [...result.files.values()].reduce((n, s) => n + s.length, 0);
const figures = {
  teams: TEAMS,
  services: TEAMS * SERVICES,
  files: result.files.size,
  megabytes: +(bytes / 1e6).toFixed(1),
  parseValidateMs: +median(parse).toFixed(0),
  renderMs: +median(render).toFixed(0),
  writeMs: +writeMs.toFixed(0),
  checkMs: +checkMs.toFixed(0),
  targetMs: TARGET_MS,
};
console.log(
  `tenancy: ${TEAMS} teams × ${SERVICES} services → ${figures.files} files (${figures.megabytes} MB)`,
);
console.log(`  parse + validate platform.yaml  ${figures.parseValidateMs} ms (median of ${RUNS})`);
console.log(
  `  render                          ${figures.renderMs} ms (median of ${RUNS}; target < ${TARGET_MS} ms: ${figures.renderMs < TARGET_MS ? "met" : "MISSED"})`,
);
console.log(
  `  write into an empty config repo ${figures.writeMs} ms; team check of it ${figures.checkMs} ms`,
);
mkdirSync(join(ROOT, "bench-results"), { recursive: true });
writeFileSync(join(ROOT, "bench-results", "tenancy.json"), `${JSON.stringify(figures, null, 2)}\n`);
if (figures.renderMs >= TARGET_MS) process.exitCode = 1;

// Cold start of a bundled action, run as GitHub runs it: a fresh `node dist/index.js` with INPUT_* and the
// runner's file commands. Measures spawn → first byte in GITHUB_OUTPUT (the first output line; GitHub
// reads the file after the step, but this is when the work is done) and spawn → exit, against a bare
// `node -e 0` on the same machine.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, statSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One spawn; resolves with ms to first GITHUB_OUTPUT write (if any) and ms to exit. */
function once(args, env, outputFile) {
  return new Promise((resolve, reject) => {
    let firstOutput;
    let watcher;
    const t0 = performance.now();
    // inotify-backed watch: the callback fires when the child appends its first output line. A short poll
    // backs it up in case the event is coalesced with the exit.
    const seen = () => {
      if (firstOutput === undefined && outputFile && statSync(outputFile).size > 0)
        firstOutput = performance.now() - t0;
    };
    if (outputFile) watcher = watch(outputFile, seen);
    const poll = outputFile ? setInterval(seen, 1) : undefined;
    const p = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("error", reject);
    p.on("exit", (code) => {
      const exit = performance.now() - t0;
      if (outputFile) seen();
      watcher?.close();
      clearInterval(poll);
      resolve({ exit, firstOutput, code, err });
    });
  });
}

/**
 * Runs the action `runs` times (after one unmeasured warm-up that fills the page cache) on a one-object
 * manifest; returns medians, all samples, the bundle size and the `node -e 0` baseline.
 */
export async function actionColdStart({ bundle, tmp, runs = 10 }) {
  const ws = join(tmp, "action-ws");
  mkdirSync(join(ws, "deploy"), { recursive: true });
  writeFileSync(join(ws, "platform.yaml"), "registries:\n  trusted: [acrplatform.azurecr.io]\n");
  writeFileSync(
    join(ws, "deploy", "app.yaml"),
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team-a}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: api
          image: acrplatform.azurecr.io/orders/api@sha256:${"ab".repeat(32)}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}}
`,
  );
  const samples = [];
  for (let i = 0; i <= runs; i++) {
    const runnerTemp = join(tmp, `runner-temp-${i}`);
    mkdirSync(runnerTemp, { recursive: true });
    const out = join(runnerTemp, "github_output");
    const summary = join(runnerTemp, "step_summary");
    writeFileSync(out, "");
    writeFileSync(summary, "");
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: ws,
      RUNNER_TEMP: runnerTemp,
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: summary,
      INPUT_MANIFESTS: "deploy/app.yaml",
      INPUT_RENDER: "none",
      INPUT_POLICIES: "builtin",
      INPUT_MODE: "enforce",
      INPUT_CONFIG: "platform.yaml",
    };
    const r = await once([bundle], env, out);
    if (r.code !== 0) throw new Error(`action exited ${r.code}: ${r.err.slice(0, 2000)}`);
    if (r.firstOutput === undefined) throw new Error("action wrote nothing to GITHUB_OUTPUT");
    if (i > 0) samples.push(r);
    rmSync(runnerTemp, { recursive: true, force: true });
  }
  const bare = [];
  for (let i = 0; i <= runs; i++) {
    const r = await once(["-e", "0"], { PATH: process.env.PATH }, undefined);
    if (i > 0) bare.push(r.exit);
  }
  return {
    runs,
    bundleBytes: statSync(bundle).size,
    firstOutputMedianMs: median(samples.map((s) => s.firstOutput)),
    exitMedianMs: median(samples.map((s) => s.exit)),
    nodeBaselineMedianMs: median(bare),
    samples: samples.map((s) => ({ firstOutputMs: s.firstOutput, exitMs: s.exit })),
  };
}

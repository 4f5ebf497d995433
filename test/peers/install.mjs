#!/usr/bin/env node
// Installs the pinned peer tools the tests run against (real kustomize, helm, gator, kube-apiserver, kyverno…)
// (and PyPI-packaged ones, zizmor) into the git-ignored .peers/ folder, keyed by version so a changed pin rebuilds and an unchanged one is a no-op.
//   node test/peers/install.mjs [name…]   install (all by default, plus the Debian peers: see below)
//   node test/peers/install.mjs --check   only report what is installed
//   --best-effort                         exit 0 even if a build fails (the demo can run without peers)
//   --test                                what `npm test` runs: a failure is an error with CI=true; otherwise
//                                         the suites that need the missing peer skip, each with the reason
//   --verbose (or PEERS_VERBOSE=1)        stream go's output and print each cached peer's --version
// Go's output is kept and printed only when a build fails; a build prints one progress line per 30 s.
// The Debian peers (skopeo, buildah, docker-registry, etcd-server, shellcheck, chromium, busybox-static, zsh, fish) are installed with apt-get when this runs
// as root (CI); otherwise the exact command to install the missing ones is printed.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const peersDir = join(root, ".peers");
const binDir = join(peersDir, "bin");
const pins = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "peers.json"), "utf8"));
const args = process.argv.slice(2);
const check = args.includes("--check");
const forTests = args.includes("--test");
const verbose = args.includes("--verbose") || process.env.PEERS_VERBOSE === "1";
const names = args.filter((a) => !a.startsWith("--"));
const wanted = names.length ? names : Object.keys(pins);

for (const n of wanted) {
  if (!pins[n]) {
    console.error(`unknown peer "${n}"; known: ${Object.keys(pins).join(", ")}`);
    process.exit(2);
  }
}

function versionOf(bin, pin) {
  const r = spawnSync(bin, pin.versionArgs, { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 ? (r.stdout || r.stderr).trim().split("\n")[0] : undefined;
}

/**
 * Runs go with its output kept (streamed only with --verbose) and a progress line every 30 s (a large build
 * is silent for minutes). Resolves with the exit status and the output, for the caller to print on failure.
 */
function goQuiet(label, args, opts) {
  return new Promise((resolve) => {
    const started = Date.now();
    const output = [];
    let compiled = 0;
    let downloaded = 0;
    const child = spawn("go", args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    const onData = (chunk) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line) continue;
        if (line.startsWith("go: downloading ")) downloaded++;
        // `go build -v` names each package as it is compiled: counted, not kept (thousands of lines).
        else if (/^[\w.~-]+(\/[\w.~+-]+)*$/.test(line)) compiled++;
        else output.push(line);
        if (verbose) process.stderr.write(`${line}\n`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const beat = setInterval(() => {
      const min = ((Date.now() - started) / 60_000).toFixed(1);
      console.log(`${label}: ${min} min, ${downloaded} modules downloaded, ${compiled} packages compiled…`);
    }, 30_000);
    child.on("error", (e) => output.push(String(e)));
    child.on("close", (status) => {
      clearInterval(beat);
      resolve({ status, output: output.join("\n") });
    });
  });
}

/** The replace directives of a module's go.mod (a dependency's own replaces are ignored by Go; see below). */
function replacesOf(goModText) {
  const out = [];
  const body = goModText.replace(/\/\/.*$/gm, "");
  const lines = [];
  for (const m of body.matchAll(/^replace\s*\(([\s\S]*?)^\)/gm)) lines.push(...m[1].split("\n"));
  for (const m of body.matchAll(/^replace\s+([^(\s].*)$/gm)) lines.push(m[1]);
  for (const line of lines) {
    const m = line.trim().match(/^(\S+)(?:\s+(\S+))?\s*=>\s*(\S+)(?:\s+(\S+))?$/);
    if (m) out.push({ from: m[1], fromVersion: m[2], to: m[3], toVersion: m[4] });
  }
  return out;
}

/**
 * `go install mod@version` also reads the module's version list to report deprecation; the proxy here
 * refuses that list for some modules (403) while serving the exact version. A scratch module that
 * requires the exact version and builds the command avoids the list lookup. It is also the only way to
 * build a module whose go.mod has replace directives (kubernetes, kyverno): Go ignores a dependency's
 * replaces, so `inheritReplaces` copies them into the scratch module — a local path (`./staging/…`,
 * kubernetes' staging modules) becomes the published module at `localReplaceVersion`.
 */
async function buildInScratchModule(name, pin, bin, env) {
  const dir = mkdtempSync(join(tmpdir(), "peer-"));
  try {
    const modRoot = pin.moduleRoot ?? pin.module;
    if (verbose) console.log(`${name}: building in a scratch module (requires ${modRoot}@${pin.version})…`);
    const opts = { cwd: dir, env: { ...env, GOFLAGS: `${env.GOFLAGS} -mod=mod` } };
    const go = (args) => goQuiet(name, args, opts);
    let r = await go(["mod", "init", "peers.local/build"]);
    if (r.status === 0 && pin.inheritReplaces) {
      const info = spawnSync("go", ["list", "-m", "-json", `${modRoot}@${pin.version}`], {
        ...opts,
        encoding: "utf8",
      });
      if (info.status !== 0) return { status: info.status, output: info.stderr };
      const replaces = replacesOf(readFileSync(JSON.parse(info.stdout).GoMod, "utf8"));
      const edits = [`-require=${modRoot}@${pin.version}`];
      for (const rep of replaces) {
        const from = rep.fromVersion ? `${rep.from}@${rep.fromVersion}` : rep.from;
        if (rep.to.startsWith(".")) {
          if (!pin.localReplaceVersion)
            return { status: 1, output: `${rep.from} => ${rep.to} is a local path; set localReplaceVersion` };
          edits.push(`-replace=${from}=${rep.from}@${pin.localReplaceVersion}`);
        } else edits.push(`-replace=${from}=${rep.to}${rep.toVersion ? `@${rep.toVersion}` : ""}`);
      }
      if (verbose)
        console.log(`${name}: ${replaces.length} replace directive(s) copied from ${modRoot}'s go.mod`);
      r = await go(["mod", "edit", ...edits]);
    } else if (r.status === 0) r = await go(["get", `${modRoot}@${pin.version}`]);
    const ldflags = pin.ldflags ? ["-ldflags", pin.ldflags] : [];
    if (r.status === 0) r = await go(["build", "-v", ...ldflags, "-o", bin, pin.module]);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peers from Debian's packages, found on PATH: binary → package. */
const systemPeers = {
  skopeo: "skopeo",
  buildah: "buildah",
  "docker-registry": "docker-registry",
  etcd: "etcd-server",
  // actionlint checks each workflow's run: scripts with it when it is on PATH.
  shellcheck: "shellcheck",
  // The job-summary test renders each summary in headless Chromium (driven by puppeteer-core).
  chromium: "chromium",
  // A static shell for RUN steps (build secrets) in the test builds' FROM scratch images.
  busybox: "busybox-static",
  // platform completion zsh|fish runs in the real shells.
  zsh: "zsh",
  fish: "fish",
};
function onPath(bin) {
  return (process.env.PATH ?? "")
    .split(":")
    .concat("/usr/bin", "/usr/sbin")
    .some((d) => d && existsSync(join(d, bin)));
}
const isRoot = process.getuid?.() === 0;

/** Installs the missing Debian peers with apt-get as root; otherwise prints the command. False if any is missing. */
function systemPeersPresent() {
  const missing = Object.entries(systemPeers).filter(([bin]) => !onPath(bin));
  if (!missing.length) return true;
  const pkgs = missing.map(([, pkg]) => pkg);
  const cmd = `apt-get install -y --no-install-recommends ${pkgs.join(" ")}`;
  if (check || !isRoot || !onPath("apt-get")) {
    console.log(
      `${missing.map(([bin]) => bin).join(", ")}: not installed (Debian); install with: ${isRoot ? "" : "sudo "}${cmd}`,
    );
    return false;
  }
  console.log(`${pkgs.join(", ")}: installing from Debian with apt-get (root)…`);
  const apt = (a) =>
    spawnSync("apt-get", a, {
      encoding: "utf8",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 900_000,
    });
  let r = apt(["update", "-qq"]);
  if (r.status === 0) r = apt(["install", "-y", "-qq", "--no-install-recommends", ...pkgs]);
  if (r.status !== 0) {
    console.error(`${r.stdout ?? ""}${r.stderr ?? ""}\napt-get failed (exit ${r.status}): ${cmd}`);
    return false;
  }
  return missing.every(([bin]) => onPath(bin));
}

mkdirSync(binDir, { recursive: true });
let failed = false;
let built = false;
const cached = [];
let hasGo;
for (const name of wanted) {
  const pin = pins[name];
  const home = join(peersDir, `${name}-${pin.version}`);
  const bin = join(home, name);
  const fresh = !existsSync(bin);
  if (fresh) {
    if (check) {
      console.log(`${name}: not installed (pinned ${pin.version}; run npm run peers)`);
      failed = true;
      continue;
    }
    if (pin.pypi) {
      // A PyPI peer (zizmor ships its Rust binary as a wheel): pip installs it into its version folder, no venv.
      console.log(`${name}: installing ${pin.pypi}==${pin.version} from PyPI (once)…`);
      const r = spawnSync(
        "python3",
        [
          "-m",
          "pip",
          "install",
          "-q",
          "--disable-pip-version-check",
          "--no-warn-script-location",
          "--target",
          home,
          `${pin.pypi}==${pin.version}`,
        ],
        { encoding: "utf8", timeout: 600_000, env: { ...process.env, PIP_ROOT_USER_ACTION: "ignore" } },
      );
      const pipBin = join(home, "bin", name);
      if (r.status !== 0 || !existsSync(pipBin)) {
        console.error(
          `${r.stdout ?? ""}${r.stderr ?? ""}\n${name}: pip install failed (exit ${r.status}); is PyPI reachable and python3 -m pip installed?`,
        );
        rmSync(home, { recursive: true, force: true });
        failed = true;
        continue;
      }
      symlinkSync(join("bin", name), bin);
    } else {
      hasGo ??= spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
      if (!hasGo) {
        console.log(
          `${name}: not installed, and go is not on PATH: install Go (https://go.dev/dl/) to build it`,
        );
        failed = true;
        continue;
      }
      const started = Date.now();
      console.log(`${name}: building ${pin.module}@${pin.version} (a few minutes on 2 cores; once)…`);
      mkdirSync(home, { recursive: true });
      const env = {
        ...process.env,
        GOBIN: home,
        CGO_ENABLED: "0",
        GOFLAGS: "-trimpath -buildvcs=false",
        GOTOOLCHAIN: "local",
      };
      // A module with replace directives cannot be built by `go install`; go straight to the scratch module.
      let r = pin.inheritReplaces
        ? { status: 1 }
        : await goQuiet(name, ["install", "-v", `${pin.module}@${pin.version}`], { env });
      if (r.status !== 0 || !existsSync(bin)) r = await buildInScratchModule(name, pin, bin, env);
      if (r.status !== 0 || !existsSync(bin)) {
        if (r.output && !verbose) console.error(r.output.split("\n").slice(-200).join("\n"));
        console.error(`${name}: go build failed (exit ${r.status}); is the Go module proxy reachable?`);
        rmSync(home, { recursive: true, force: true });
        failed = true;
        continue;
      }
      built = true;
      console.log(`${name}: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  rmSync(join(binDir, name), { force: true });
  symlinkSync(bin, join(binDir, name));
  // Cached peers are listed on one line; running each one's --version is for --verbose and fresh builds.
  if (fresh || verbose)
    console.log(
      `${name}: ${versionOf(bin, pin) ?? "installed, but --version failed"} (${join(".peers", "bin", name)})`,
    );
  else cached.push(`${name} ${pin.version}`);
}
if (cached.length) console.log(`peers cached in .peers/bin: ${cached.join(", ")}`);
if (!names.length && !systemPeersPresent()) failed = true;
if (built) {
  // The build cache is only useful to rebuild the same pins, which the version-keyed folders make unnecessary.
  try {
    execFileSync("go", ["clean", "-cache"], { stdio: "ignore" });
  } catch {}
}
if (failed && args.includes("--best-effort")) {
  console.log("continuing without the missing peer(s); install Go and rerun `npm run peers` to get them");
  process.exit(0);
}
if (failed && forTests && process.env.CI !== "true") {
  console.log(
    "continuing: the suites that need a missing peer skip, each saying why (with CI=true this is an error)",
  );
  process.exit(0);
}
process.exit(failed && (!check || process.env.CI === "true") ? 1 : 0);

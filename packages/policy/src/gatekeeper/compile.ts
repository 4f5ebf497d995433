// Compiling Gatekeeper templates' Rego to WebAssembly with the `opa` CLI: each template's package is replaced by
// its own (as Gatekeeper gives each template its own compiler) and its libs, which must live under `data.lib`,
// are moved under it; every template of a run goes into one `opa build` (one entrypoint each), and OPA's
// errors are given back to the template they concern, with the names its author wrote.
import { execFile } from "node:child_process";
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { mapLimit } from "@platform/core/async";
import { errorMessage } from "@platform/core/errors";
import { type CacheEntry, type RegoCache, sha256 } from "./cache.ts";
import type { RegoTemplateSource } from "./types.ts";

const OPA_TIMEOUT_MS = 120_000;

export const NOT_INSTALLED = {
  reason: "the opa CLI is not installed, so Rego templates cannot be compiled",
  hint: "install it (npm run peers installs the pinned one) or use templates with a K8sNativeValidation (CEL) code path",
};

/** One distinct template source (several kinds may share it) and the package its Rego is moved to. */
export interface Unit {
  sourceKey: string;
  /** The package the template's Rego is moved to; from its content, so a cached module stays valid. */
  pkg: string;
  source: RegoTemplateSource;
  kinds: string[];
}

export type OpaLocation =
  | { ok: true; path: string; version: string }
  | { ok: false; reason: string; hint: string };

/** Finds opa without running it when its version is already known (a second run must not call opa at all). */
export async function locateOpa(opa: string, cache: RegoCache): Promise<OpaLocation> {
  const path = findExecutable(opa);
  if (!path) return { ok: false, ...NOT_INSTALLED };
  const st = statSync(path);
  const fingerprint = sha256(`${path}\0${st.size}\0${st.mtimeMs}`).slice(0, 32);
  const memo = `opa-${fingerprint}.version`;
  const known = await cache.note(memo);
  if (known) return { ok: true, path, version: known.trim() };
  try {
    const { stdout } = await run(path, ["version"]);
    const version = /^Version:\s*(\S+)/m.exec(stdout)?.[1];
    if (!version) throw new Error(`unexpected output of \`opa version\`: ${stdout.slice(0, 200)}`);
    await cache.setNote(memo, version);
    return { ok: true, path, version };
  } catch (err) {
    return {
      ok: false,
      reason: `the opa CLI at ${path} does not run (${errorMessage(err)}), so Rego templates cannot be compiled`,
      hint: NOT_INSTALLED.hint,
    };
  }
}

/** Synchronous: once per run, and an asynchronous call's thread-pool round trip waits for a core when busy. */
function findExecutable(name: string): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      const real = realpathSync(candidate);
      if (statSync(real).isFile()) return real;
    } catch {}
  }
  return undefined;
}

/**
 * One `opa build` for the whole batch. A template that breaks the build is taken out (OPA names its file) and
 * the rest is built again; errors OPA does not attribute to a file send every template to a build of its own.
 * A template that does not build as Rego v0 (what the gatekeeper-library is written in) is tried as Rego v1,
 * as Gatekeeper parses both.
 */
export async function compileUnits(
  opa: string,
  units: Unit[],
  cache: RegoCache,
): Promise<Map<Unit, CacheEntry>> {
  const out = new Map<Unit, CacheEntry>();
  const v0Errors = new Map<Unit, Failure>();
  let pending: Unit[] = [];
  for (const unit of units) {
    const problem = precheck(unit);
    if (problem) out.set(unit, problem);
    else pending.push(unit);
  }
  while (pending.length) {
    const built = await build(opa, pending, true);
    if (built.ok) {
      await storeModule(built.wasm, pending, cache, out);
      break;
    }
    if (built.failed.size === 0) {
      await mapLimit(pending, availableParallelism(), async (unit) => {
        const alone = await build(opa, [unit], true);
        if (alone.ok) await storeModule(alone.wasm, [unit], cache, out);
        else v0Errors.set(unit, failureOf(alone, unit));
      });
      break;
    }
    for (const [unit, message] of built.failed) v0Errors.set(unit, { message, known: true });
    pending = pending.filter((u) => !built.failed.has(u));
  }
  await mapLimit([...v0Errors.keys()], availableParallelism(), async (unit) => {
    const v0 = v0Errors.get(unit) ?? { message: "", known: false };
    const built = await build(opa, [unit], false);
    if (built.ok) return storeModule(built.wasm, [unit], cache, out);
    const v1 = failureOf(built, unit);
    // A parse error under v0 with a v1 parse that gets further means the template is written in v1.
    const chosen = /rego_parse_error/.test(v0.message) && !/rego_parse_error/.test(v1.message) ? v1 : v0;
    out.set(unit, {
      error: `${unit.kinds.join(", ")}: the Rego does not compile: ${chosen.message}`,
      hint: COMPILE_HINT,
      // Only what OPA pinned on the template is certain to happen again; anything else is tried next run.
      ...(chosen.known ? {} : { transient: true }),
    });
  });
  return out;
}

/** Why a template did not build; `known` when OPA's message names the template's own file. */
type Failure = { message: string; known: boolean };

function failureOf(result: BuildResult, unit: Unit): Failure {
  if (result.ok) return { message: "", known: false };
  const message = result.failed.get(unit);
  return message === undefined ? { message: result.message, known: false } : { message, known: true };
}

export const COMPILE_HINT =
  "fix the template's Rego (the line is inside spec.targets[0].rego, or libs[n] for a library)";

/** What Gatekeeper rejects before compiling, and what no offline run can evaluate. */
function precheck(unit: Unit): CacheEntry | undefined {
  const who = unit.kinds.join(", ");
  for (const [n, lib] of (unit.source.libs ?? []).entries()) {
    const pkg = /^[ \t]*package[ \t]+([^\s#;]+)/m.exec(codeOnly(lib))?.[1] ?? "";
    if (!/^lib[.[]/.test(pkg)) {
      return {
        error: `${who}: libs[${n}] declares package "${pkg}", but Gatekeeper requires library packages under lib (e.g. lib.helpers)`,
        hint: COMPILE_HINT,
      };
    }
  }
  const code = [unit.source.rego, ...(unit.source.libs ?? [])].map(codeOnly).join("\n");
  if (/(?<![\w.])external_data\s*\(/.test(code)) {
    return {
      error: `${who}: calls Gatekeeper's external_data builtin, which asks an external data provider running in the cluster; an offline run cannot evaluate it`,
      hint: "evaluate this template in the cluster (or with gator and the provider), or exclude it from the dry run",
    };
  }
  return undefined;
}

type BuildResult = { ok: true; wasm: Uint8Array } | { ok: false; failed: Map<Unit, string>; message: string };

async function build(opa: string, units: Unit[], v0: boolean): Promise<BuildResult> {
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), "platform-rego-"));
    // Files are named by package and passed relative to the build folder, so OPA's messages (and the file
    // names it compiles into the module) say which template they mean and carry no temp path.
    for (const unit of units) {
      await mkdir(join(dir, "src", unit.pkg), { recursive: true });
      await writeFile(join(dir, "src", unit.pkg, "template.rego"), wrapTemplate(unit));
      for (const [n, lib] of (unit.source.libs ?? []).entries())
        await writeFile(join(dir, "src", unit.pkg, `lib_${n}.rego`), wrapLib(unit, lib));
    }
    const args = ["build", "-t", "wasm", ...(v0 ? ["--v0-compatible"] : [])];
    for (const unit of units) args.push("-e", `${unit.pkg}/violation`);
    args.push("-o", "bundle.tar.gz", "src");
    try {
      await run(opa, args, dir);
    } catch (err) {
      // opa prints its errors on stdout.
      const { stdout, stderr } = err as { stdout?: unknown; stderr?: unknown };
      const text = `${String(stdout ?? "")}\n${String(stderr ?? "")}`.trim() || errorMessage(err);
      return { ok: false, failed: attributeErrors(text, units), message: localize(text) };
    }
    const wasm = await bundleFile(await readFile(join(dir, "bundle.tar.gz")), "policy.wasm");
    if (!wasm) throw new Error("opa build produced no policy.wasm");
    return { ok: true, wasm };
  } catch (err) {
    return { ok: false, failed: new Map(), message: `building with opa failed: ${errorMessage(err)}` };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

const FILE_RE = /src\/(t_[0-9a-f]+)\/(template|lib_(\d+))\.rego(?=:)/g;

/** OPA's errors name the file and line; give each template its own, with the file named as in the template. */
function attributeErrors(text: string, units: Unit[]): Map<Unit, string> {
  const byPkg = new Map(units.map((u) => [u.pkg, u]));
  const failed = new Map<Unit, string[]>();
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    const missing = /entrypoint "([^"/]+)\/violation" does not refer to a rule/.exec(line);
    const unit = missing && byPkg.get(missing[1] ?? "");
    if (unit) {
      failed.set(unit, ["the Rego defines no violation rule, which Gatekeeper requires"]);
      current = undefined;
      continue;
    }
    const matches = [...line.matchAll(FILE_RE)];
    if (!matches.length) {
      // Continuation lines (the offending source line and a caret) belong to the error above them.
      if (current && line.trim()) current.push(line.replace(/^\t/, "  "));
      continue;
    }
    for (const [n, m] of matches.entries()) {
      const owner = byPkg.get(m[1] ?? "");
      if (!owner) continue;
      const end = matches[n + 1]?.index ?? line.length;
      current = failed.get(owner) ?? [];
      current.push(unrewrite(localize(line.slice(m.index ?? 0, end).trim()), owner));
      failed.set(owner, current);
    }
  }
  return new Map([...failed].map(([u, lines]) => [u, lines.join("\n")]));
}

/** `src/<pkg>/template.rego:3` → `rego:3`, `src/<pkg>/lib_0.rego:5` → `libs[0]:5`: the names a template author knows. */
export function localize(text: string): string {
  return text.replace(FILE_RE, (_all, _pkg, _file, lib: string | undefined) =>
    lib === undefined ? "rego" : `libs[${lib}]`,
  );
}

async function storeModule(
  wasm: Uint8Array,
  units: Unit[],
  cache: RegoCache,
  out: Map<Unit, CacheEntry>,
): Promise<void> {
  const { name, sha256 } = await cache.putModule(wasm);
  for (const unit of units) out.set(unit, { wasm: name, entrypoint: `${unit.pkg}/violation`, sha256 });
}

/** The template's own package is replaced (line numbers kept), and `data.lib` becomes this template's libs. */
function wrapTemplate(unit: Unit): string {
  let replaced = false;
  return rewriteCode(unit.source.rego, (code) =>
    relocateLibRefs(code, unit).replace(
      /(^|\n)([ \t]*)package[ \t]+[^\s#;]+/,
      (all, nl: string, indent: string) => {
        if (replaced) return all;
        replaced = true;
        return `${nl}${indent}package ${unit.pkg}`;
      },
    ),
  );
}

function wrapLib(unit: Unit, lib: string): string {
  let replaced = false;
  return rewriteCode(lib, (code) =>
    relocateLibRefs(code, unit).replace(
      /(^|\n)([ \t]*)package[ \t]+lib\b/,
      (all, nl: string, indent: string) => {
        if (replaced) return all;
        replaced = true;
        return `${nl}${indent}package ${unit.pkg}.lib`;
      },
    ),
  );
}

function relocateLibRefs(code: string, unit: Unit): string {
  return code.replace(/(?<![\w.])data\.lib\b/g, `data.${unit.pkg}.lib`);
}

/** Undoes the renaming in OPA's messages, so users read their own names. */
function unrewrite(message: string, unit: Unit): string {
  return message
    .replaceAll(`data.${unit.pkg}.lib`, "data.lib")
    .replaceAll(`data.${unit.pkg}`, "data.<template>");
}

/** The text cut into code and the string literals and comments between it (which no rewrite may touch). */
function segments(text: string): Array<{ code: boolean; text: string }> {
  const out: Array<{ code: boolean; text: string }> = [];
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    let end = -1;
    if (c === "#") {
      end = text.indexOf("\n", i);
      if (end < 0) end = text.length;
    } else if (c === "`") {
      end = text.indexOf("`", i + 1);
      end = end < 0 ? text.length : end + 1;
    } else if (c === '"') {
      end = i + 1;
      while (end < text.length && text[end] !== '"' && text[end] !== "\n") end += text[end] === "\\" ? 2 : 1;
      end = Math.min(end + 1, text.length);
    }
    if (end < 0) {
      i++;
      continue;
    }
    out.push({ code: true, text: text.slice(from, i) }, { code: false, text: text.slice(i, end) });
    from = i = end;
  }
  out.push({ code: true, text: text.slice(from) });
  return out;
}

/** Applies `edit` to the code only, never to string literals or comments. */
function rewriteCode(text: string, edit: (code: string) => string): string {
  return segments(text)
    .map((s) => (s.code ? edit(s.text) : s.text))
    .join("");
}

/** The code with every string literal and comment emptied, for the checks that look for names. */
export function codeOnly(text: string): string {
  return segments(text)
    .map((s) => (s.code ? s.text : s.text.startsWith("#") ? "" : '""'))
    .join("");
}

/** A file of the gzipped tar bundle `opa build` writes, by name without the leading slash. */
async function bundleFile(tgz: Uint8Array, name: string): Promise<Uint8Array | undefined> {
  // Loaded on a cache miss only: a run served from the cache loads neither the tar reader nor zlib.
  const [{ unpackTar }, { gunzipSync }] = await Promise.all([import("modern-tar"), import("node:zlib")]);
  const entries = await unpackTar(gunzipSync(tgz));
  return entries.find(
    (e) => (e.header.type ?? "file") === "file" && e.header.name.replace(/^\/+/, "") === name,
  )?.data;
}

function run(file: string, args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd, timeout: OPA_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

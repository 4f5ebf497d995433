// Rego-only Gatekeeper templates, run the way Gatekeeper runs them but without Go: the `opa` CLI compiles
// every template of a run into one WebAssembly module (one entrypoint per template), the module is cached on
// disk, and `@open-policy-agent/opa-wasm` evaluates it. Gatekeeper's facts carried over (frameworks
// constraint/pkg/client/drivers/rego): the template's package is replaced by its own (here one per template,
// as Gatekeeper gives each template its own compiler), libs must live under `data.lib` and are moved under
// the template, `input` is `{review, parameters}` with parameters defaulting to `{}`, `data.inventory` holds
// referential data, and every `violation` result with a `msg` counts, `details` defaulting to `{}`.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, homedir, tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { gunzipSync } from "node:zlib";
// Types only: the SDK loads with the first Rego template evaluated (built-in guardrails never need it).
import type * as opaWasm from "@open-policy-agent/opa-wasm";
import { errorMessage, type Logger, mapLimit, PlatformError, writeFileAtomic } from "@platform/core";
import { RE2JS } from "re2js";
import { parse as parseYaml } from "yaml";

/** One template's Rego, from `spec.targets[0].code[engine=Rego].source` or the legacy `spec.targets[0].rego`/`libs`. */
export interface RegoTemplateSource {
  kind: string;
  rego: string;
  libs?: string[];
}

export interface RegoViolation {
  msg: string;
  details?: unknown;
}

export interface RegoProgram {
  /** Runs the template's `violation` rule; throws a PlatformError (REGO_EVAL) when evaluation itself fails. */
  evaluate(input: { review: unknown; parameters: unknown }, data?: { inventory?: unknown }): RegoViolation[];
}

export type RegoCompileResult =
  | { ok: true; program: RegoProgram }
  | { ok: false; reason: string; hint: string };

export interface RegoCompileOptions {
  /** The opa binary: a path, or a name looked up on PATH (default "opa"). */
  opa?: string;
  /** Where compiled modules are kept between runs (default: defaultRegoCacheDir()). */
  cacheDir?: string;
  log?: Logger;
}

const NOT_INSTALLED = {
  reason: "the opa CLI is not installed, so Rego templates cannot be compiled",
  hint: "install it (npm run peers installs the pinned one) or use templates with a K8sNativeValidation (CEL) code path",
};
/** Bumped whenever the wrapping below changes, so stale cache entries are never reused. */
const WRAP_VERSION = "gatekeeper-rego/1";
const OPA_TIMEOUT_MS = 120_000;

/** The Rego of a ConstraintTemplate object, or undefined when it has none (a CEL-only template). */
export function regoSource(template: unknown): RegoTemplateSource | undefined {
  const spec = field(template, "spec");
  const kind = field(field(field(field(spec, "crd"), "spec"), "names"), "kind");
  const targets = field(spec, "targets");
  const target = Array.isArray(targets) ? targets[0] : undefined;
  const code = field(target, "code");
  const rego = Array.isArray(code) ? code.find((c) => field(c, "engine") === "Rego") : undefined;
  const source = rego ? field(rego, "source") : target;
  const text = field(source, "rego");
  if (typeof kind !== "string" || typeof text !== "string") return undefined;
  const libs = field(source, "libs");
  return { kind, rego: text, libs: Array.isArray(libs) ? libs.map(String) : [] };
}

/**
 * `input.review` as gator builds it: an AdmissionReview sample gives its request (on DELETE the old object
 * becomes `object`), any other object a request with an empty operation. Every field the Go struct always
 * serialises is present, so templates see exactly what they see under gator.
 */
export function gatekeeperReview(object: unknown): Record<string, unknown> {
  const apiVersion = String(field(object, "apiVersion") ?? "");
  if (field(object, "kind") === "AdmissionReview" && apiVersion.startsWith("admission.k8s.io/")) {
    const request = { ...(asRecord(field(object, "request")) ?? {}) };
    if (request.operation === "DELETE" && request.object == null) request.object = request.oldObject;
    return {
      uid: "",
      kind: { group: "", version: "", kind: "" },
      resource: { group: "", version: "", resource: "" },
      operation: "",
      userInfo: {},
      object: null,
      oldObject: null,
      options: null,
      namespaceObject: {},
      ...request,
    };
  }
  const slash = apiVersion.lastIndexOf("/");
  const review: Record<string, unknown> = {
    uid: "",
    kind: {
      group: slash < 0 ? "" : apiVersion.slice(0, slash),
      version: apiVersion.slice(slash + 1),
      kind: String(field(object, "kind") ?? ""),
    },
    resource: { group: "", version: "", resource: "" },
    operation: "",
    userInfo: {},
    object,
    oldObject: null,
    options: null,
    namespaceObject: {},
  };
  const name = field(field(object, "metadata"), "name");
  const namespace = field(field(object, "metadata"), "namespace");
  if (typeof name === "string" && name) review.name = name;
  if (typeof namespace === "string" && namespace) review.namespace = namespace;
  return review;
}

/** `data.inventory` as Gatekeeper syncs it: cluster[groupVersion][kind][name], namespace[ns][groupVersion][kind][name]. */
export function gatekeeperInventory(objects: Iterable<unknown>): Record<string, unknown> {
  const cluster: Record<string, unknown> = {};
  const namespace: Record<string, unknown> = {};
  for (const o of objects) {
    const gv = field(o, "apiVersion");
    const kind = field(o, "kind");
    const name = field(field(o, "metadata"), "name");
    const ns = field(field(o, "metadata"), "namespace");
    if (typeof gv !== "string" || typeof kind !== "string" || typeof name !== "string") continue;
    const root = typeof ns === "string" && ns ? child(namespace, ns) : cluster;
    child(child(root, gv), kind)[name] = o;
  }
  return { cluster, namespace };
}

/** Compiles many templates at once (one `opa build -t wasm` call with one entrypoint per template), cached on disk by content hash. */
export async function compileRegoTemplates(
  templates: RegoTemplateSource[],
  opts: RegoCompileOptions = {},
): Promise<Map<string, RegoCompileResult>> {
  const log = opts.log;
  const cacheDir = await privateCacheDir(opts.cacheDir ?? defaultRegoCacheDir(), log);
  const results = new Map<string, RegoCompileResult>();
  const units = new Map<string, Unit>();
  const unitOf = new Map<string, Unit>();
  for (const t of templates) {
    const sourceKey = sha256(JSON.stringify([WRAP_VERSION, t.rego, t.libs ?? []]));
    let unit = units.get(sourceKey);
    if (!unit) {
      unit = { sourceKey, pkg: `t_${sourceKey.slice(0, 20)}`, source: t, kinds: [] };
      units.set(sourceKey, unit);
    }
    unit.kinds.push(t.kind);
    unitOf.set(t.kind, unit);
  }

  const opa = await locateOpa(opts.opa ?? "opa", cacheDir, log);
  const entries = new Map<Unit, CacheEntry>();
  const misses: Unit[] = [];
  for (const unit of units.values()) {
    const entry = await readEntry(cacheDir, opa.ok ? entryName(opa.version, unit) : latestName(unit));
    if (entry) entries.set(unit, entry);
    else misses.push(unit);
  }
  if (misses.length && !opa.ok) {
    for (const unit of misses) entries.set(unit, { error: opa.reason, hint: opa.hint });
  } else if (misses.length && opa.ok) {
    const started = performance.now();
    const compiled = await compileUnits(opa.path, misses, cacheDir, log);
    log?.debug(
      `opa ${opa.version}: compiled ${misses.length} Rego template(s) in ${(performance.now() - started).toFixed(0)} ms`,
    );
    for (const [unit, entry] of compiled) {
      entries.set(unit, entry);
      if ("transient" in entry) continue;
      const text = JSON.stringify({ ...entry, opaVersion: opa.version });
      await writeCache(join(cacheDir, entryName(opa.version, unit)), text, log);
      await writeCache(join(cacheDir, latestName(unit)), text, log);
    }
  }

  const programs = await loadPrograms(entries, cacheDir, log);
  for (const t of templates) {
    const unit = unitOf.get(t.kind);
    const result = unit && programs.get(unit);
    if (result) results.set(t.kind, result);
  }
  return results;
}

// ---- compilation ---------------------------------------------------------------------------------

interface Unit {
  sourceKey: string;
  /** The package the template's Rego is moved to; from its content, so a cached module stays valid. */
  pkg: string;
  source: RegoTemplateSource;
  kinds: string[];
}

/** What the cache keeps per template: where its compiled module is, or why it does not compile. */
type CacheEntry =
  | { wasm: string; entrypoint: string; sha256: string }
  | { error: string; hint: string; transient?: boolean };

type OpaLocation = { ok: true; path: string; version: string } | { ok: false; reason: string; hint: string };

/** Finds opa without running it when its version is already known (a second run must not call opa at all). */
async function locateOpa(opa: string, cacheDir: string, log?: Logger): Promise<OpaLocation> {
  const path = await findExecutable(opa);
  if (!path) return { ok: false, ...NOT_INSTALLED };
  const st = await stat(path);
  const fingerprint = sha256(`${path}\0${st.size}\0${st.mtimeMs}`).slice(0, 32);
  const memo = join(cacheDir, `opa-${fingerprint}.version`);
  const known = await readFile(memo, "utf8").catch(() => undefined);
  if (known) return { ok: true, path, version: known.trim() };
  try {
    const { stdout } = await run(path, ["version"]);
    const version = /^Version:\s*(\S+)/m.exec(stdout)?.[1];
    if (!version) throw new Error(`unexpected output of \`opa version\`: ${stdout.slice(0, 200)}`);
    await writeCache(memo, version, log);
    return { ok: true, path, version };
  } catch (err) {
    return {
      ok: false,
      reason: `the opa CLI at ${path} does not run (${errorMessage(err)}), so Rego templates cannot be compiled`,
      hint: NOT_INSTALLED.hint,
    };
  }
}

async function findExecutable(name: string): Promise<string | undefined> {
  const candidates = name.includes("/")
    ? [name]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      const real = await realpath(candidate);
      if ((await stat(real)).isFile()) return real;
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
async function compileUnits(
  opa: string,
  units: Unit[],
  cacheDir: string,
  log?: Logger,
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
      await storeModule(built.wasm, pending, cacheDir, out, log);
      break;
    }
    if (built.failed.size === 0) {
      await mapLimit(pending, availableParallelism(), async (unit) => {
        const alone = await build(opa, [unit], true);
        if (alone.ok) await storeModule(alone.wasm, [unit], cacheDir, out, log);
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
    if (built.ok) return storeModule(built.wasm, [unit], cacheDir, out, log);
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

const COMPILE_HINT =
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
    const wasm = untar(gunzipSync(await readFile(join(dir, "bundle.tar.gz")))).get("policy.wasm");
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
function localize(text: string): string {
  return text.replace(FILE_RE, (_all, _pkg, _file, lib: string | undefined) =>
    lib === undefined ? "rego" : `libs[${lib}]`,
  );
}

async function storeModule(
  wasm: Uint8Array,
  units: Unit[],
  cacheDir: string,
  out: Map<Unit, CacheEntry>,
  log?: Logger,
): Promise<void> {
  const hash = sha256(wasm);
  const name = `${hash}.wasm`;
  await writeCache(join(cacheDir, name), wasm, log);
  for (const unit of units) out.set(unit, { wasm: name, entrypoint: `${unit.pkg}/violation`, sha256: hash });
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
function codeOnly(text: string): string {
  return segments(text)
    .map((s) => (s.code ? s.text : s.text.startsWith("#") ? "" : '""'))
    .join("");
}

// ---- loading and evaluation ----------------------------------------------------------------------

async function loadPrograms(
  entries: Map<Unit, CacheEntry>,
  cacheDir: string,
  log?: Logger,
): Promise<Map<Unit, RegoCompileResult>> {
  const out = new Map<Unit, RegoCompileResult>();
  const byModule = new Map<string, Unit[]>();
  for (const [unit, entry] of entries) {
    if ("error" in entry) out.set(unit, { ok: false, reason: entry.error, hint: entry.hint });
    else byModule.set(entry.wasm, [...(byModule.get(entry.wasm) ?? []), unit]);
  }
  for (const [file, units] of byModule) {
    let instance: PolicyInstance;
    try {
      const bytes = await readFile(join(cacheDir, file));
      // The module is named by its hash; bytes that changed since they were written are never run.
      if (`${sha256(bytes)}.wasm` !== file) throw new Error("its content does not match its recorded hash");
      instance = await instantiate(bytes, log);
    } catch (err) {
      for (const unit of units)
        out.set(unit, {
          ok: false,
          reason: `${unit.kinds.join(", ")}: the compiled module ${file} does not load: ${errorMessage(err)}`,
          hint: `delete ${cacheDir} and run again`,
        });
      continue;
    }
    for (const unit of units) {
      const code = [unit.source.rego, ...(unit.source.libs ?? [])].map(codeOnly).join("\n");
      const missing = instance.missingBuiltins.filter((name) =>
        new RegExp(`(?<![\\w.])${escapeRegExp(name)}\\s*\\(`).test(code),
      );
      if (missing.length) {
        out.set(unit, {
          ok: false,
          reason: `${unit.kinds.join(", ")}: uses ${missing.join(", ")}, which OPA does not compile into WebAssembly and this evaluator does not provide`,
          hint: "evaluate this template with gator, or rewrite it without these built-ins",
        });
        continue;
      }
      out.set(unit, { ok: true, program: program(instance, `${unit.pkg}/violation`, unit.kinds.join(", ")) });
    }
  }
  return out;
}

interface PolicyInstance {
  policy: LoadedPolicy;
  /** Built-ins the module calls out for that are implemented neither by OPA's wasm runtime nor here. */
  missingBuiltins: string[];
  /** The inventory last loaded with setData; loading is the costly part, so it happens only on change. */
  inventory: unknown;
}

const NO_DATA = Symbol("no data");

function program(instance: PolicyInstance, entrypoint: string, who: string): RegoProgram {
  return {
    evaluate(input, data) {
      try {
        const inventory = data?.inventory ?? NO_DATA;
        if (instance.inventory !== inventory) {
          instance.policy.setData(jsonBuffer(inventory === NO_DATA ? {} : { inventory }));
          instance.inventory = inventory;
        }
        const rs: unknown = instance.policy.evaluate(
          jsonBuffer({ review: input.review, parameters: input.parameters ?? {} }),
          entrypoint,
        );
        const set = Array.isArray(rs) ? field(rs[0], "result") : undefined;
        const violations: RegoViolation[] = [];
        for (const r of Array.isArray(set) ? set : []) {
          const msg = field(r, "msg");
          if (msg === undefined) continue;
          violations.push({
            msg: typeof msg === "string" ? msg : JSON.stringify(msg),
            details: field(r, "details") ?? {},
          });
        }
        return violations;
      } catch (err) {
        instance.inventory = NO_DATA;
        throw new PlatformError(
          "REGO_EVAL",
          `${who}: Rego evaluation failed: ${localize(errorMessage(err))}`,
          {
            category: "internal",
            hint: "the template's Rego hit a runtime error (e.g. conflicting values for a complete rule) on this object",
            cause: err,
          },
        );
      }
    },
  };
}

interface OpaExports {
  opa_malloc(size: number): number;
  opa_json_parse(addr: number, len: number): number;
  opa_json_dump(addr: number): number;
  builtins(): number;
  opa_wasm_abi_version?: { value: unknown };
  opa_wasm_abi_minor_version?: { value: unknown };
}

// The project compiles against ES2024 + Node types, which do not declare WebAssembly; this is the part used.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ exports: unknown }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The SDK's class, typed by what is used here (its typings lean on DOM WebAssembly types). */
type LoadedPolicyClass = new (
  policy: { module: object; instance: { exports: unknown } },
  memory: WasmMemory,
  minorVersion: number,
) => LoadedPolicy;
type LoadedPolicy = Pick<opaWasm.LoadedPolicy, "evaluate" | "setData">;

/**
 * The SDK's loadPolicy dispatches a module's host built-ins to its own table first (its `sprintf` is
 * sprintf-js, which prints `[a, b]` as `a,b` where Go prints `["a", "b"]`), so the instance is made here with
 * our dispatch and handed to the SDK's LoadedPolicy, which does the rest of the ABI (data, input, results).
 */
async function instantiate(wasm: Uint8Array, log?: Logger): Promise<PolicyInstance> {
  const module = await wasmApi.compile(wasm);
  const memory = new wasmApi.Memory({ initial: 5 });
  let exports: OpaExports | undefined;
  let names: Record<number, string> = {};
  const call = (id: number, ...addrs: number[]): number => {
    const ex = exports as OpaExports;
    const name = names[id] ?? `#${id}`;
    const impl = HOST_BUILTINS[name];
    if (!impl) throw new Error(`built-in function ${name} is not available in WebAssembly evaluation`);
    const args = addrs.map((a) => readJson(memory, ex.opa_json_dump(a)));
    let result: unknown;
    try {
      result = impl(...args);
    } catch {
      return 0; // as in OPA's non-strict mode: a failing built-in leaves the expression undefined
    }
    return result === undefined ? 0 : writeJson(ex, memory, result);
  };
  const env = {
    memory,
    opa_abort: (addr: number) => {
      throw new Error(readCString(memory, addr));
    },
    opa_println: (addr: number) => log?.debug(`rego print: ${readCString(memory, addr)}`),
    opa_builtin0: (id: number, _ctx: number) => call(id),
    opa_builtin1: (id: number, _ctx: number, a: number) => call(id, a),
    opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, a, b),
    opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, a, b, c),
    opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) =>
      call(id, a, b, c, d),
  };
  const instance = await wasmApi.instantiate(module, { env });
  exports = instance.exports as unknown as OpaExports;
  const abi = Number(exports.opa_wasm_abi_version?.value);
  if (abi !== 1) throw new Error(`unsupported OPA wasm ABI version ${abi}`);
  const ids = readJson(memory, exports.opa_json_dump(exports.builtins())) as Record<string, number>;
  names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  const policy = new (await loadedPolicyClass())(
    { module, instance },
    memory,
    Number(exports.opa_wasm_abi_minor_version?.value ?? 0),
  );
  return { policy, missingBuiltins: Object.keys(ids).filter((n) => !HOST_BUILTINS[n]), inventory: NO_DATA };
}

/** The SDK's ESM entry exports LoadedPolicy only on its default export (its typings say otherwise). */
async function loadedPolicyClass(): Promise<LoadedPolicyClass> {
  const mod = (await import("@open-policy-agent/opa-wasm")) as unknown as {
    LoadedPolicy?: LoadedPolicyClass;
    default?: { LoadedPolicy?: LoadedPolicyClass };
  };
  const cls = mod.LoadedPolicy ?? mod.default?.LoadedPolicy;
  if (!cls) throw new Error("@open-policy-agent/opa-wasm exports no LoadedPolicy");
  return cls;
}

function readCString(memory: WasmMemory, addr: number): string {
  const bytes = new Uint8Array(memory.buffer);
  let end = addr;
  while (bytes[end] !== 0 && end < bytes.length) end++;
  return new TextDecoder().decode(bytes.subarray(addr, end));
}

function readJson(memory: WasmMemory, addr: number): unknown {
  return JSON.parse(readCString(memory, addr));
}

function writeJson(ex: OpaExports, memory: WasmMemory, value: unknown): number {
  const bytes = new TextEncoder().encode(toJson(value));
  const addr = ex.opa_malloc(bytes.length);
  new Uint8Array(memory.buffer).set(bytes, addr);
  const parsed = ex.opa_json_parse(addr, bytes.length);
  if (!parsed) throw new Error("OPA could not parse a built-in's result");
  return parsed;
}

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** JSON with bigint (the YAML loader's integers) written exactly. */
function toJson(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? rawJSON(v.toString()) : v)) ?? "null"
  );
}

function jsonBuffer(value: unknown): ArrayBuffer {
  const bytes = new TextEncoder().encode(toJson(value));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

// ---- host built-ins ------------------------------------------------------------------------------
// OPA compiles most built-ins into the module; these are the ones it leaves to the host. Errors thrown here
// make the call undefined, as OPA's Go evaluator does outside strict mode.

type HostBuiltin = (...args: unknown[]) => unknown;

const HOST_BUILTINS: Record<string, HostBuiltin | undefined> = {
  sprintf: (format, values) => goSprintf(str(format), arr(values)),
  "strings.any_prefix_match": (search, base) => anyMatch(search, base, (s, b) => s.startsWith(b)),
  "strings.any_suffix_match": (search, base) => anyMatch(search, base, (s, b) => s.endsWith(b)),
  "strings.count": (s, sub) => countOccurrences(str(s), str(sub)),
  indexof_n: (s, sub) => indexesOf(str(s), str(sub)),
  "units.parse_bytes": (s) => parseBytes(str(s)),
  "units.parse": (s) => parseUnits(str(s)),
  "regex.replace": (s, pattern, value) => re2(str(pattern)).matcher(str(s)).replaceAll(str(value)),
  "regex.find_n": (pattern, s, n) => findN(str(pattern), str(s), Number(n)),
  "regex.split": (pattern, s) => re2(str(pattern)).split(str(s), -1),
  "json.is_valid": (s) => isValid(() => JSON.parse(str(s))),
  "yaml.is_valid": (s) => isValid(() => parseYaml(str(s))),
  "yaml.unmarshal": (s) => parseYaml(str(s)),
  cast_array: (x) => arr(x),
  "time.now_ns": () => BigInt(Date.now()) * 1_000_000n,
};

function str(x: unknown): string {
  if (typeof x !== "string") throw new TypeError("operand must be a string");
  return x;
}

function arr(x: unknown): unknown[] {
  if (!Array.isArray(x)) throw new TypeError("operand must be an array");
  return x;
}

function strings(x: unknown): string[] {
  return (Array.isArray(x) ? x : [x]).map(str);
}

function anyMatch(search: unknown, base: unknown, match: (s: string, b: string) => boolean): boolean {
  const bases = strings(base);
  return strings(search).some((s) => bases.some((b) => match(s, b)));
}

function countOccurrences(s: string, sub: string): number {
  if (!sub) return [...s].length + 1;
  return s.split(sub).length - 1;
}

function indexesOf(s: string, sub: string): number[] {
  const runes = [...s];
  const target = [...sub];
  const out: number[] = [];
  for (let i = 0; i + target.length <= runes.length; i++)
    if (target.every((r, j) => runes[i + j] === r)) out.push(i);
  return out;
}

function isValid(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

const regexCache = new Map<string, RE2JS>();
function re2(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

function findN(pattern: string, s: string, n: number): string[] {
  const m = re2(pattern).matcher(s);
  const out: string[] = [];
  while ((n < 0 || out.length < n) && m.find()) out.push(m.group() ?? "");
  return out;
}

/** The number and unit of "10Mi", "1.5G", "100" (OPA splits at the first character that is not a digit or a dot). */
function numberAndUnit(s: string): [string, string] {
  if (s.includes(" ")) throw new Error("spaces not allowed in resource strings");
  const at = s.search(/[^0-9.]/);
  const [num, unit] = at < 0 ? [s, ""] : [s.slice(0, at), s.slice(at)];
  if (!num || !/^(\d+\.?\d*|\.\d+)$/.test(num)) throw new Error("no amount provided");
  return [num, unit];
}

const BYTE_UNITS: Record<string, bigint> = { "": 1n };
for (const [i, p] of ["k", "m", "g", "t", "p", "e"].entries()) {
  BYTE_UNITS[p] = BYTE_UNITS[`${p}b`] = 1000n ** BigInt(i + 1);
  BYTE_UNITS[`${p}i`] = BYTE_UNITS[`${p}ib`] = 1024n ** BigInt(i + 1);
}

/** units.parse_bytes: "1Gi", "200M", "1.5kb" → whole bytes, case-insensitive, truncated like OPA's big.Float. */
function parseBytes(raw: string): bigint {
  const [num, unit] = numberAndUnit(raw.replace(/^"+|"+$/g, "").toLowerCase());
  const mult = BYTE_UNITS[unit];
  if (mult === undefined) throw new Error(`byte unit ${unit} not recognized`);
  const [whole = "0", frac = ""] = num.split(".");
  const scale = 10n ** BigInt(frac.length);
  return (BigInt(`${whole || "0"}${frac}`) * mult) / scale;
}

const SI_UNITS: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, K: 1e3, ki: 1024, Ki: 1024 };
for (const [i, p] of ["M", "G", "T", "P", "E"].entries()) {
  SI_UNITS[p] = 1000 ** (i + 2);
  SI_UNITS[`${p}i`] = SI_UNITS[`${p.toLowerCase()}i`] = 1024 ** (i + 2);
  if (p !== "M") SI_UNITS[p.toLowerCase()] = 1000 ** (i + 2);
}

/** units.parse: "100m" → 0.1, "1.5Gi" → 1610612736 (m is milli, M is mega, as in Kubernetes quantities). */
function parseUnits(raw: string): number {
  const [num, unit] = numberAndUnit(raw.replace(/^"+|"+$/g, ""));
  const mult = SI_UNITS[unit];
  if (mult === undefined) throw new Error(`unit ${unit} not recognized`);
  return unit === "m" ? Number(num) / 1000 : Number(num) * mult;
}

// ---- sprintf with Go's fmt semantics -------------------------------------------------------------

type FmtArg =
  | { type: "string"; value: string }
  | { type: "int64"; value: bigint }
  | { type: "float64"; value: number };

/** OPA passes integers as int64, other numbers as float64, strings as they are, and anything else as its Rego text. */
function fmtArg(x: unknown): FmtArg {
  if (typeof x === "string") return { type: "string", value: x };
  if (typeof x === "number" && Number.isInteger(x) && Math.abs(x) < 2 ** 63)
    return { type: "int64", value: BigInt(x) };
  if (typeof x === "number") return { type: "float64", value: x };
  return { type: "string", value: regoText(x) };
}

/** A value as OPA prints it: `["a", 1]`, `{"k": true}` with sorted keys, `null`. */
function regoText(x: unknown): string {
  if (x === null || x === undefined) return "null";
  if (Array.isArray(x)) return `[${x.map(regoText).join(", ")}]`;
  if (typeof x === "object") {
    const keys = Object.keys(x).sort();
    return keys.length
      ? `{${keys.map((k) => `${JSON.stringify(k)}: ${regoText((x as Record<string, unknown>)[k])}`).join(", ")}}`
      : "{}";
  }
  if (typeof x === "string") return JSON.stringify(x);
  return String(x);
}

/** Go's fmt.Sprintf for the verbs Rego policies use, including its `%!v(MISSING)`-style complaints. */
export function goSprintf(format: string, values: unknown[]): string {
  const args = values.map(fmtArg);
  let out = "";
  let next = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i] as string;
    if (c !== "%") {
      out += c;
      i++;
      continue;
    }
    i++;
    const flags = { minus: false, plus: false, zero: false, space: false, sharp: false };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === "-") flags.minus = true;
      else if (f === "+") flags.plus = true;
      else if (f === "0") flags.zero = true;
      else if (f === " ") flags.space = true;
      else if (f === "#") flags.sharp = true;
      else break;
    }
    const width = /^\d+/.exec(format.slice(i))?.[0];
    i += width?.length ?? 0;
    let precision: number | undefined;
    if (format[i] === ".") {
      const digits = /^\d*/.exec(format.slice(i + 1))?.[0] ?? "";
      precision = Number(digits || "0");
      i += 1 + digits.length;
    }
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    const arg = args[next++];
    if (!arg) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const text = formatVerb(arg, verb, flags, precision);
    if (text === undefined) {
      out += `%!${verb}(${arg.type}=${formatVerb(arg, "v", NO_FLAGS, undefined)})`;
      continue;
    }
    out += pad(text, Number(width ?? 0), flags, arg.type !== "string" && verb !== "T");
  }
  if (next < args.length)
    out += `%!(EXTRA ${args
      .slice(next)
      .map((a) => `${a.type}=${formatVerb(a, "v", NO_FLAGS, undefined)}`)
      .join(", ")})`;
  return out;
}

type Flags = { minus: boolean; plus: boolean; zero: boolean; space: boolean; sharp: boolean };
const NO_FLAGS: Flags = { minus: false, plus: false, zero: false, space: false, sharp: false };

function formatVerb(
  arg: FmtArg,
  verb: string,
  flags: Flags,
  precision: number | undefined,
): string | undefined {
  if (verb === "T") return arg.type;
  if (arg.type === "string") {
    const s = precision === undefined ? arg.value : [...arg.value].slice(0, precision).join("");
    if (verb === "v" || verb === "s") return s;
    if (verb === "q") return JSON.stringify(s);
    if (verb === "x" || verb === "X") {
      const hex = Buffer.from(s, "utf8").toString("hex");
      return verb === "X" ? hex.toUpperCase() : hex;
    }
    return undefined;
  }
  if (arg.type === "int64") {
    const n = arg.value;
    const sign = n < 0n ? "-" : flags.plus ? "+" : flags.space ? " " : "";
    const abs = n < 0n ? -n : n;
    const digits = (radix: number) => {
      const d = abs.toString(radix);
      return precision !== undefined && d.length < precision ? d.padStart(precision, "0") : d;
    };
    switch (verb) {
      case "v":
      case "d":
        return sign + digits(10);
      case "b":
        return sign + digits(2);
      case "o":
        return sign + (flags.sharp ? "0" : "") + digits(8);
      case "O":
        return `${sign}0o${digits(8)}`;
      case "x":
        return sign + (flags.sharp ? "0x" : "") + digits(16);
      case "X":
        return sign + (flags.sharp ? "0X" : "") + digits(16).toUpperCase();
      case "c":
        return String.fromCodePoint(Number(n));
      case "q":
        return `'${String.fromCodePoint(Number(n))}'`;
      case "U":
        return `U+${abs.toString(16).toUpperCase().padStart(4, "0")}`;
      default:
        return undefined;
    }
  }
  const f = arg.value;
  const sign = f < 0 || Object.is(f, -0) ? "-" : flags.plus ? "+" : flags.space ? " " : "";
  const abs = Math.abs(f);
  switch (verb) {
    case "v":
    case "g":
      return sign + goG(abs, precision ?? -1, "e");
    case "G":
      return sign + goG(abs, precision ?? -1, "E");
    case "e":
      return sign + goE(abs, precision ?? 6, "e");
    case "E":
      return sign + goE(abs, precision ?? 6, "E");
    case "f":
    case "F":
      return sign + abs.toFixed(precision ?? 6);
    default:
      return undefined;
  }
}

function goE(abs: number, precision: number, e: string): string {
  const [mantissa = "0", exp = "0"] = abs.toExponential(Math.min(precision, 100)).split("e");
  const x = Number(exp);
  return `${mantissa}${e}${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
}

/** strconv.FormatFloat(f, 'g', prec): shortest digits when prec < 0, exponent form when the exponent is < -4 or ≥ the precision (6 for shortest). */
function goG(abs: number, precision: number, e: string): string {
  if (abs === 0) return "0";
  const [mantissa = "0", exp = "0"] = (
    precision < 0 ? abs.toExponential() : abs.toExponential(Math.max(precision, 1) - 1)
  ).split("e");
  const digits = mantissa.replace(".", "").replace(/0+$/, "") || "0";
  const x = Number(exp);
  let eprec = precision < 0 ? 6 : Math.max(precision, 1);
  if (precision >= 0 && eprec > digits.length && digits.length >= x + 1) eprec = digits.length;
  if (x < -4 || x >= eprec) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${m}${e}${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  }
  if (x < 0) return `0.${"0".repeat(-x - 1)}${digits}`;
  const whole = digits.slice(0, x + 1).padEnd(x + 1, "0");
  const frac = digits.slice(x + 1);
  return frac ? `${whole}.${frac}` : whole;
}

function pad(text: string, width: number, flags: Flags, numeric: boolean): string {
  const length = [...text].length;
  if (length >= width) return text;
  if (flags.minus) return text + " ".repeat(width - length);
  if (flags.zero && numeric) {
    const sign = /^[+\- ]/.test(text) ? (text[0] as string) : "";
    return sign + "0".repeat(width - length) + text.slice(sign.length);
  }
  return " ".repeat(width - length) + text;
}

// ---- small helpers -------------------------------------------------------------------------------

function field(o: unknown, key: string): unknown {
  return o !== null && typeof o === "object" && !Array.isArray(o)
    ? (o as Record<string, unknown>)[key]
    : undefined;
}

function asRecord(o: unknown): Record<string, unknown> | undefined {
  return o !== null && typeof o === "object" && !Array.isArray(o)
    ? (o as Record<string, unknown>)
    : undefined;
}

function child(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = asRecord(o[key]);
  if (existing) return existing;
  const created: Record<string, unknown> = {};
  o[key] = created;
  return created;
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function entryName(opaVersion: string, unit: Unit): string {
  return `${sha256(`${opaVersion}\0${unit.sourceKey}`)}.json`;
}

/** The last compile of these sources by any opa: what a run without opa can still use. */
function latestName(unit: Unit): string {
  return `latest-${unit.sourceKey}.json`;
}

async function readEntry(cacheDir: string, name: string): Promise<CacheEntry | undefined> {
  try {
    const entry = JSON.parse(await readFile(join(cacheDir, name), "utf8")) as Record<string, unknown>;
    if (typeof entry.error === "string")
      return { error: entry.error, hint: String(entry.hint ?? COMPILE_HINT) };
    if (
      typeof entry.wasm === "string" &&
      typeof entry.entrypoint === "string" &&
      typeof entry.sha256 === "string" &&
      entry.wasm === `${entry.sha256}.wasm`
    ) {
      // Verified before use: a module whose bytes are not the ones recorded is a miss (recompiled with opa).
      if (sha256(await readFile(join(cacheDir, entry.wasm))) !== entry.sha256) return undefined;
      return { wasm: entry.wasm, entrypoint: entry.entrypoint, sha256: entry.sha256 };
    }
  } catch {}
  return undefined;
}

/**
 * The default Rego cache: the user's own cache directory ($XDG_CACHE_HOME/platform/rego, else
 * ~/.cache/platform/rego), never a shared temp folder another user could plant modules in. Actions pass
 * RUNNER_TEMP instead.
 */
export function defaultRegoCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "platform", "rego");
}

/**
 * Creates the cache directory (mode 0700) and checks it is ours and not writable by others; a directory that
 * fails the check is not used (a fresh private one in the temp folder is, so the run still works).
 */
async function privateCacheDir(dir: string, log?: Logger): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch(() => {});
  const st = await stat(dir).catch(() => undefined);
  const uid = process.getuid?.();
  const ok = st?.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  if (ok) return dir;
  log?.warn(
    `not using the Rego cache ${dir}: ${st ? "it is writable by other users or not owned by you" : "it cannot be created"}; compiling into a private temporary folder`,
  );
  return mkdtemp(join(tmpdir(), "platform-rego-"));
}

/** Cache writes are atomic and best effort: a read-only cache costs time, never a result. */
async function writeCache(path: string, data: string | Uint8Array, log?: Logger): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (err) {
    log?.warn(`cannot write the Rego cache: ${errorMessage(err)}`);
  }
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

/** The files of a tar archive (what `opa build` writes), by name without the leading slash. */
function untar(tar: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const text = (from: number, length: number) =>
    new TextDecoder().decode(tar.subarray(from, from + length)).replace(/\0.*$/s, "");
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const name = text(offset, 100);
    if (!name) break;
    const size = Number.parseInt(text(offset + 124, 12).trim() || "0", 8);
    const type = text(offset + 156, 1);
    const prefix = text(offset + 345, 155);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (type === "x") longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(body))?.[1];
    else if (type === "L") longName = new TextDecoder().decode(body).replace(/\0.*$/s, "");
    else {
      if (type === "0" || type === "")
        files.set((longName ?? (prefix ? `${prefix}/${name}` : name)).replace(/^\/+/, ""), body);
      longName = undefined;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

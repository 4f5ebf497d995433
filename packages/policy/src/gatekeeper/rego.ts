// Rego-only Gatekeeper templates, run the way Gatekeeper runs them but without Go: the `opa` CLI compiles
// every template of a run into one WebAssembly module (compile.ts), the module is cached on disk (cache.ts),
// and `@open-policy-agent/opa-wasm` evaluates it with our host built-ins (wasm-host.ts, builtins.ts, go-fmt.ts).
// Gatekeeper's facts carried over (frameworks constraint/pkg/client/drivers/rego): `input` is
// `{review, parameters}` with parameters defaulting to `{}`, `data.inventory` holds referential data, and every
// `violation` result with a `msg` counts, `details` defaulting to `{}`.
import { errorMessage } from "@platform/core/errors";
import type { Logger } from "@platform/core/log";
import { type CacheEntry, defaultRegoCacheDir, RegoCache, sourceKey } from "./cache.ts";
import { codeOnly, compileUnits, locateOpa, type Unit } from "./compile.ts";
import { asRecord, field, type RegoCompileResult, type RegoTemplateSource } from "./types.ts";
import { instantiate, type PolicyInstance, program } from "./wasm-host.ts";

export { defaultRegoCacheDir } from "./cache.ts";
export { goSprintf } from "./go-fmt.ts";
export type { RegoCompileResult, RegoProgram, RegoTemplateSource, RegoViolation } from "./types.ts";

export interface RegoCompileOptions {
  /** The opa binary: a path, or a name looked up on PATH (default "opa"). */
  opa?: string;
  /** Where compiled modules are kept between runs (default: defaultRegoCacheDir()). */
  cacheDir?: string;
  log?: Logger;
}

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

/**
 * Compiles many templates at once (one `opa build -t wasm` call with one entrypoint per template), cached on
 * disk by a hash of their Rego and libs, the OPA version and the cache format: a second run never calls opa.
 */
export async function compileRegoTemplates(
  templates: RegoTemplateSource[],
  opts: RegoCompileOptions = {},
): Promise<Map<string, RegoCompileResult>> {
  const log = opts.log;
  const cache = await RegoCache.open(opts.cacheDir ?? defaultRegoCacheDir(), log);
  const units = new Map<string, Unit>();
  const unitOf = new Map<string, Unit>();
  for (const t of templates) {
    const key = sourceKey(t.rego, t.libs ?? []);
    let unit = units.get(key);
    if (!unit) {
      unit = { sourceKey: key, pkg: `t_${key.slice(0, 20)}`, source: t, kinds: [] };
      units.set(key, unit);
    }
    unit.kinds.push(t.kind);
    unitOf.set(t.kind, unit);
  }

  const opa = await locateOpa(opts.opa ?? "opa", cache);
  const entries = new Map<Unit, CacheEntry>();
  const misses: Unit[] = [];
  const found = await Promise.all(
    [...units.values()].map(async (unit) => {
      const entry = opa.ok
        ? await cache.entry(opa.version, unit.sourceKey)
        : await cache.latest(unit.sourceKey);
      return [unit, entry] as const;
    }),
  );
  for (const [unit, entry] of found) {
    if (entry) entries.set(unit, entry);
    else misses.push(unit);
  }
  if (misses.length && !opa.ok) {
    for (const unit of misses) entries.set(unit, { error: opa.reason, hint: opa.hint });
  } else if (misses.length && opa.ok) {
    const started = performance.now();
    const compiled = await compileUnits(opa.path, misses, cache);
    log?.debug(
      `opa ${opa.version}: compiled ${misses.length} Rego template(s) in ${(performance.now() - started).toFixed(0)} ms`,
    );
    for (const [unit, entry] of compiled) {
      entries.set(unit, entry);
      // Only what OPA pinned on the template is certain to happen again; anything else is tried next run.
      if (!("transient" in entry)) await cache.put(opa.version, unit.sourceKey, entry);
    }
  }

  const programs = await loadPrograms(entries, cache, log);
  const results = new Map<string, RegoCompileResult>();
  for (const t of templates) {
    const unit = unitOf.get(t.kind);
    const result = unit && programs.get(unit);
    if (result) results.set(t.kind, result);
  }
  return results;
}

/** Instantiates each module once for all the templates compiled into it, and says which templates cannot run. */
async function loadPrograms(
  entries: Map<Unit, CacheEntry>,
  cache: RegoCache,
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
      // The module is named by its hash; bytes that changed since they were written are never run.
      const bytes = await cache.module(file);
      if (!bytes) throw new Error("it is missing or its content does not match its recorded hash");
      instance = await instantiate(bytes, log);
    } catch (err) {
      for (const unit of units)
        out.set(unit, {
          ok: false,
          reason: `${unit.kinds.join(", ")}: the compiled module ${file} does not load: ${errorMessage(err)}`,
          hint: `delete ${cache.dir} and run again`,
        });
      continue;
    }
    for (const unit of units) {
      const sources = [unit.source.rego, ...(unit.source.libs ?? [])];
      // Only a name the sources contain at all can be a call: the tokenising (strings and comments emptied)
      // is done for those alone (it was most of the Rego set-up on the gatekeeper-library).
      const named = instance.missingBuiltins.filter((name) => sources.some((t) => t.includes(name)));
      const code = named.length ? sources.map(codeOnly).join("\n") : "";
      const missing = named.filter((name) =>
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

function child(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = asRecord(o[key]);
  if (existing) return existing;
  const created: Record<string, unknown> = {};
  o[key] = created;
  return created;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

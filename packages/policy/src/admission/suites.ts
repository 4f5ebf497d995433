import { dirname, relative, resolve, sep } from "node:path";
import { PlatformError } from "@platform/core/errors";
import type { CelEngine } from "../cel/engine.ts";
import { isClusterScoped } from "../podspec.ts";
import type { CompiledPolicy, EvalTarget } from "../target.ts";
import type { KubeObject, LoadedObject, PolicyResult } from "../types.ts";
import { renderContext } from "./context.ts";
import { classify, emptyDocuments, readObjects } from "./documents.ts";
import { type RegoCompiler, templateEngines } from "./engines.ts";
import { type ConstraintDoc, type ConstraintTemplateDoc, compileConstraints } from "./gatekeeper.ts";
import { compileKyverno, type KyvernoContext, unsupportedKyverno } from "./kyverno.ts";
import {
  type AdmissionRequest,
  createRequest,
  inDefaultNamespace,
  isAdmissionReview,
  requestFromReview,
} from "./request.ts";
import { compileVaps } from "./vap.ts";

/** One case of a suite and whether our verdict matches the suite's expectation. */
export interface CaseResult {
  suite: string;
  test: string;
  case: string;
  /** The object judged (file of the case). */
  file: string;
  line: number;
  expected: string;
  actual: string;
  ok: boolean;
  /** Set when the case could not run (template not evaluable, unreadable file). */
  error?: string;
  /** Set when the case's policy is of a kind this engine does not evaluate (what it is, and the hint). */
  unsupported?: string;
  /** Which engine judged a Gatekeeper case: the template's CEL code or its Rego through OPA. */
  engine?: "cel" | "rego";
  results: PolicyResult[];
}

interface GatorAssertion {
  violations?: "yes" | "no" | number | string | boolean;
  message?: string;
}

interface GatorSuite {
  kind?: string;
  tests?: Array<{
    name?: string;
    template?: string;
    constraint?: string;
    cases?: Array<{ name?: string; object?: string; inventory?: string[]; assertions?: GatorAssertion[] }>;
  }>;
}

/** `p` relative to `root`, with "/" separators (a prefix cut when `p` is under `root`, as nearly every path is). */
function rel(root: string, p: string): string {
  const prefix = root.endsWith(sep) ? root : root + sep;
  const r = p.startsWith(prefix) ? p.slice(prefix.length) : relative(root, p);
  return sep === "/" ? r : r.split(sep).join("/");
}

/** Builds the evaluation target gator builds: a CREATE review, or the request of an AdmissionReview. */
function targetFor(o: LoadedObject, context: ReturnType<typeof renderContext>): EvalTarget {
  const review = isAdmissionReview(o.obj) ? requestFromReview(o.obj) : createRequest(o.obj);
  const judged = (review.object ?? review.oldObject ?? o.obj) as KubeObject;
  const loaded = { ...o, obj: judged };
  const clusterScoped = isClusterScoped(judged);
  // Like gator (and kubectl apply), a namespaced object that names no namespace lands in "default".
  const request = inDefaultNamespace(review, clusterScoped);
  const namespace = request.namespace;
  return {
    loaded,
    namespace,
    clusterScoped,
    serviceAccounts: {},
    request,
    context,
  };
}

/** How many violations (fail or warn rows) match an assertion's message filter (a regular expression, as gator). */
function countViolations(rows: PolicyResult[], message: string | undefined): number {
  const re = message ? new RegExp(message) : undefined;
  return rows.filter(
    (r) =>
      (r.verdict === "fail" || r.verdict === "warn" || r.verdict === "error") && (!re || re.test(r.message)),
  ).length;
}

/** The assertion as the suite author wrote it: YAML 1.1 reads `no` as false, but the file says `no`. */
function shownViolations(a: GatorAssertion): string {
  const v = a.violations ?? "yes";
  return v === true ? "yes" : v === false ? "no" : String(v);
}

function expectationHolds(a: GatorAssertion, n: number): boolean {
  const v = a.violations ?? "yes";
  if (v === "yes" || v === true) return n > 0;
  if (v === "no" || v === false) return n === 0;
  return n === Number(v);
}

/**
 * Runs Gatekeeper suites (gator verify format: suite.yaml with tests → template, constraint, cases with
 * object, inventory and assertions). Expectations come from the suite files only.
 */
export async function runGatorSuites(
  suiteFiles: string[],
  opts: { root: string; engine: CelEngine; rego?: RegoCompiler },
): Promise<CaseResult[]> {
  // Load everything first so all Rego-only templates compile in one OPA call.
  type Loaded = {
    suiteFile: string;
    suite: GatorSuite;
    templates: Map<string, ConstraintTemplateDoc[]>;
    constraints: Map<string, ConstraintDoc[]>;
  };
  const loaded: Loaded[] = [];
  const allTemplates: ConstraintTemplateDoc[] = [];
  for (const file of suiteFiles) {
    const display = rel(opts.root, file);
    const [doc] = await readObjects(file, display);
    const suite = (doc?.obj ?? {}) as unknown as GatorSuite;
    if (suite.kind !== "Suite")
      throw new PlatformError("SUITE_INVALID", `${display} is not a Gatekeeper Suite (kind: Suite)`, {
        file: display,
        hint: "Pass suite.yaml files or directories that contain them.",
      });
    const templates = new Map<string, ConstraintTemplateDoc[]>();
    const constraints = new Map<string, ConstraintDoc[]>();
    for (const t of suite.tests ?? []) {
      for (const [key, map] of [
        ["template", templates],
        ["constraint", constraints],
      ] as const) {
        const p = t[key];
        if (!p || map.has(p)) continue;
        const objs = await readObjects(resolve(dirname(file), p), rel(opts.root, resolve(dirname(file), p)));
        const docs = classify(objs);
        if (key === "template") {
          templates.set(p, docs.templates);
          allTemplates.push(...docs.templates);
        } else (constraints as Map<string, ConstraintDoc[]>).set(p, docs.constraints);
      }
    }
    loaded.push({ suiteFile: file, suite, templates, constraints });
  }
  const engines = await templateEngines(allTemplates, opts.engine, opts.rego);
  const results: CaseResult[] = [];
  for (const l of loaded) {
    const suiteName = rel(opts.root, l.suiteFile);
    for (const t of l.suite.tests ?? []) {
      const constraints = l.constraints.get(t.constraint ?? "") ?? [];
      const { policies, notes } = compileConstraints(constraints, engines);
      const used = engines.get(constraints[0]?.obj.kind ?? "")?.engine;
      const engine = used === "cel" || used === "rego" ? used : undefined;
      for (const c of t.cases ?? []) {
        const caseBase = {
          engine,
          suite: suiteName,
          test: t.name ?? "",
          case: c.name ?? "",
          file: c.object ?? "",
          line: 1,
        };
        const expected = (c.assertions ?? [{ violations: "yes" }])
          .map((a) => `violations: ${shownViolations(a)}${a.message ? ` (message ~ ${a.message})` : ""}`)
          .join("; ");
        if (notes.length) {
          results.push({
            ...caseBase,
            expected,
            actual: "not evaluated",
            ok: false,
            error: notes.map((n) => n.message).join("; "),
            results: notes,
          });
          continue;
        }
        try {
          const objectPath = resolve(dirname(l.suiteFile), c.object ?? "");
          const [object] = await readObjects(objectPath, rel(opts.root, objectPath));
          if (!object) throw new Error(`${c.object} holds no object`);
          const inventory: LoadedObject[] = [];
          for (const inv of c.inventory ?? [])
            inventory.push(...(await readObjects(resolve(dirname(l.suiteFile), inv), inv)));
          const context = renderContext([...inventory]);
          const target = targetFor(object, context);
          const rows = policies.flatMap((p: CompiledPolicy) => p.evaluate(target));
          const counts = (c.assertions ?? [{ violations: "yes" }]).map((a) => ({
            a,
            n: countViolations(rows, a.message),
          }));
          const ok = counts.every(({ a, n }) => expectationHolds(a, n));
          results.push({
            ...caseBase,
            file: object.source.file,
            line: object.source.line,
            expected,
            actual: counts
              .map(({ a, n }) => `${n} violation(s)${a.message ? ` ~ ${a.message}` : ""}`)
              .join("; "),
            ok,
            results: rows,
          });
        } catch (err) {
          results.push({
            ...caseBase,
            expected,
            actual: "error",
            ok: false,
            error: err instanceof Error ? err.message : String(err),
            results: [],
          });
        }
      }
    }
  }
  return results;
}

/** kyverno-test.yaml fields with no equivalent here (exceptions, JSON payloads, mutate targets, checks). */
const UNAPPLIED_TEST_FIELDS = ["exceptions", "jsonPayload", "targetResources", "checks"] as const;

interface KyvernoTest {
  /** Inline values, instead of a `variables` file. */
  values?: Record<string, unknown>;
  policies?: string[];
  resources?: string[];
  /** A Values file: `namespaces` (namespaceObject and namespaceSelector), `namespaceSelector` labels. */
  variables?: string;
  /** A Context file: `spec.resources` for resource.Get/List. */
  context?: string;
  /** A UserInfo file: `userInfo` becomes request.userInfo. */
  userinfo?: string;
  results?: Array<{
    policy: string;
    rule?: string;
    resources?: string[];
    resource?: string;
    kind?: string;
    namespace?: string;
    result: string;
  }>;
}

/** Reads a kyverno-test.yaml's values, context and userinfo files into what the Kyverno engine takes. */
async function kyvernoSideFiles(
  test: KyvernoTest,
  file: string,
  root: string,
): Promise<{
  kctx: KyvernoContext;
  namespaces: KubeObject[];
  /** `request.operation` a values file sets for a (policy, resource): honoured. */
  operation(policy: string, resource: string): AdmissionRequest["operation"] | undefined;
  /** Side-file entries that apply to a (policy, resource) but that this runner does not apply. */
  unapplied(policy: string, resource: string): string[];
}> {
  const read = async (p: string | undefined) => {
    if (!p) return undefined;
    const abs = resolve(dirname(file), p);
    const [doc] = await readObjects(abs, rel(root, abs));
    return doc?.obj as Record<string, unknown> | undefined;
  };
  const values = (test.values ?? (await read(test.variables))) as KyvernoValues | undefined;
  const context = (await read(test.context)) as
    | { spec?: { resources?: KubeObject[]; [k: string]: unknown } }
    | undefined;
  const userinfo = (await read(test.userinfo)) as { userInfo?: KyvernoContext["userInfo"] } | undefined;
  // kyverno test resolves namespaceObject from the values file only (null for any other namespace);
  // `namespaces` win over `namespaceSelector` labels, as in its Variables.Namespace.
  const namespaces = new Map<string, KubeObject>();
  for (const n of values?.namespaceSelector ?? [])
    namespaces.set(n.name, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: n.name, labels: n.labels },
    });
  // Values files write `kind: namespace` too; kyverno decodes them as Namespaces.
  for (const n of values?.namespaces ?? [])
    if (n.metadata?.name) namespaces.set(n.metadata.name, { ...n, apiVersion: "v1", kind: "Namespace" });
  const kctx: KyvernoContext = {
    namespace: (name) => namespaces.get(name) ?? null,
    resources: context?.spec?.resources ?? [],
  };
  if (userinfo?.userInfo) kctx.userInfo = userinfo.userInfo;
  // What the side files say that CEL policies here do not see: reported on the cases it concerns.
  const unapplied: string[] = [];
  if (values?.globalValues && Object.keys(values.globalValues).length) unapplied.push("values globalValues");
  if (values?.subresources?.length) unapplied.push("values subresources");
  // Context images feed image.GetMetadata, which is reported as not supported where a policy calls it.
  for (const k of Object.keys(context?.spec ?? {}))
    if (k !== "resources" && k !== "images") unapplied.push(`context spec.${k}`);
  const operations = new Map<string, AdmissionRequest["operation"]>();
  const perCase = new Map<string, string[]>();
  for (const p of values?.policies ?? []) {
    for (const r of p.rules ?? [])
      if (r.values && Object.keys(r.values).length)
        perCase.set(`${p.name}/*`, [...(perCase.get(`${p.name}/*`) ?? []), `rule ${r.name} values`]);
    for (const r of p.resources ?? []) {
      for (const [k, v] of Object.entries(r.values ?? {})) {
        if (k === "request.operation" && typeof v === "string" && OPERATIONS.has(v))
          operations.set(`${p.name}/${r.name}`, v as AdmissionRequest["operation"]);
        else
          perCase.set(`${p.name}/${r.name}`, [...(perCase.get(`${p.name}/${r.name}`) ?? []), `values ${k}`]);
      }
    }
  }
  return {
    kctx,
    namespaces: [...namespaces.values()],
    operation: (policy, resource) => operations.get(`${policy}/${resource}`),
    unapplied: (policy, resource) => [
      ...unapplied,
      ...(perCase.get(`${policy}/*`) ?? []),
      ...(perCase.get(`${policy}/${resource}`) ?? []),
    ],
  };
}

const OPERATIONS = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

/** A kyverno-test Values file (cli.kyverno.io Values). */
interface KyvernoValues {
  namespaces?: KubeObject[];
  namespaceSelector?: Array<{ name: string; labels?: Record<string, string> }>;
  globalValues?: Record<string, unknown>;
  subresources?: unknown[];
  policies?: Array<{
    name: string;
    rules?: Array<{ name: string; values?: Record<string, unknown> }>;
    resources?: Array<{ name: string; values?: Record<string, unknown> }>;
  }>;
}

/**
 * Runs Kyverno CLI tests (kyverno-test.yaml, cli.kyverno.io Test) for CEL policies: ValidatingPolicy and
 * ValidatingAdmissionPolicy (+ bindings). Each expected (policy, resource) result is compared with ours.
 */
export async function runKyvernoTests(
  testFiles: string[],
  opts: { root: string; engine: CelEngine },
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const file of testFiles) {
    const display = rel(opts.root, file);
    const [doc] = await readObjects(file, display);
    const test = (doc?.obj ?? {}) as unknown as KyvernoTest;
    // Parts of a kyverno-test.yaml this runner does not apply: reported on every case, never ignored.
    const unapplied = UNAPPLIED_TEST_FIELDS.filter((k) => {
      const v = (test as Record<string, unknown>)[k];
      return Array.isArray(v) ? v.length > 0 : !!v;
    });
    const docs = emptyDocuments();
    for (const p of test.policies ?? [])
      classify(await readObjects(resolve(dirname(file), p), rel(opts.root, resolve(dirname(file), p))), docs);
    const resources: LoadedObject[] = [];
    // As kyverno test loads resources: one without a namespace is in "default" (whatever its scope).
    for (const r of test.resources ?? [])
      for (const o of await readObjects(resolve(dirname(file), r), rel(opts.root, resolve(dirname(file), r))))
        resources.push(
          o.obj.metadata?.namespace
            ? o
            : { ...o, obj: { ...o.obj, metadata: { ...o.obj.metadata, namespace: "default" } } },
        );
    const side = await kyvernoSideFiles(test, file, opts.root);
    const vap = compileVaps(docs.vaps, docs.bindings, opts.engine);
    const policies = [...compileKyverno(docs.kyverno, undefined, side.kctx), ...vap.policies];
    const context = renderContext([...resources, ...docs.others, ...side.namespaces]);
    for (const expect of test.results ?? []) {
      const names = expect.resources ?? (expect.resource ? [expect.resource] : []);
      for (const resourceName of names) {
        const base = {
          suite: display,
          test: expect.policy,
          case: `${expect.kind ?? ""}/${resourceName}`,
          file: display,
          line: 1,
          expected: expect.result,
        };
        const subject = resources.find(
          (r) =>
            (r.obj.metadata?.name ?? "") === resourceName.split("/").at(-1) &&
            (!expect.kind || r.obj.kind === expect.kind),
        );
        const sideUnapplied = side.unapplied(expect.policy, resourceName);
        if (sideUnapplied.length) {
          results.push({
            ...base,
            actual: "not supported",
            ok: false,
            unsupported: `${display}'s side files set ${sideUnapplied.join(", ")}, which policy test does not apply to CEL policies (its results would not be kyverno test's)`,
            results: [],
          });
          continue;
        }
        if (unapplied.length) {
          results.push({
            ...base,
            actual: "not supported",
            ok: false,
            unsupported: `${display} uses ${unapplied.join(", ")}, which policy test does not apply (its results would not be kyverno test's)`,
            results: [],
          });
          continue;
        }
        const policy = policies.find((p) => p.id === expect.policy);
        const other = policy
          ? undefined
          : docs.others.find((o) => o.obj.metadata?.name === expect.policy.split("/").at(-1));
        const unsupported = other && unsupportedKyverno(other.obj);
        if (unsupported) {
          results.push({
            ...base,
            actual: "not supported",
            ok: false,
            unsupported: `${unsupported.what} is not supported (${other.source.file}:${other.source.line}). ${unsupported.hint}`,
            results: [],
          });
          continue;
        }
        if (!subject || !policy) {
          results.push({
            ...base,
            actual: "error",
            ok: false,
            error: !subject
              ? `resource ${resourceName} is not among the test's resources`
              : `policy ${expect.policy} is not a CEL policy we can run (ValidatingPolicy or ValidatingAdmissionPolicy with a binding)`,
            results: [],
          });
          continue;
        }
        const target = targetFor(subject, context);
        const operation = side.operation(expect.policy, resourceName);
        if (operation) target.request = { ...target.request, operation };
        const rows = policy.evaluate(target);
        // kyverno test's vocabulary; a policy that does not match the resource is "excluded", which kyverno
        // test counts as a pass whatever the expectation.
        const errored = (r: PolicyResult) => r.verdict === "error" || r.evaluationError === true;
        const actual = rows.some(errored)
          ? "error"
          : rows.some((r) => r.verdict === "fail" || r.verdict === "warn")
            ? "fail"
            : rows.length === 0
              ? "excluded"
              : rows.every((r) => r.verdict === "skip")
                ? "skip"
                : "pass";
        if (actual === "error" && policy.unsupported) {
          // The error comes from a library that needs a registry, an endpoint or a cluster: no verdict here.
          results.push({
            ...base,
            file: subject.source.file,
            line: subject.source.line,
            actual: "not supported",
            ok: false,
            unsupported: `${expect.policy} ${policy.unsupported}`,
            results: rows,
          });
          continue;
        }
        results.push({
          ...base,
          file: subject.source.file,
          line: subject.source.line,
          actual,
          ok:
            actual === expect.result ||
            actual === "excluded" ||
            (expect.result === "warn" && actual === "fail"),
          // The evaluation error itself, so "expected pass, got error" says which expression failed and why.
          ...(actual === "error"
            ? {
                error: rows
                  .filter(errored)
                  .map((r) => r.message)
                  .join("; "),
              }
            : {}),
          results: rows,
        });
      }
    }
  }
  return results;
}

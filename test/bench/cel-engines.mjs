// Compares the two maintained npm CEL engines on what our policies need (Kubernetes-style expressions)
// and on speed, so the choice in packages/policy/src/cel/engine.ts is measured, not assumed.
//   node test/bench/cel-engines.mjs   (prints a table; writes bench-results/cel-engines.json)
import { mkdirSync, writeFileSync } from "node:fs";
import { parse as bufParse, run as bufRun, celEnv, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { Environment } from "@marcbachmann/cel-js";
import { createCelEngine } from "@platform/policy";

const pod = {
  metadata: { labels: { app: "x" } },
  spec: {
    hostNetwork: false,
    containers: [
      { name: "a", image: "r.io/x@sha256:abc", securityContext: { runAsNonRoot: true, runAsUser: 1000n } },
      { name: "b", image: "nginx:latest" },
    ],
  },
};

// [expression, expected] — what Kubernetes' cel-go environment returns (or rejects).
const cases = [
  ["object.spec.containers.all(c, has(c.securityContext) && c.securityContext.runAsNonRoot == true)", false],
  ["object.spec.containers.exists(c, c.image.endsWith(':latest'))", true],
  ["object.spec.containers.map(c, c.name).join(',')", "a,b"],
  ["object.spec.containers.filter(c, c.image.contains('@sha256:')).size()", 1n],
  ["object.metadata.labels.exists_one(k, k == 'app')", true],
  ["object.spec.?hostPID.orValue(false)", false],
  ["object.spec.containers[0].?securityContext.?runAsNonRoot.orValue(false)", true],
  ["object.spec.containers[0].securityContext.runAsUser > 0", true],
  ["cel.bind(x, 2, x * x)", 4n],
  ["'a-b'.replace('-', '_')", "a_b"],
  ["'abc'.charAt(1)", "b"],
  ["'abc'.indexOf('c')", 2n],
  ["' x '.trim()", "x"],
  ["'a,b'.split(',').size()", 2n],
  ["'x'.matches('^(?=x)x$')", "error"],
  ["'Ä'.lowerAscii()", "Ä"],
  ["[1, 2, 3].all(i, x, x > 0)", true],
];

function toMaps(v) {
  if (Array.isArray(v)) return v.map(toMaps);
  if (v && typeof v === "object") return new Map(Object.entries(v).map(([k, x]) => [k, toMaps(x)]));
  return v;
}

const engines = {
  "@marcbachmann/cel-js": () => {
    const env = new Environment({ unlistedVariablesAreDyn: true, enableOptionalTypes: true });
    return {
      eval: (e, object) => env.evaluate(e, { object }),
      prepare: (e) => {
        const p = env.parse(e);
        return (object) => p({ object });
      },
      input: (o) => o,
    };
  },
  "@bufbuild/cel": () => {
    const env = celEnv({ funcs: strings });
    return {
      eval: (e, object) => bufRun(e, { object: toMaps(object) }, { funcs: strings }),
      prepare: (e) => {
        const p = plan(env, bufParse(e));
        return (object) => p({ object });
      },
      input: toMaps,
    };
  },
};

// What the policies actually run: @marcbachmann/cel-js plus our Kubernetes layer (RE2, strings, regex).
engines["platform (cel-js + k8s libs)"] = () => {
  const engine = createCelEngine();
  return {
    eval: (e, object) => engine.compile(e).eval({ object }),
    prepare: (e) => {
      const p = engine.compile(e);
      return (object) => p.eval({ object });
    },
    input: (o) => o,
  };
};

const out = {};
for (const [name, make] of Object.entries(engines)) {
  const eng = make();
  const failures = [];
  for (const [expr, want] of cases) {
    let got;
    try {
      got = eng.eval(expr, pod);
      if (got instanceof Error) throw got;
    } catch {
      got = "error";
    }
    if (typeof got === "number" && typeof want === "bigint") got = BigInt(got);
    if (got !== want) failures.push(`${expr} → ${String(got)} (want ${String(want)})`);
  }
  const expr =
    "object.spec.containers.all(c, has(c.securityContext) && has(c.securityContext.runAsNonRoot) && c.securityContext.runAsNonRoot == true)";
  const prepared = eng.prepare(expr);
  const input = eng.input(pod);
  const n = 50_000;
  for (let i = 0; i < 2_000; i++) prepared(input);
  const t = performance.now();
  for (let i = 0; i < n; i++) prepared(input);
  const perSec = n / ((performance.now() - t) / 1000);
  out[name] = {
    correct: cases.length - failures.length,
    cases: cases.length,
    evalsPerSecond: Math.round(perSec),
    failures,
  };
}
for (const [name, r] of Object.entries(out)) {
  console.log(
    `${name.padEnd(30)} ${r.correct}/${r.cases} Kubernetes-CEL cases, ${r.evalsPerSecond.toLocaleString("en")} evals/s`,
  );
  for (const f of r.failures) console.log(`    ✗ ${f}`);
}
const [a, b] = Object.values(out);
console.log(`speed ratio marcbachmann/bufbuild: ${(a.evalsPerSecond / b.evalsPerSecond).toFixed(1)}×`);
mkdirSync("bench-results", { recursive: true });
writeFileSync("bench-results/cel-engines.json", `${JSON.stringify(out, null, 2)}\n`);

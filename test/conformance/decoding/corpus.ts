// YAML documents that go-yaml v2 + sigs.k8s.io/yaml (the API server's decoder) read differently from a
// YAML 1.2 parser, or refuse: every boolean spelling, odd number notations, merge keys, duplicate keys at
// several depths, anchors, tags, unknown and mistyped fields, streams, Lists, and bytes that are not UTF-8.
// Nothing here states what the server answers: the differential test asks it.

export interface DecodingCase {
  name: string;
  /** The file as a user would commit it. */
  bytes: Buffer;
  /** Send the bytes as one request, not split on `---` lines as kubectl does (UTF-16 input). */
  whole?: boolean;
}

export const NS = "apiserver-decoding";
export const PROBE_GROUP = "decoding.platform.test";

const utf8 = (s: string) => Buffer.from(s, "utf8");

/** A custom resource whose schema keeps every field: the server's answer is its YAML → JSON decoding itself. */
function probe(name: string, body: string): DecodingCase {
  return {
    name: `probe/${name}`,
    bytes: utf8(
      `apiVersion: ${PROBE_GROUP}/v1\nkind: Probe\nmetadata:\n  name: ${name}\n  namespace: ${NS}\n${body}`,
    ),
  };
}

const POD_HEAD = (name: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ${NS}\nspec:\n`;

/** A Pod whose one container carries `container` (indented 6) and whose spec carries `spec` (indented 2). */
function pod(name: string, container = "", spec = ""): DecodingCase {
  return {
    name: `pod/${name}`,
    bytes: utf8(
      `${POD_HEAD(name)}${spec}  containers:\n    - name: app\n      image: registry.example/app@sha256:${"a".repeat(64)}\n${container}`,
    ),
  };
}

function doc(name: string, text: string): DecodingCase {
  return { name, bytes: utf8(text) };
}

const deployment = (name: string, extra = "", container = "") =>
  `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  selector:
    matchLabels: {app: ${name}}
${extra}  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: app
          image: registry.example/app:1
${container}`;

const jsonDeployment = (name: string, spec: string) =>
  `{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "${name}", "namespace": "${NS}"},\n "spec": {${spec} "selector": {"matchLabels": {"app": "${name}"}},\n  "template": {"metadata": {"labels": {"app": "${name}"}}, "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]}}}}\n`;

const configMap = (name: string, data: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${NS}\ndata:\n${data}`;

export const CORPUS: DecodingCase[] = [
  // --- booleans: go-yaml v2 resolves exactly these 22 spellings; everything else stays a string
  probe(
    "bool-true",
    "data: {a: y, b: Y, c: yes, d: Yes, e: YES, f: on, g: On, h: ON, i: true, j: True, k: TRUE}\n",
  ),
  probe(
    "bool-false",
    "data: {a: n, b: N, c: no, d: No, e: NO, f: off, g: Off, h: OFF, i: false, j: False, k: FALSE}\n",
  ),
  probe(
    "bool-lookalikes",
    "data: {a: yEs, b: oN, c: tRUE, d: nO, e: 'yes', f: \"on\", g: Y., h: yes!, i: ofF}\n",
  ),
  // --- numbers
  probe(
    "ints",
    "data: {a: 0o17, b: 0O17, c: 017, d: 0x1F, e: 0X1f, f: -0x1F, g: 1_000, h: +12, i: 0b101, j: -0b101, k: 0, l: -0, m: 08, n: 09}\n",
  ),
  probe(
    "floats",
    "data: {a: .5, b: -.5, c: +.5, d: 1e3, e: 1E3, f: 1.0, g: 1., h: 1.5e-3, i: 1_000.5, j: 6.02e+23, k: 1e400, l: .1_0, m: 0.1}\n",
  ),
  probe(
    "big-ints",
    "data: {a: 9223372036854775807, b: 9223372036854775808, c: 18446744073709551615, d: 18446744073709551616, e: -9223372036854775808}\n",
  ),
  probe("inf", "data: {a: .inf}\n"),
  probe("nan", "data: {a: .NaN}\n"),
  probe("neg-inf", "data: {a: -.Inf}\n"),
  probe("inf-lookalikes", "data: {a: .infinity, b: inf, c: -inf, d: .Nan, e: Infinity}\n"),
  probe("sexagesimal", "data: {a: 190:20:30, b: 1:20, c: -1:30}\n"),
  probe("nulls", "data: {a: ~, b: null, c: Null, d: NULL, e: , f: nULL, g: ''}\n"),
  probe(
    "timestamps",
    "data: {a: 2001-12-14, b: 2001-12-14t21:59:43.10-05:00, c: 2001-12-14 21:59:43.10, d: 2099-02-31, e: 2001-12-14T21:59:43Z}\n",
  ),
  // --- map keys: converted to JSON strings
  probe(
    "keys-typed",
    "data: {yes: a, 1: b, 0x2: c, 1.5: d, ~x: e, 1e6: f, 0.1: g, 100000: h, 2001-01-01: i}\n",
  ),
  probe("key-bool-dup", "data: {yes: a, on: b}\n"),
  probe("key-int-dup", "data: {1: a, 0x1: b}\n"),
  probe("key-json-collision", "data: {1: a, '1': b}\n"),
  probe("key-null", "data: {~: a}\n"),
  probe("key-seq", "data:\n  ? [a, b]\n  : x\n"),
  probe("key-uint", "data: {18446744073709551615: a}\n"),
  probe("key-quoted-vs-plain-dup", 'data:\n  a: 1\n  "a": 2\n'),
  // --- duplicate keys at several depths
  probe("dup-top", "data: {a: 1}\ndata: {a: 2}\n"),
  probe("dup-depth-3", "data:\n  x:\n    y: 1\n    z: 2\n    y: 3\n"),
  probe("dup-in-list-item", "data:\n  - name: a\n    value: 1\n    name: b\n"),
  doc("deployment/dup-image", deployment("dup-image", "", "          image: registry.example/other:2\n")),
  doc("configmap/dup-data-key", configMap("dup-data-key", "  a: x\n  b: y\n  a: z\n")),
  // --- merge keys
  probe("merge-simple", "base: &b {x: 1, w: 2}\ndata:\n  <<: *b\n  z: 3\n"),
  probe("merge-override-after", "base: &b {x: 1, w: 2}\ndata:\n  <<: *b\n  x: 3\n"),
  probe("merge-override-before", "base: &b {x: 1, w: 2}\ndata:\n  x: 3\n  <<: *b\n"),
  probe("merge-list-disjoint", "a: &a {x: 1}\nb: &b {w: 2}\ndata:\n  <<: [*a, *b]\n  z: 3\n"),
  probe("merge-list-overlap", "a: &a {x: 1}\nb: &b {x: 2}\ndata:\n  <<: [*a, *b]\n"),
  probe("merge-nested", "a: &a {x: 1}\nb: &b\n  <<: *a\n  w: 2\ndata:\n  <<: *b\n  z: 3\n"),
  probe("merge-inline", "data:\n  <<: {x: 1, w: 2}\n  z: 3\n"),
  probe("merge-scalar", "data:\n  <<: 5\n"),
  probe("merge-quoted-key", 'data:\n  "<<": {x: 1}\n'),
  probe("merge-deep", "s: &s {inner: {a: 1}}\ndata:\n  outer:\n    <<: *s\n    other: 2\n"),
  pod(
    "merge-security-context",
    "      securityContext:\n        <<: *sc\n        readOnlyRootFilesystem: true\n",
    `  initContainers:\n    - name: init\n      image: registry.example/init@sha256:${"b".repeat(64)}\n      securityContext: &sc {privileged: true, runAsUser: 0}\n`,
  ),
  // --- anchors and aliases
  probe("alias-reuse", "x: &x {a: 1, b: [1, 2]}\nl: &l [p, q]\ns: &s str\ndata: {m: *x, n: *l, o: *s}\n"),
  probe("alias-undefined", "data: {a: *nope}\n"),
  probe("anchor-redefined", "a: &x 1\nb: &x 2\ndata: {c: *x}\n"),
  probe("alias-as-key", "k: &k name\ndata: {*k : v}\n"),
  // --- tags
  probe(
    "tags",
    'data: {a: !!str 123, b: !!str yes, c: !!int "42", d: !!float 1, e: !!bool "on", f: !!null "", g: !custom value, h: !!binary aGVsbG8=, i: !!timestamp 2001-12-14}\n',
  ),
  probe("tag-int-bad", "data: {a: !!int abc}\n"),
  probe("tag-bool-bad", "data: {a: !!bool maybe}\n"),
  probe("binary-bad", 'data: {a: !!binary "***"}\n'),
  probe("tag-float-from-string", 'data: {a: !!float "2.5", b: !!int 0x10}\n'),
  // --- string styles
  probe(
    "block-scalars",
    "data:\n  lit: |\n    one\n    two\n  keep: |+\n    k\n\n  strip: |-\n    s\n  fold: >\n    a\n    b\n",
  ),
  probe("quoted-escapes", "data:\n  d: \"\\x41\\u00e9\\t|\"\n  s: 'it''s'\n  m: \"multi\n    line\"\n"),
  probe("unicode", 'data: {emoji: "😀", plain: café, escaped: "a\\Nb\\Lc\\Pd\\_e"}\n'),
  probe("quoted-continuation-unindented", "data:\n  b: \"one\ntwo\"\n  c: 'three\nfour'\n"),
  probe("raw-nel", 'data: {nel: "a\u0085b"}\n'),
  probe("raw-line-separator", 'data: {ls: "a\u2028b"}\n'),
  // --- bytes
  {
    name: "bytes/invalid-utf8",
    bytes: Buffer.concat([utf8(configMap("bad-utf8", '  a: "')), Buffer.from([0xff, 0xfe]), utf8('"\n')]),
  },
  {
    name: "bytes/latin1",
    bytes: Buffer.concat([utf8(configMap("latin1", "  a: caf")), Buffer.from([0xe9]), utf8("\n")]),
  },
  {
    name: "bytes/bom-utf8",
    bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(configMap("bom", "  a: x\n"))]),
  },
  {
    name: "bytes/crlf",
    bytes: utf8(configMap("crlf", "  a: x\n  b: |\n    l1\n    l2\n").replace(/\n/g, "\r\n")),
  },
  { name: "bytes/control-char", bytes: utf8(configMap("ctrl", '  a: "x\u0001y"\n')) },
  { name: "bytes/nul", bytes: utf8(configMap("nul", "  a: x\u0000y\n")) },
  { name: "bytes/del", bytes: utf8(configMap("del", "  a: x\u007fy\n")) },
  { name: "bytes/tab-in-value", bytes: utf8(configMap("tab", "  a: x\ty\n")) },
  {
    name: "bytes/utf16le-bom",
    bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(configMap("utf16", "  a: x\n"), "utf16le")]),
    whole: true,
  },
  // --- streams
  doc("stream/empty-docs", `---\n---\n${configMap("s1", "  a: x\n")}---\n# only a comment\n---\n`),
  doc(
    "stream/three",
    [configMap("s2", "  a: x\n"), configMap("s3", '  a: "yes"\n'), configMap("s4", "  a: '1'\n")].join(
      "---\n",
    ),
  ),
  doc("stream/doc-end-marker", `${configMap("s5", "  a: x\n")}...\n---\n${configMap("s6", "  a: z\n")}`),
  doc("stream/one-bad-of-two", `${configMap("s7", "  a: x\n")}---\n${configMap("s8", "  a: 1\n")}`),
  doc("stream/separator-with-content", `--- ${configMap("s9", "  a: x\n").replace(/\n/g, "\n")}`),
  doc("stream/separator-comment", `--- # first\n${configMap("s10", "  a: x\n")}`),
  // --- Lists (kubectl flattens them, nested ones too, and sends each item)
  doc(
    "list/v1",
    `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: l1, namespace: ${NS}}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: l2, namespace: ${NS}}\n`,
  ),
  doc(
    "list/nested",
    `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: List\n    items:\n      - apiVersion: v1\n        kind: Pod\n        metadata: {name: nested, namespace: ${NS}}\n        spec:\n          containers:\n            - name: app\n              image: registry.example/app:1\n              securityContext: {privileged: yes}\n`,
  ),
  doc(
    "list/unknown-field-in-item",
    `apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: l3, namespace: ${NS}}\n    dta: {a: x}\n`,
  ),
  // --- typed decoding of built-in kinds
  pod("privileged-yes", "      securityContext:\n        privileged: yes\n"),
  pod("privileged-on", "      securityContext:\n        privileged: On\n"),
  pod("privileged-y", "      securityContext:\n        privileged: y\n"),
  pod("privileged-string", '      securityContext:\n        privileged: "yes"\n'),
  pod("privileged-int", "      securityContext:\n        privileged: 1\n"),
  pod("host-network-on", "", "  hostNetwork: on\n"),
  pod("host-pid-yes", "", "  hostPID: yes\n"),
  pod("run-as-user-octal", "      securityContext:\n        runAsUser: 0o1750\n        runAsNonRoot: y\n"),
  pod("run-as-user-string", '      securityContext:\n        runAsUser: "1000"\n'),
  pod("run-as-user-float", "      securityContext:\n        runAsUser: 1000.5\n"),
  pod("run-as-user-float-integral", "      securityContext:\n        runAsUser: 1000.0\n"),
  pod("container-port-string", '      ports:\n        - containerPort: "80"\n'),
  pod("container-port-int32-overflow", "      ports:\n        - containerPort: 4294967296\n"),
  pod("container-port-hex", "      ports:\n        - containerPort: 0x50\n"),
  pod("env-value-number", "      env:\n        - name: PORT\n          value: 8080\n"),
  pod("env-value-bool", "      env:\n        - name: DEBUG\n          value: yes\n"),
  pod("env-value-quoted", '      env:\n        - name: DEBUG\n          value: "yes"\n'),
  pod(
    "resources-numbers",
    "      resources:\n        limits: {cpu: 0.5, memory: 134217728}\n        requests: {cpu: 1e-1}\n",
  ),
  pod("resources-bool", "      resources:\n        limits: {memory: yes}\n"),
  pod("resources-bad-string", "      resources:\n        limits: {cpu: lots}\n"),
  pod("unknown-field-container", "      securityContxt: {privileged: true}\n"),
  pod("unknown-field-pod-spec", "", "  hostNetwrok: true\n"),
  pod("unknown-field-case", "      Image: registry.example/other:1\n"),
  pod("unknown-field-deep", "      securityContext:\n        capabilities: {drop: [ALL], dorp: [NET_RAW]}\n"),
  pod("merge-container-fields", "      <<: {imagePullPolicy: Always, workingDir: /app}\n"),
  pod("null-fields", "      securityContext: ~\n      ports: null\n"),
  doc(
    "pod/unknown-field-top",
    `${POD_HEAD("top").replace("spec:\n", "spce: {}\nspec:\n")}  containers:\n    - name: app\n      image: registry.example/app:1\n`,
  ),
  doc(
    "pod/name-y",
    POD_HEAD("y").concat("  containers:\n    - name: app\n      image: registry.example/app:1\n"),
  ),
  doc(
    "pod/creation-timestamp-date",
    POD_HEAD("ts")
      .replace("  namespace:", "  creationTimestamp: 2024-01-01\n  namespace:")
      .concat("  containers:\n    - name: app\n      image: registry.example/app:1\n"),
  ),
  doc("deployment/replicas-float", deployment("replicas-float", "  replicas: 1.5\n")),
  doc("deployment/replicas-integral-float", deployment("replicas-1-0", "  replicas: 1.0\n")),
  doc("deployment/replicas-exponent", deployment("replicas-exp", "  replicas: 2e0\n")),
  doc("deployment/replicas-string", deployment("replicas-string", '  replicas: "3"\n')),
  doc(
    "deployment/unknown-field-template",
    deployment("unknown-template", "", "          securityContxt: {privileged: true}\n"),
  ),
  doc(
    "deployment/labels-number",
    deployment("labels-number").replace(
      "labels: {app: labels-number}",
      "labels: {app: labels-number, version: 1}",
    ),
  ),
  doc(
    "deployment/labels-bool",
    deployment("labels-bool").replace(
      "labels: {app: labels-bool}",
      "labels: {app: labels-bool, enabled: yes}",
    ),
  ),
  doc("configmap/key-no", configMap("key-no", '  no: x\n  on: "y"\n')),
  doc("configmap/value-number", configMap("value-number", "  port: 8080\n")),
  doc("configmap/binary-data", `${configMap("binary-data", "  a: x\n")}binaryData:\n  b: aGVsbG8=\n`),
  doc(
    "secret/data-bad-base64",
    `apiVersion: v1\nkind: Secret\nmetadata: {name: bad-b64, namespace: ${NS}}\ndata:\n  k: not*base64\n`,
  ),
  doc(
    "secret/string-data-bool",
    `apiVersion: v1\nkind: Secret\nmetadata: {name: ok-b64, namespace: ${NS}}\ndata:\n  k: aGVsbG8=\nstringData:\n  s: yes\n`,
  ),
  doc(
    "service/target-port-name-and-number",
    `apiVersion: v1\nkind: Service\nmetadata: {name: svc-ok, namespace: ${NS}}\nspec:\n  ports:\n    - {port: 80, targetPort: http, name: a}\n    - {port: 81, targetPort: 0x1F90, name: b}\n`,
  ),
  doc(
    "service/target-port-float",
    `apiVersion: v1\nkind: Service\nmetadata: {name: svc-float, namespace: ${NS}}\nspec:\n  ports:\n    - {port: 80, targetPort: 80.5}\n`,
  ),
  doc(
    "cronjob/unknown-field",
    `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj, namespace: ${NS}}\nspec:\n  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: a, image: registry.example/a:1}]\n          restartPolcy: Never\n`,
  ),
  doc(
    "networkpolicy/unknown-field",
    `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: ${NS}}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n  ingres: []\n`,
  ),
  doc(
    "role/wrong-type",
    `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: ${NS}}\nrules:\n  - apiGroups: [""]\n    resources: pods\n    verbs: [get]\n`,
  ),
  doc(
    "hpa/ok-octal",
    `apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: hpa, namespace: ${NS}}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: x}\n  minReplicas: 01\n  maxReplicas: 0o12\n`,
  ),
  doc(
    "pdb/int-or-string",
    `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: pdb, namespace: ${NS}}\nspec:\n  minAvailable: 50%\n  selector: {matchLabels: {app: x}}\n`,
  ),
  probe("metadata-unknown-field", "  labelz: {a: b}\ndata: {}\n"),
  probe("metadata-label-number", "  labels: {version: 2}\ndata: {}\n"),
  probe("metadata-annotation-quoted", "  annotations: {version: '2', enabled: \"yes\"}\ndata: {}\n"),
  // --- JSON files: kubectl sends them as JSON, where 1.0 stays a float and keys must be quoted
  doc("json/replicas-int", jsonDeployment("json-int", '"replicas": 2,')),
  doc("json/replicas-float", jsonDeployment("json-float", '"replicas": 2.0,')),
  doc("json/replicas-exponent", jsonDeployment("json-exp", '"replicas": 2e0,')),
  doc("json/duplicate-field", jsonDeployment("json-dup", '"replicas": 1, "replicas": 2,')),
  doc("json/unknown-field", jsonDeployment("json-unknown", '"replica": 1,')),
  doc(
    "json/yes-is-a-string",
    `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json-yes", "namespace": "${NS}"}, "data": {"a": "yes"}}\n`,
  ),
  doc(
    "probe/unknown-fields-in-custom-resource",
    `apiVersion: ${PROBE_GROUP}/v1\nkind: Probe\nmetadata:\n  name: free-form\n  namespace: ${NS}\nanything: {goes: [1, yes]}\n`,
  ),
];

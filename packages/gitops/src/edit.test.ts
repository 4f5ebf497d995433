import { describe, expect, it } from "vitest";
import { digest, maskDigests } from "./__fixtures__/repo.ts";
import { editFile, type TagPolicy } from "./edit.ts";
import { scanFiles } from "./locate.ts";

const OLD = digest("old");
const NEW = digest("new");
const IMAGE = "myacr.azurecr.io/team/app";

function bump(
  path: string,
  text: string,
  opts: { tag?: string; digest?: string; tagPolicy?: TagPolicy } = {},
) {
  const [file] = scanFiles([{ path, text }], IMAGE);
  return file
    ? editFile(file, {
        digest: opts.digest ?? NEW,
        ...(opts.tag ? { tag: opts.tag } : {}),
        ...(opts.tagPolicy ? { tagPolicy: opts.tagPolicy } : {}),
      })
    : undefined;
}
const after = (path: string, text: string, opts?: { tag?: string; tagPolicy?: TagPolicy }) =>
  bump(path, text, opts)?.after;

describe("kustomize images", () => {
  it("replaces the digest bytes only, in a CRLF file", () => {
    const before = [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "images:",
      "  - name: app # the API",
      `    newName: ${IMAGE}`,
      "    newTag: 1.8.0",
      `    digest: ${OLD}`,
      "",
    ].join("\r\n");
    expect(after("overlays/dev/kustomization.yaml", before)).toBe(before.replace(OLD, NEW));
  });

  it("adds a digest line after newTag, keeping its comment, indentation and the missing final newline", () => {
    const before = [
      "images:",
      "- name: app",
      `  newName: ${IMAGE}`,
      "  newTag: '1.7.2' # no digest yet",
    ].join("\r\n");
    const change = bump("kustomization.yaml", before)!;
    expect(change.after).toBe(
      [
        "images:",
        "- name: app",
        `  newName: ${IMAGE}`,
        "  newTag: '1.7.2' # no digest yet",
        `  digest: ${NEW}`,
      ].join("\r\n"),
    );
    expect(change.edits).toEqual([{ line: 5, path: "images[0]", newDigest: NEW, inserted: true }]);
  });

  it("adds the digest after newName (or name) when there is no newTag, and inside a flow map", () => {
    expect(
      after("kustomization.yaml", `images:\n  - name: x\n    newName: ${IMAGE}\nresources: [a.yaml]\n`),
    ).toBe(`images:\n  - name: x\n    newName: ${IMAGE}\n    digest: ${NEW}\nresources: [a.yaml]\n`);
    expect(after("kustomization.yaml", `images:\n  - name: ${IMAGE}\n`)).toBe(
      `images:\n  - name: ${IMAGE}\n    digest: ${NEW}\n`,
    );
    expect(after("kustomization.yaml", `images: [{name: ${IMAGE}, newTag: "1"}]\n`)).toBe(
      `images: [{name: ${IMAGE}, newTag: "1", digest: ${NEW}}]\n`,
    );
  });

  it("sets the tag too when asked, keeping its quotes", () => {
    const before = `images:\n  - name: ${IMAGE}\n    newTag: "1.0"\n    digest: '${OLD}'\n`;
    const change = bump("kustomization.yaml", before, { tag: "1.1" })!;
    expect(change.after).toBe(`images:\n  - name: ${IMAGE}\n    newTag: "1.1"\n    digest: '${NEW}'\n`);
    expect(change.edits).toEqual([
      { line: 4, path: "images[0]", oldDigest: OLD, newDigest: NEW, oldTag: "1.0", newTag: "1.1" },
    ]);
  });
});

describe("Helm values", () => {
  it("keeps every quoting style: plain, 'single', \"double\"", () => {
    for (const q of ["", "'", '"']) {
      const before = `# comment\napi:\n  image:\n    repository: ${IMAGE}\n    tag: ${q}1.0${q}\n    digest: ${q}${OLD}${q}   # pinned\n`;
      expect(after("values.yaml", before, { tag: "2.0" })).toBe(
        before.replace(OLD, NEW).replace(`${q}1.0${q}`, `${q}2.0${q}`),
      );
    }
  });

  it("fills an empty digest: \"\", '', ~, null and a bare key", () => {
    const cases: Array<[string, string]> = [
      ['digest: ""', `digest: "${NEW}"`],
      ["digest: ''", `digest: '${NEW}'`],
      ["digest: ~", `digest: ${NEW}`],
      ["digest: null", `digest: ${NEW}`],
      ["digest:", `digest: ${NEW}`],
      ["digest:   # set by CI", `digest: ${NEW}   # set by CI`],
    ];
    for (const [from, to] of cases) {
      const before = `image:\n  registry: myacr.azurecr.io\n  repository: team/app\n  ${from}\npullPolicy: Always\n`;
      expect(after("values.yaml", before)).toBe(before.replace(from, to));
    }
  });

  it("adds a digest line after tag in a map without one, with the map's indentation", () => {
    const before =
      "image:\n    repository: myacr.azurecr.io/team/app\n    tag: 1.0\n    pullPolicy: IfNotPresent\n";
    expect(after("values.yaml", before)).toBe(
      `image:\n    repository: myacr.azurecr.io/team/app\n    tag: 1.0\n    digest: ${NEW}\n    pullPolicy: IfNotPresent\n`,
    );
  });

  it("edits `image: repo:tag@digest` strings, appending @digest where there is none", () => {
    const before = `a:\n  image: ${IMAGE}:1.0\nb:\n  image: "${IMAGE}:1.0@${OLD}"\nc:\n  initImage: '${IMAGE}'\n`;
    expect(after("values.yaml", before, { tag: "1.1" })).toBe(
      `a:\n  image: ${IMAGE}:1.1@${NEW}\nb:\n  image: "${IMAGE}:1.1@${NEW}"\nc:\n  initImage: '${IMAGE}@${NEW}'\n`,
    );
  });

  it("edits a digest pinned inside the tag (`tag: 1.0@sha256:…`)", () => {
    const before = `image:\n  repository: ${IMAGE}\n  tag: "1.0@${OLD}"\n`;
    expect(after("values.yaml", before, { tag: "1.1" })).toBe(
      `image:\n  repository: ${IMAGE}\n  tag: "1.1@${NEW}"\n`,
    );
  });

  it("leaves anchors, aliases, merge keys, key order and document markers alone", () => {
    const before = [
      "%YAML 1.2",
      "---",
      "defaults: &defaults",
      "  pullPolicy: IfNotPresent",
      "api:",
      "  <<: *defaults",
      "  image: &api-image",
      `    repository: ${IMAGE}`,
      `    digest: ${OLD}`,
      "worker:",
      "  image: *api-image # same image, same digest",
      "...",
      "---",
      "other: {image: 'nginx:1.27'}",
      "",
    ].join("\n");
    const change = bump("values.yaml", before)!;
    expect(change.after).toBe(before.replace(OLD, NEW));
    expect(change.edits.map((e) => e.path)).toEqual(["api.image", "worker.image"]);
  });

  it("is a no-op when every reference is already at the digest (and tag)", () => {
    const before = `image:\n  repository: ${IMAGE}\n  tag: "1.1"\n  digest: ${NEW}\n`;
    expect(bump("values.yaml", before, { tag: "1.1" })).toBeUndefined();
    const once = after("values.yaml", `image:\n  repository: ${IMAGE}\n  tag: "1.1"\n`)!;
    expect(bump("values.yaml", once)).toBeUndefined();
  });
});

describe("Argo CD helm.values inside a literal block", () => {
  it("edits inside the string byte for byte, CRLF and block indentation included", () => {
    const before = [
      "apiVersion: argoproj.io/v1alpha1",
      "kind: Application",
      "spec:",
      "  source:",
      "    helm:",
      "      values: |",
      "        # staging",
      "        image:",
      `          repository: ${IMAGE}`,
      '          tag: "1.0"   # promoted',
      "        replicaCount: 2",
      "  destination: {}",
      "",
    ].join("\r\n");
    const change = bump("apps/app.yaml", before, { tag: "1.1" })!;
    expect(change.after).toBe(
      [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: Application",
        "spec:",
        "  source:",
        "    helm:",
        "      values: |",
        "        # staging",
        "        image:",
        `          repository: ${IMAGE}`,
        '          tag: "1.1"   # promoted',
        `          digest: ${NEW}`,
        "        replicaCount: 2",
        "  destination: {}",
        "",
      ].join("\r\n"),
    );
    expect(change.edits).toEqual([
      {
        line: 11,
        path: "spec.source.helm.values > image",
        newDigest: NEW,
        oldTag: "1.0",
        newTag: "1.1",
        inserted: true,
      },
    ]);
  });

  it("edits an anchored image map once, however many aliases reach it (found by the round-trip property)", () => {
    const before = [
      "kind: Application",
      "apiVersion: argoproj.io/v1alpha1",
      "spec:",
      "  source:",
      "    helm:",
      "      values: |",
      "        api: &img",
      `          repository: ${IMAGE}`,
      "          tag: '1.0'",
      `          digest: ${OLD}`,
      "        worker: *img",
      "        jobs: {image: *img}",
      "",
    ].join("\n");
    const change = bump("app.yaml", before, { tag: "1.0.1-rc.1" })!;
    expect(change.after).toBe(before.replace(OLD, NEW).replace("'1.0'", "'1.0.1-rc.1'"));
    expect(change.edits.map((e) => e.path)).toEqual([
      "spec.source.helm.values > api",
      "spec.source.helm.values > worker",
      "spec.source.helm.values > jobs.image",
    ]);
  });

  it("reports a quoted or folded helm.values as not editable and leaves the file alone", () => {
    const before = `apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: "image: ${IMAGE}:1.0\\n"\n`;
    const [file] = scanFiles([{ path: "app.yaml", text: before }], IMAGE);
    expect(file!.found[0]!.ref.notEditable).toMatch(/not a literal block/);
    expect(editFile(file!, { digest: NEW })).toBeUndefined();
  });
});

describe("refusals", () => {
  it("refuses when the digest is an anchor that another value aliases", () => {
    const before = [
      `pinned: &pin ${OLD}`,
      "image:",
      `  repository: ${IMAGE}`,
      "  digest: *pin",
      "audit:",
      "  lastDigest: *pin",
      "",
    ].join("\n");
    expect(() => bump("values.yaml", before)).toThrow(
      expect.objectContaining({ code: "GITOPS_EDIT_UNSAFE", file: "values.yaml", line: 1 }),
    );
    expect(() => bump("values.yaml", before)).toThrow(/values\.yaml:1: .*would also change pinned/);
  });

  it("handles an anchored digest shared only by references to the same image", () => {
    const before = [
      "api:",
      "  image:",
      `    repository: ${IMAGE}`,
      `    digest: &d ${OLD}`,
      "worker:",
      "  image:",
      `    repository: ${IMAGE}`,
      "    digest: *d",
      "",
    ].join("\n");
    const change = bump("values.yaml", before)!;
    expect(change.after).toBe(before.replace(OLD, NEW));
    expect(change.edits).toHaveLength(2);
  });

  it("refuses a tag that would turn a string into a number, in YAML 1.2 or in YAML 1.1 (Helm, kubectl)", () => {
    const before = `image:\n  repository: ${IMAGE}\n  tag: v1\n  digest: ${OLD}\n`;
    for (const [tag, type] of [
      ["1_000", "number"],
      ["on", "boolean"],
      ["0x1F", "number"],
    ]) {
      expect(() => bump("values.yaml", before, { tag })).toThrow(
        `would be read as a ${type} instead of a string`,
      );
    }
    expect(after("values.yaml", before.replace("tag: v1", "tag: 'v1'"), { tag: "1.20" })).toContain(
      "tag: '1.20'",
    );
    expect(() => bump("values.yaml", before, { tag: "1.20" })).toThrow(
      expect.objectContaining({
        code: "GITOPS_EDIT_UNSAFE",
        message: expect.stringMatching(/number instead of a string; quote it/),
      }),
    );
  });

  it("never splices a value written with escapes: it is reported, not edited", () => {
    const before = `image:\n  repository: ${IMAGE}\n  digest: "sha256:\\x61${OLD.slice(8)}"\n`;
    const [file] = scanFiles([{ path: "values.yaml", text: before }], IMAGE);
    expect(file!.found[0]!.ref.notEditable).toMatch(/escapes/);
    expect(editFile(file!, { digest: NEW })).toBeUndefined();
  });
});

describe("byte-exactness", () => {
  it("changes nothing outside the digests on the fixture-like layouts", () => {
    const docs = [
      `images:\n  - name: a\n    newName: ${IMAGE}\n    newTag: "1"\n    digest: ${OLD}\n`,
      `apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: ${IMAGE}@${OLD}\n`,
    ];
    for (const [i, d] of docs.entries()) {
      const out = after(i === 0 ? "kustomization.yaml" : "deploy.yaml", d)!;
      expect(out).not.toBe(d);
      expect(maskDigests(out)).toBe(maskDigests(d));
    }
  });
});

describe("tag policy drop: no stale tag beside the new digest", () => {
  const drop = { tagPolicy: "drop" as const };

  it("removes `:tag` from an image string, quoted or not, and when the digest is appended", () => {
    const before = `spec:\n  containers:\n    - image: ${IMAGE}:5.0.3@${OLD}\n    - image: "${IMAGE}:5.0.3"\n`;
    const change = bump("deploy.yaml", `apiVersion: v1\nkind: Pod\n${before}`, drop)!;
    expect(change.after).toBe(
      `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: ${IMAGE}@${NEW}\n    - image: "${IMAGE}@${NEW}"\n`,
    );
    expect(change.edits.map((e) => [e.oldTag, e.tagDropped])).toEqual([
      ["5.0.3", true],
      ["5.0.3", true],
    ]);
  });

  it("removes a kustomize newTag line (CRLF, comment, last line without a line break)", () => {
    const before = [
      "images:",
      `  - name: ${IMAGE}`,
      "    newTag: 5.0.3 # old",
      `    digest: ${OLD}`,
      "",
    ].join("\r\n");
    expect(after("kustomization.yaml", before, drop)).toBe(
      ["images:", `  - name: ${IMAGE}`, `    digest: ${NEW}`, ""].join("\r\n"),
    );
    const last = `images:\n  - name: ${IMAGE}\n    digest: ${OLD}\n    newTag: "5.0.3"`;
    expect(after("kustomization.yaml", last, drop)).toBe(`images:\n  - name: ${IMAGE}\n    digest: ${NEW}`);
  });

  it("puts an added digest after newName when the newTag it would follow is dropped", () => {
    const before = `images:\n  - name: app\n    newName: ${IMAGE}\n    newTag: 5.0.3\n`;
    const change = bump("kustomization.yaml", before, drop)!;
    expect(change.after).toBe(`images:\n  - name: app\n    newName: ${IMAGE}\n    digest: ${NEW}\n`);
    expect(change.edits[0]).toMatchObject({ inserted: true, tagDropped: true, oldTag: "5.0.3" });
  });

  it("keeps what cannot be dropped and says so: a Helm tag, a newTag in a flow map", () => {
    const helm = bump(
      "values.yaml",
      `image:\n  repository: ${IMAGE}\n  tag: 5.0.3\n  digest: ${OLD}\n`,
      drop,
    )!;
    expect(helm.after).toContain("tag: 5.0.3\n");
    expect(helm.edits[0]).toMatchObject({ staleTag: "5.0.3", oldDigest: OLD });
    const flow = bump(
      "kustomization.yaml",
      `images: [{name: ${IMAGE}, newTag: "1", digest: ${OLD}}]\n`,
      drop,
    )!;
    expect(flow.after).toBe(`images: [{name: ${IMAGE}, newTag: "1", digest: ${NEW}}]\n`);
    expect(flow.edits[0]!.staleTag).toBe("1");
  });

  it("leaves every tag alone with keep", () => {
    const before = `images:\n  - name: ${IMAGE}\n    newTag: 5.0.3\n    digest: ${OLD}\n`;
    expect(after("kustomization.yaml", before, { tagPolicy: "keep" })).toBe(before.replace(OLD, NEW));
  });
});

describe("Argo CD kustomize.images in block scalars", () => {
  const app = (item: string) =>
    `apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    kustomize:\n      images:\n${item}`;

  it("edits a one-line folded or literal block in place", () => {
    for (const style of [">-", "|-"]) {
      const before = app(`        - ${style}\n          ${IMAGE}:1.0@${OLD}\n`);
      expect(after("app.yaml", before, { tagPolicy: "keep" })).toBe(before.replace(OLD, NEW));
      expect(after("app.yaml", before, { tagPolicy: "drop" })).toBe(before.replace(`:1.0@${OLD}`, `@${NEW}`));
    }
  });
});

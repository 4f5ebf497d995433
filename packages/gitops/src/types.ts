/** Where one reference to an image lives in a config repo, and what it says now. */
export interface ImageReference {
  /** Repo-relative path, forward slashes. */
  file: string;
  line: number;
  column: number;
  /** Which layout it was found in. */
  source: "kustomize-images" | "helm-values" | "manifest" | "flux-helmrelease" | "argocd-application";
  /** YAML path of the edited node(s), e.g. `images[0]` or `spec.values.api.image`. */
  path: string;
  /** The reference as it is now: repository, and tag and digest where set. */
  current: { repository: string; tag?: string; digest?: string };
  /** Why this reference cannot be edited byte-exactly (it is reported, never rewritten), when it cannot. */
  notEditable?: string;
}

/** One file's change: the whole text before and after, and what changed in it (byte-exact edit). */
export interface FileChange {
  file: string;
  before: string;
  after: string;
  edits: Array<{
    line: number;
    path: string;
    oldDigest?: string;
    newDigest: string;
    oldTag?: string;
    newTag?: string;
    /** A `digest:` line was added next to the tag, not a value replaced. */
    inserted?: boolean;
    /** The old tag was removed (tag policy `drop`). */
    tagDropped?: boolean;
    /** A tag the policy would drop but that stays: a Helm `tag` field the chart templates in. */
    staleTag?: string;
  }>;
}

/** Reads files of a config repo (a checkout on disk, or a Git tree through the GitHub API). */
export interface RepoReader {
  /** Every file path (repo-relative) under a directory, recursively; "" for the root. */
  list(dir: string): Promise<string[]>;
  /** The file's text, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
}

/** What a bump should do in one environment. */
export interface BumpRequest {
  /** Image repository without tag or digest, e.g. northwindacr.azurecr.io/orders/api. */
  image: string;
  /** sha256:<64 hex>. */
  digest: string;
  /** The new tag, for `tagPolicy: update`. */
  tag?: string;
  /**
   * A tag written beside the digest: `update` sets it to `tag`, `keep` leaves it, `drop` removes it where that
   * leaves a valid reference (an image string, a kustomize `newTag`). Default: `update` with a tag, else `drop`.
   */
  tagPolicy?: "update" | "keep" | "drop";
  /** Directories (repo-relative) to search; defaults to the environment's path. */
  paths: string[];
}

/** A reference that was found but is not edited, with why and how to make it bumpable. */
export interface SkippedReference {
  file: string;
  line: number;
  path: string;
  source: ImageReference["source"];
  /**
   * not-editable: cannot be rewritten byte-exactly; not-bumpable: the edit would not change what the chart
   * renders; not-verified: the chart could not be rendered to check the edit.
   */
  kind: "not-editable" | "not-bumpable" | "not-verified";
  reason: string;
  hint?: string;
}

/** Something a reviewer of the bump should know, though the edit was made. */
export interface BumpWarning {
  /** stale-tag: a tag stays beside the new digest; digests-collapsed: several different old digests now pin one. */
  code: "stale-tag" | "digests-collapsed";
  message: string;
  file?: string;
  line?: number;
}

/** The edits one environment needs; empty `changes` and `skipped` mean it is already at that digest (a no-op). */
export interface BumpPlan {
  references: ImageReference[];
  changes: FileChange[];
  /** Every reference found but not edited; a bump with any is incomplete. */
  skipped: SkippedReference[];
  warnings: BumpWarning[];
}

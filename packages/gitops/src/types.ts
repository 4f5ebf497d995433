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
    /** A `digest:` line was added next to the tag (the only structural edit), not a value replaced. */
    inserted?: boolean;
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
  /** Also set the tag where a tag is written next to the digest. */
  tag?: string;
  /** Directories (repo-relative) to search; defaults to the environment's path. */
  paths: string[];
}

/** The edits one environment needs; empty `changes` means it is already at that digest (a no-op). */
export interface BumpPlan {
  references: ImageReference[];
  changes: FileChange[];
}

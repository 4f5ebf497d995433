// Types for scripts/action-docs.mjs, so the TypeScript tests can import it.
export declare const START: string;
export declare const END: string;
export declare const REPO: string;
export declare const MAJOR: string;
/** Reads the `# permissions:` comment block of an action.yml. */
export declare function parsePermissions(text: string): Array<{ scope: string; access: string; why: string }>;
/** The generated block for one action (without the markers). */
export declare function renderAction(name: string, text: string): string;
/** The whole docs file: the existing one with its generated block replaced, or a new one. */
export declare function updateDoc(name: string, text: string, existing: string | undefined): string;
/** Every action folder with an action.yml, sorted. */
export declare function actionNames(root: string): string[];

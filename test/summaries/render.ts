// Renders a job summary the way GitHub shows it, in a real browser (Debian's Chromium, driven by puppeteer-core):
// GFM by marked, GitHub's markdown stylesheet (github-markdown-css), mermaid blocks drawn by the mermaid package,
// in a column as wide as the job-summary panel. docs/summaries.md says which parts are an approximation.
import { createRequire } from "node:module";
import { join } from "node:path";
import { Marked } from "marked";
import puppeteer, { type Browser } from "puppeteer-core";

const require = createRequire(import.meta.url);
/** GitHub's job-summary panel is about 1000 px wide on a laptop screen; one "screen" is 800 px high. */
export const VIEWPORT = { width: 1000, height: 800 };

/** What the first screen and the whole page show, read from the DOM (not from pixels). */
export interface RenderedFacts {
  /** The first heading: its text and where it sits. */
  headline: { text: string; top: number; bottom: number } | undefined;
  /** Page height in screens of VIEWPORT.height. */
  screens: number;
  /** The page itself scrolls sideways. */
  pageOverflowX: boolean;
  tables: Array<{
    header: string[];
    firstColumn: string[];
    /** Every body cell's text as first shown (a <details> only by its summary line). */
    cells: string[];
    /** The table scrolls sideways inside itself (github-markdown-css makes tables scroll containers). */
    overflowX: boolean;
    /** Header cells whose right edge is past the visible width without scrolling. */
    offScreen: string[];
  }>;
  pies: Array<{ labels: string[] }>;
  xycharts: Array<{ lines: Array<{ stroke: string; points: number }>; legend: string }>;
  mermaidErrors: string[];
  /** Link targets, by link text. */
  links: Array<{ text: string; href: string }>;
  /** Text of every <details> summary line (collapsed on the first screen). */
  details: string[];
  /** Full-length digests readable without opening a <details>. */
  visibleFullDigests: string[];
}

/**
 * Starts headless Chromium. CI runs as root, where Chromium will not start its sandbox (--no-sandbox); a
 * container's small /dev/shm can crash the renderer, so its shared memory goes to /tmp.
 */
export function launch(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--font-render-hinting=none"],
  });
}

const marked = new Marked({
  gfm: true,
  renderer: {
    code({ text, lang }) {
      // GitHub replaces a mermaid block with the rendered diagram; anything else stays a code block.
      if (lang === "mermaid") return `<pre class="mermaid">${text.replace(/</g, "&lt;")}</pre>\n`;
      return false;
    },
  },
});

/** Markdown → the HTML GitHub would show (GFM tables, raw <details>/<br>/<a> passed through). */
export function toHtml(markdown: string): string {
  return marked.parse(markdown, { async: false });
}

/** Renders one summary; returns the DOM facts and a PNG of the first screen. */
export async function renderSummary(
  browser: Browser,
  markdown: string,
): Promise<{ facts: RenderedFacts; png: Uint8Array }> {
  const page = await browser.newPage();
  try {
    await page.setViewport(VIEWPORT);
    await page.setContent(
      `<!doctype html><html><head><meta charset="utf-8"></head><body><article class="markdown-body">${toHtml(markdown)}</article></body></html>`,
    );
    await page.addStyleTag({ path: require.resolve("github-markdown-css/github-markdown-light.css") });
    await page.addStyleTag({
      content:
        "body{margin:0;background:#fff}.markdown-body{box-sizing:border-box;padding:16px 24px;max-width:none}",
    });
    if (markdown.includes("```mermaid")) {
      await page.addScriptTag({ path: require.resolve("mermaid/dist/mermaid.min.js") });
      await page.evaluate(async () => {
        const m = (
          globalThis as unknown as { mermaid: { initialize(o: object): void; run(): Promise<void> } }
        ).mermaid;
        m.initialize({ startOnLoad: false, theme: "default" });
        await m.run();
      });
    }
    // The in-page half is plain browser JavaScript (the DOM is not in this project's TypeScript libs).
    await page.addScriptTag({ path: join(import.meta.dirname, "page-facts.js") });
    const facts = (await page.evaluate(`pageFacts(${VIEWPORT.height})`)) as RenderedFacts;
    const png = await page.screenshot({ clip: { x: 0, y: 0, ...VIEWPORT }, type: "png" });
    return { facts, png };
  } finally {
    await page.close();
  }
}

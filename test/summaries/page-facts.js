// Runs inside the rendered summary page (render.ts injects it): reads what a reader sees from the DOM.
globalThis.pageFacts = (vh) => {
  const text = (e) => (e?.textContent ?? "").replace(/\s+/g, " ").trim();
  const h = document.querySelector("h1, h2, h3");
  const r = h?.getBoundingClientRect();
  const doc = document.documentElement;
  const tables = [...document.querySelectorAll("table")].map((t) => {
    const box = t.getBoundingClientRect();
    const visibleRight = Math.min(box.left + t.clientWidth, window.innerWidth);
    const ths = [...t.querySelectorAll("thead th")];
    const rows = [...t.querySelectorAll("tbody tr")];
    return {
      header: ths.map((c) => text(c)),
      firstColumn: rows.map((tr) => text(tr.querySelector("td"))),
      // What a cell shows before anything is expanded: a <details> shows only its <summary>.
      cells: rows.flatMap((tr) =>
        [...tr.querySelectorAll("td")].map((td) => {
          const c = td.cloneNode(true);
          for (const d of c.querySelectorAll("details > :not(summary)")) d.remove();
          return text(c);
        }),
      ),
      overflowX: t.scrollWidth > t.clientWidth + 1,
      offScreen: ths.filter((c) => c.getBoundingClientRect().right > visibleRight + 1).map((c) => text(c)),
    };
  });
  const pies = [...document.querySelectorAll('svg[aria-roledescription="pie"]')].map((svg) => ({
    labels: [...svg.querySelectorAll(".legend text")].map((t) => text(t).replace(/\s*\[[\d,.]+\]$/, "")),
  }));
  const xycharts = [...document.querySelectorAll('svg[aria-roledescription="xychart"]')].map((svg) => {
    const pre = svg.closest("pre");
    return {
      // In drawing order: the last line is painted on top.
      lines: [...svg.querySelectorAll("g.plot > g[class^='line-plot-'] > path")].map((p) => ({
        stroke: p.getAttribute("stroke") ?? "",
        points: ((p.getAttribute("d") ?? "").match(/[ML]/g) ?? []).length,
      })),
      legend: text(pre?.nextElementSibling),
    };
  });
  // Full digests a reader sees without opening a <details> (inside its <summary> counts as seen).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const visibleFullDigests = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const m = n.textContent.match(/sha(256|384|512):[0-9a-f]{32,}/);
    if (!m) continue;
    const details = n.parentElement.closest("details");
    if (!details || n.parentElement.closest("summary")) visibleFullDigests.push(m[0]);
  }
  return {
    headline: h && r ? { text: text(h), top: r.top, bottom: r.bottom } : undefined,
    screens: Math.round((doc.scrollHeight / vh) * 10) / 10,
    pageOverflowX: doc.scrollWidth > window.innerWidth,
    tables,
    pies,
    xycharts,
    mermaidErrors: [...document.querySelectorAll("pre.mermaid")]
      .map((p) => text(p))
      .filter((t) => /syntax error|parse error/i.test(t)),
    links: [...document.querySelectorAll("a[href]")].map((a) => ({
      text: text(a),
      href: a.getAttribute("href") ?? "",
    })),
    details: [...document.querySelectorAll("details > summary")].map((s) => text(s)),
    visibleFullDigests,
  };
};

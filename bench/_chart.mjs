/** The SVG chart of the speed ratios: one group of bars per scenario, log scale, no dependency. */

import { adapters, libraryIds } from "./_adapters.mjs";

const COLORS = {
  "plain-loop": "#9e9e9e",
  "try-catch-loop": "#616161",
  "agent-bus": "#d62728",
  "node-events": "#1f77b4",
  eventemitter3: "#ff7f0e",
  mitt: "#2ca02c",
  nanoevents: "#9467bd",
  tseep: "#8c564b",
  eventemitter2: "#e377c2",
  emittery: "#17becf",
};

const escapeXml = (text) => text.replace(/&/gu, "&amp;").replace(/</gu, "&lt;").replace(/>/gu, "&gt;");

export function renderChart(report) {
  const rows = report.speed.map((r) => ({
    title: r.title,
    bars: libraryIds
      .filter((lib) => r.results[lib]?.ratio !== undefined)
      .map((lib) => [lib, r.results[lib].ratio]),
  }));
  const ratios = rows.flatMap((r) => r.bars.map(([, ratio]) => ratio));
  // Clamp the axis at 1/16: a bar further down would squeeze every other bar; its label still tells.
  const low = Math.max(1 / 16, 2 ** Math.floor(Math.log2(Math.min(0.5, ...ratios))));
  const high = 2 ** Math.ceil(Math.log2(Math.max(2, ...ratios)));
  const barHeight = 9;
  const left = 330;
  const plotWidth = 520;
  const top = 70;
  const width = left + plotWidth + 60;
  const x = (ratio) =>
    left +
    ((Math.log2(Math.max(ratio, low)) - Math.log2(low)) / (Math.log2(high) - Math.log2(low))) * plotWidth;
  const parts = [];
  let y = top;
  for (const r of rows) {
    const groupHeight = r.bars.length * barHeight + 14;
    parts.push(
      `<text x="${left - 8}" y="${y + groupHeight / 2}" text-anchor="end" dominant-baseline="middle" font-size="11">${escapeXml(r.title)}</text>`,
    );
    r.bars.forEach(([lib, ratio], i) => {
      const by = y + 4 + i * barHeight;
      parts.push(
        `<rect x="${left}" y="${by}" width="${Math.max(1, x(ratio) - left).toFixed(1)}" height="${barHeight - 2}" fill="${COLORS[lib]}"><title>${escapeXml(adapters[lib].label)}: ${ratio.toFixed(2)}x</title></rect>`,
        `<text x="${(x(ratio) + 3).toFixed(1)}" y="${by + barHeight - 3}" font-size="8" fill="#333">${ratio < low ? "◂ " : ""}${ratio.toFixed(ratio < 0.1 ? 3 : 2)}</text>`,
      );
    });
    y += groupHeight;
    parts.push(`<line x1="10" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#eee"/>`);
  }
  const height = y + 40;
  const grid = [];
  for (let tick = low; tick <= high; tick *= 2) {
    const tx = x(tick).toFixed(1);
    grid.push(
      `<line x1="${tx}" x2="${tx}" y1="${top}" y2="${y}" stroke="${tick === 1 ? "#000" : "#ddd"}" stroke-width="${tick === 1 ? 1.2 : 1}"/>`,
      `<text x="${tx}" y="${y + 14}" text-anchor="middle" font-size="10">${tick >= 1 ? tick : `1/${1 / tick}`}</text>`,
    );
  }
  const legend = libraryIds.map((lib, i) => {
    const lx = 10 + (i % 5) * 175;
    const ly = 30 + Math.floor(i / 5) * 16;
    return `<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${COLORS[lib]}"/><text x="${lx + 14}" y="${ly + 1}" font-size="11">${escapeXml(adapters[lib].label)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="16" font-size="13" font-weight="bold">agent-bus in-process: ops/s as a ratio to the plain loop (log scale, higher is better), Node ${report.environment.node}</text>`,
    ...legend,
    ...grid,
    ...parts,
    `<text x="${left + plotWidth / 2}" y="${y + 30}" text-anchor="middle" font-size="11">ratio to the plain loop</text>`,
    "</svg>",
    "",
  ].join("\n");
}

// Small SVG line charts: enough for events per second and a progress history, no library needed.
const SVG = "http://www.w3.org/2000/svg";
export const COLORS = ["#5ab0f6", "#6bc46d", "#e5c07b", "#c678dd", "#f47067", "#56b6c2"];

function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/**
 * Draws series (arrays of numbers of equal length) into the container as polylines.
 * @param {HTMLElement} container
 * @param {{ values: number[], color: string, label?: string }[]} series
 * @param {{ max?: number }} [options]
 */
export function lineChart(container, series, options = {}) {
  const width = 600;
  const height = 140;
  const longest = Math.max(2, ...series.map((s) => s.values.length));
  const top = options.max ?? Math.max(1, ...series.flatMap((s) => s.values));
  const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  for (const fraction of [0.5, 1]) {
    const y = height - fraction * (height - 10);
    svg.append(element("line", { x1: 0, x2: width, y1: y, y2: y, stroke: "#2a333d", "stroke-width": 1 }));
  }
  const label = element("text", { x: 4, y: 14, fill: "#8b98a5", "font-size": 12 });
  label.textContent = `max ${Number.isInteger(top) ? top : top.toFixed(1)}`;
  svg.append(label);
  for (const { values, color } of series) {
    const points = values.map((value, i) => {
      const x = (i / (longest - 1)) * width;
      const y = height - (value / top) * (height - 10);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    svg.append(
      element("polyline", { points: points.join(" "), fill: "none", stroke: color, "stroke-width": 2 }),
    );
  }
  container.replaceChildren(svg);
}

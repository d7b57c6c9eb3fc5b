/**
 * The simulation as one SVG a person reads at a glance: on top the offered load as the pods it needs at
 * full capacity (grey area) and each policy's replicas (lines); below, each policy's SLO-violating
 * seconds per point; a legend with each policy's pod-hours and violation minutes.
 */
import type { SimulationResult } from "./simulate.js";

const COLORS = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"];
/** Dashes tell lines apart where two policies decide alike and their lines lie on top of each other. */
const DASHES = ["", "7 4", "", "2 3", "7 2 2 2", ""];
const W = 1200;
const H = 640;
const LEFT = 64;
const RIGHT = 24;
const TOP = 72;
const MAIN_H = 380;
const GAP = 40;
const VIOL_H = 90;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(x: number, digits = 1): string {
  return x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Round step for about `n` ticks over `max`. */
function niceStep(max: number, n: number): number {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

/** A polyline path over the points, broken at NaN (gaps). */
function path(xs: number[], ys: number[]): string {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i] as number;
    if (Number.isNaN(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${(xs[i] as number).toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  }
  return d;
}

export function renderChart(result: SimulationResult, title: string, capacityPerPod: number): string {
  const tl = result.timeline;
  const n = tl.t.length;
  const plotW = W - LEFT - RIGHT;
  const x = (i: number) => LEFT + (n <= 1 ? 0 : (i / (n - 1)) * plotW);
  const xs = Array.from({ length: n }, (_, i) => x(i));
  const names = result.policies.map((p) => p.name);
  const needed = tl.offeredMax.map((v) => v / capacityPerPod);
  let maxY = 1;
  for (const v of needed) if (v > maxY) maxY = v;
  for (const name of names) for (const v of tl.replicas[name] ?? []) if (v > maxY) maxY = v;
  const step = niceStep(maxY, 6);
  maxY = Math.ceil(maxY / step) * step;
  const y = (v: number) => TOP + MAIN_H - (v / maxY) * MAIN_H;
  const violTop = TOP + MAIN_H + GAP;
  let maxV = 1;
  for (const name of names) for (const v of tl.violations[name] ?? []) if (v > maxV) maxV = v;
  const yv = (v: number) => violTop + VIOL_H - (v / maxV) * VIOL_H;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text id="title" x="${LEFT}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`,
  );
  // Legend: one entry per policy with its totals.
  names.forEach((name, i) => {
    const p = result.policies[i];
    if (!p) return;
    const lx = LEFT + i * 370;
    out.push(
      `<g class="legend" data-policy="${esc(name)}"><line x1="${lx}" y1="46" x2="${lx + 22}" y2="46" stroke="${COLORS[i % COLORS.length]}" stroke-width="3" stroke-dasharray="${DASHES[i % DASHES.length]}"/>`,
      `<text x="${lx + 28}" y="50">${esc(name)}: ${fmt(p.podHours)} pod-h, ${fmt(p.violationMinutes, 2)} violation min, peak ${p.peakReplicas}</text></g>`,
    );
  });
  // Grid and y axis.
  for (let v = 0; v <= maxY + 1e-9; v += step) {
    out.push(
      `<line x1="${LEFT}" y1="${y(v).toFixed(1)}" x2="${W - RIGHT}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v, 0)}</text>`,
    );
  }
  out.push(
    `<text x="16" y="${TOP + MAIN_H / 2}" transform="rotate(-90 16 ${TOP + MAIN_H / 2})" text-anchor="middle">replicas / pods needed at full load</text>`,
  );
  // Time axis: about 8 labels in UTC.
  const span = (tl.t[n - 1] ?? 0) - (tl.t[0] ?? 0);
  const dayFormat = span > 20 * 86_400_000;
  const every = Math.max(1, Math.floor(n / 8));
  for (let i = 0; i < n; i += every) {
    const d = new Date(tl.t[i] as number).toISOString();
    const label = dayFormat ? d.slice(0, 10) : `${d.slice(5, 10)} ${d.slice(11, 16)}`;
    out.push(
      `<line x1="${x(i).toFixed(1)}" y1="${TOP}" x2="${x(i).toFixed(1)}" y2="${violTop + VIOL_H}" stroke="#f3f3f3"/>`,
      `<text x="${x(i).toFixed(1)}" y="${violTop + VIOL_H + 18}" text-anchor="middle">${label}</text>`,
    );
  }
  out.push(`<text x="${W - RIGHT}" y="${H - 8}" text-anchor="end">UTC</text>`);
  // Load as pods needed, as an area under the busiest second of each point.
  let area = "";
  let open = false;
  for (let i = 0; i < n; i++) {
    const v = needed[i] as number;
    if (Number.isNaN(v)) {
      if (open) area += `L${x(i - 1).toFixed(1)},${y(0).toFixed(1)}Z`;
      open = false;
      continue;
    }
    if (!open) area += `M${x(i).toFixed(1)},${y(0).toFixed(1)}`;
    area += `L${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    open = true;
  }
  if (open) area += `L${x(n - 1).toFixed(1)},${y(0).toFixed(1)}Z`;
  out.push(
    `<path id="load" d="${area}" fill="#ccc" stroke="none"><title>offered load ÷ ${capacityPerPod} req/s per pod</title></path>`,
  );
  names.forEach((name, i) => {
    const ys = (tl.replicas[name] ?? []).map((v) => (Number.isNaN(v) ? v : y(v)));
    out.push(
      `<path class="replicas" data-policy="${esc(name)}" d="${path(xs, ys)}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5" stroke-dasharray="${DASHES[i % DASHES.length]}"/>`,
    );
  });
  // Violations panel.
  out.push(
    `<text x="${LEFT}" y="${violTop - 8}">SLO-violating seconds per ${fmt(tl.bucketSeconds, 0)} s (offered load above 90 % of the ready pods' capacity)</text>`,
    `<line x1="${LEFT}" y1="${violTop + VIOL_H}" x2="${W - RIGHT}" y2="${violTop + VIOL_H}" stroke="#999"/>`,
    `<text x="${LEFT - 6}" y="${violTop + 10}" text-anchor="end">${fmt(maxV, 0)}</text>`,
  );
  names.forEach((name, i) => {
    const ys = (tl.violations[name] ?? []).map((v) => yv(v));
    out.push(
      `<path class="violations" data-policy="${esc(name)}" d="${path(xs, ys)}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1"/>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

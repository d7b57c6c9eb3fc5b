/**
 * Writes the synthetic traces beside this file, deterministically (a fixed seed):
 *
 * - `spike.csv`: 6 hours, per second. About 300 req/s with a slow swell; at 2 h the load rises tenfold
 *   within 2 minutes, stays 20 minutes, then falls back over 30 minutes.
 * - `blackfriday.csv`: 7 days, per minute, starting on a Monday. A daily cycle (low at 04:00, high at
 *   20:00) around 400 req/s, a lighter weekend; on the Friday (day 5) the sale opens at 00:00 and the
 *   whole day runs at 3× the usual load for its time of day, with the opening reached within 10 minutes.
 *
 * Counts are Poisson-like: the expected rate plus Gaussian noise of its square root.
 * Run: npx tsx test/traces/make-synthetic.ts
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { prng } from "../support/prng.js";

function noisyCount(expected: number, random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(0, Math.round(expected + z * Math.sqrt(expected)));
}

export function spike(): string {
  const random = prng(10);
  const rows = ["t_seconds,requests"];
  const base = 300;
  const start = 2 * 3600;
  for (let t = 0; t < 6 * 3600; t++) {
    const swell = 1 + 0.1 * Math.sin((2 * Math.PI * t) / (6 * 3600));
    let factor = 1;
    if (t >= start && t < start + 120) factor = 1 + (9 * (t - start)) / 120;
    else if (t >= start + 120 && t < start + 120 + 1200) factor = 10;
    else if (t >= start + 1320 && t < start + 1320 + 1800) factor = 10 - (9 * (t - start - 1320)) / 1800;
    rows.push(`${t},${noisyCount(base * swell * factor, random)}`);
  }
  return `${rows.join("\n")}\n`;
}

export function blackFriday(): string {
  const random = prng(11);
  const rows = ["t_seconds,requests"];
  for (let m = 0; m < 7 * 1440; m++) {
    const day = Math.floor(m / 1440);
    const hour = (m % 1440) / 60;
    // Low at 04:00, high at 20:00 (a skewed daily cycle), lighter on Saturday and Sunday.
    const cycle = 1 + 0.75 * Math.sin((2 * Math.PI * (hour - 10)) / 24) * (hour < 4 || hour > 20 ? 0.9 : 1);
    let rate = 400 * cycle * (day >= 5 ? 0.8 : 1);
    if (day === 4) {
      const sinceOpen = m % 1440;
      rate *= sinceOpen < 10 ? 1 + (2 * sinceOpen) / 10 : 3;
    }
    rows.push(`${m * 60},${noisyCount(rate * 60, random)}`);
  }
  return `${rows.join("\n")}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url));
  writeFileSync(join(here, "spike.csv"), spike());
  writeFileSync(join(here, "blackfriday.csv"), blackFriday());
}

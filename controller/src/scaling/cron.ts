/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week) for scenario schedules:
 * numbers, `*`, lists `a,b`, ranges `a-b` and steps `*\/n` or `a-b/n`; day-of-week 0–7 (0 and 7 are
 * Sunday). As in classic cron, when both day fields are restricted a day matches either of them.
 * Written here rather than imported: Ballast needs only matching of given wall-clock fields, which is
 * a few lines, and no scheduling loop.
 */
export interface Cron {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

function field(text: string, f: (typeof FIELDS)[number]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new RangeError(`${f.name}: cannot read ${JSON.stringify(part)}`);
    const lo = m[1] === "*" ? f.min : Number(m[2]);
    const hi = m[1] === "*" ? f.max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? f.max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < f.min || hi > f.max || lo > hi || step < 1)
      throw new RangeError(`${f.name}: ${JSON.stringify(part)} is outside ${f.min}-${f.max}`);
    for (let v = lo; v <= hi; v += step) out.add(f.name === "day of week" && v === 7 ? 0 : v);
  }
  return out;
}

export function parseCron(expr: string): Cron {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new RangeError(`expected 5 fields (minute hour day month weekday), got ${parts.length}`);
  const [mi, h, d, mo, w] = parts as [string, string, string, string, string];
  return {
    minutes: field(mi, FIELDS[0]),
    hours: field(h, FIELDS[1]),
    days: field(d, FIELDS[2]),
    months: field(mo, FIELDS[3]),
    weekdays: field(w, FIELDS[4]),
    daysRestricted: d !== "*",
    weekdaysRestricted: w !== "*",
  };
}

/** Whether a calendar day (local) is one the expression fires on. */
export function cronDayMatches(c: Cron, day: number, month: number, weekday: number): boolean {
  if (!c.months.has(month)) return false;
  if (c.daysRestricted && c.weekdaysRestricted) return c.days.has(day) || c.weekdays.has(weekday);
  return c.days.has(day) && c.weekdays.has(weekday);
}

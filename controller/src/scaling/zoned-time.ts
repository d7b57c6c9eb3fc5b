/**
 * Wall-clock time in an IANA time zone, with Intl (no dependency). Pure functions of their inputs.
 */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Throws a RangeError naming the zone when the runtime does not know it. */
export function checkZone(zone: string): void {
  formatter(zone);
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function wallTime(at: number, zone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(at)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday as string] as number,
  };
}

/** The zone's offset from UTC at an instant, in ms (wall time minus UTC). */
function offsetAt(at: number, zone: string): number {
  const w = wallTime(at, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return asUtc - Math.floor(at / 60_000) * 60_000;
}

/**
 * The instant a wall-clock minute happens in a zone. A minute skipped by a DST jump is moved forward
 * by the length of the gap (02:30 on a spring-forward night is 03:30), as RFC 5545 and Temporal's
 * "compatible" rule read it; a minute repeated by a fall-back counts its first time.
 */
export function zonedInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  zone: string,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // Two offsets bracket any instant near `wall`: try the earlier one first (the first of a repeat).
  const candidates = [offsetAt(wall - 86_400_000, zone), offsetAt(wall + 86_400_000, zone)].sort(
    (a, b) => b - a,
  );
  for (const off of candidates) {
    const t = wall - off;
    if (offsetAt(t, zone) === off) return t;
  }
  // In a gap: read the wall time with the offset from before the jump.
  return wall - Math.min(...candidates);
}

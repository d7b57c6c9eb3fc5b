import { type Cron, cronDayMatches, parseCron } from "./cron.js";

export type { ScheduleWindow } from "./types.js";

import type { RecommendationStage, ScheduleWindow } from "./types.js";
import { checkZone, wallTime, zonedInstant } from "./zoned-time.js";

const MAX_DURATION_S = 14 * 86_400;
const MAX_LEAD_S = 86_400;

/** Checks schedules; each problem names its field ("spec.schedules[0].cron: …"). */
export function validateSchedules(raw: unknown, path = "spec.schedules"): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return [`${path}: must be a list`];
  const problems: string[] = [];
  const names = new Set<string>();
  raw.forEach((w: Partial<ScheduleWindow>, i) => {
    const at = `${path}[${i}]`;
    if (!w || typeof w !== "object") {
      problems.push(`${at}: must be a mapping`);
      return;
    }
    if (typeof w.name !== "string" || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(w.name))
      problems.push(`${at}.name: must be a lowercase DNS label`);
    else if (names.has(w.name)) problems.push(`${at}.name: ${w.name} is used twice`);
    else names.add(w.name);
    try {
      checkZone(w.timezone ?? "UTC");
    } catch {
      problems.push(`${at}.timezone: unknown time zone ${JSON.stringify(w.timezone)}`);
    }
    const start = w.start === undefined ? undefined : Date.parse(w.start);
    const end = w.end === undefined ? undefined : Date.parse(w.end);
    if (start !== undefined && !Number.isFinite(start)) problems.push(`${at}.start: not an RFC 3339 time`);
    if (end !== undefined && !Number.isFinite(end)) problems.push(`${at}.end: not an RFC 3339 time`);
    if (start !== undefined && end !== undefined && end <= start)
      problems.push(`${at}.end: must be after start`);
    if (w.cron !== undefined) {
      try {
        parseCron(w.cron);
      } catch (e) {
        problems.push(`${at}.cron: ${(e as Error).message}`);
      }
      if (
        !(
          Number.isInteger(w.durationSeconds) &&
          (w.durationSeconds as number) >= 60 &&
          (w.durationSeconds as number) <= MAX_DURATION_S
        )
      )
        problems.push(`${at}.durationSeconds: required with cron, an integer from 60 to ${MAX_DURATION_S}`);
    } else if (start === undefined || end === undefined) {
      problems.push(`${at}: needs cron (with durationSeconds) or both start and end`);
    }
    if (
      w.leadSeconds !== undefined &&
      !(Number.isInteger(w.leadSeconds) && w.leadSeconds >= 0 && w.leadSeconds <= MAX_LEAD_S)
    )
      problems.push(`${at}.leadSeconds: must be an integer from 0 to ${MAX_LEAD_S}`);
    for (const f of ["minReplicas", "maxReplicas"] as const)
      if (w[f] !== undefined && !(Number.isInteger(w[f]) && (w[f] as number) >= 0))
        problems.push(`${at}.${f}: must be an integer ≥ 0`);
    if (w.minReplicas === undefined && w.maxReplicas === undefined)
      problems.push(`${at}: needs minReplicas or maxReplicas`);
    if (w.minReplicas !== undefined && w.maxReplicas !== undefined && w.minReplicas > w.maxReplicas)
      problems.push(`${at}.minReplicas: must not exceed maxReplicas`);
  });
  return problems;
}

/** The most recent start at or before `at` of a cron window that could still be running. */
function activeCronStart(w: ScheduleWindow, cron: Cron, at: number): number | undefined {
  const zone = w.timezone ?? "UTC";
  const lead = (w.leadSeconds ?? 0) * 1000;
  const duration = (w.durationSeconds ?? 0) * 1000;
  // Candidate starts lie in (at - duration, at + lead]; walk those local days, newest first.
  const days = Math.ceil((duration + lead) / 86_400_000) + 2;
  const today = wallTime(at + lead, zone);
  for (let d = 0; d < days; d++) {
    const noon = Date.UTC(today.year, today.month - 1, today.day - d, 12);
    const date = new Date(noon);
    const [y, m, dd, wd] = [
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      date.getUTCDay(),
    ];
    if (!cronDayMatches(cron, dd, m, wd)) continue;
    const hours = [...cron.hours].sort((a, b) => b - a);
    const minutes = [...cron.minutes].sort((a, b) => b - a);
    for (const h of hours)
      for (const mi of minutes) {
        const t = zonedInstant(y, m, dd, h, mi, zone);
        if (t - lead <= at && at < t + duration) return t;
      }
  }
  return undefined;
}

/** Whether the window's band applies at `at` (lead time included). */
export function windowActive(w: ScheduleWindow, at: number, switches: Record<string, boolean> = {}): boolean {
  if (!(switches[w.name] ?? w.enabled ?? true)) return false;
  const lead = (w.leadSeconds ?? 0) * 1000;
  const start = w.start === undefined ? undefined : Date.parse(w.start);
  const end = w.end === undefined ? undefined : Date.parse(w.end);
  if (w.cron === undefined) return start !== undefined && end !== undefined && start - lead <= at && at < end;
  if (start !== undefined && at < start - lead) return false;
  if (end !== undefined && at >= end) return false;
  return activeCronStart(w, parseCron(w.cron), at) !== undefined;
}

/**
 * The schedules as a pipeline stage. Overlapping windows compose: the highest minReplicas among the
 * active windows is the floor, the lowest maxReplicas the ceiling, and a floor above a ceiling wins
 * (a scenario exists to guarantee capacity). The policy's own bounds still apply afterwards.
 */
export function scheduleStage(
  windows: readonly ScheduleWindow[],
  switches: Record<string, boolean> = {},
): RecommendationStage {
  return {
    name: "schedule",
    apply(replicas, _input, now) {
      const active = windows.filter((w) => windowActive(w, now, switches));
      if (active.length === 0) return { replicas, reason: "" };
      const floors = active.filter((w) => w.minReplicas !== undefined);
      const ceilings = active.filter((w) => w.maxReplicas !== undefined);
      const floor = floors.sort((a, b) => (b.minReplicas as number) - (a.minReplicas as number))[0];
      const ceiling = ceilings.sort((a, b) => (a.maxReplicas as number) - (b.maxReplicas as number))[0];
      let r = replicas;
      const why: string[] = [];
      if (ceiling && r > (ceiling.maxReplicas as number)) {
        r = ceiling.maxReplicas as number;
        why.push(`scenario ${ceiling.name} caps at ${r}`);
      }
      if (floor && r < (floor.minReplicas as number)) {
        r = floor.minReplicas as number;
        why.push(`scenario ${floor.name} holds at least ${r}`);
      }
      return { replicas: r, reason: why.join("; ") };
    },
  };
}

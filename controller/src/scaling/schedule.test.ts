import { describe, expect, it } from "vitest";
import { parseCron } from "./cron.js";
import { type ScheduleWindow, scheduleStage, validateSchedules, windowActive } from "./schedule.js";
import type { DecisionInput } from "./types.js";
import { zonedInstant } from "./zoned-time.js";

const at = (iso: string) => Date.parse(iso);
const match: ScheduleWindow = {
  name: "match",
  timezone: "Europe/London",
  cron: "0 15 * * 6",
  durationSeconds: 3 * 3600,
  leadSeconds: 20 * 60,
  minReplicas: 20,
};

describe("scenario schedules", () => {
  it("opens a cron window at its lead time and closes it after its duration, in summer and winter time", () => {
    // Saturday 4 July 2026, London on BST (UTC+1): kick-off 15:00 = 14:00Z, warm from 13:40Z.
    expect(windowActive(match, at("2026-07-04T13:35:00Z"))).toBe(false);
    expect(windowActive(match, at("2026-07-04T13:40:00Z"))).toBe(true);
    expect(windowActive(match, at("2026-07-04T16:59:00Z"))).toBe(true);
    expect(windowActive(match, at("2026-07-04T17:00:00Z"))).toBe(false);
    // Saturday 5 December 2026, GMT: kick-off 15:00Z.
    expect(windowActive(match, at("2026-12-05T14:35:00Z"))).toBe(false);
    expect(windowActive(match, at("2026-12-05T14:45:00Z"))).toBe(true);
    // Not on Sundays.
    expect(windowActive(match, at("2026-12-06T15:30:00Z"))).toBe(false);
  });

  it("handles a start in the spring-forward gap and a start in the repeated fall-back hour", () => {
    const nightly: ScheduleWindow = {
      name: "batch",
      timezone: "America/New_York",
      cron: "30 2 * * *",
      durationSeconds: 600,
      minReplicas: 5,
    };
    // 8 March 2026: 02:30 does not exist in New York; it is read as 03:30 EDT (07:30Z).
    expect(zonedInstant(2026, 3, 8, 2, 30, "America/New_York")).toBe(at("2026-03-08T07:30:00Z"));
    expect(windowActive(nightly, at("2026-03-08T07:35:00Z"))).toBe(true);
    expect(windowActive(nightly, at("2026-03-08T07:25:00Z"))).toBe(false);
    // The day before, 02:30 EST is 07:30Z too; a day later 02:30 EDT is 06:30Z.
    expect(windowActive(nightly, at("2026-03-07T07:35:00Z"))).toBe(true);
    expect(windowActive(nightly, at("2026-03-09T06:35:00Z"))).toBe(true);
    // 1 November 2026: 01:30 happens twice; the window runs once, at the first (05:30Z, EDT).
    const repeat: ScheduleWindow = { ...nightly, cron: "30 1 * * *" };
    expect(windowActive(repeat, at("2026-11-01T05:35:00Z"))).toBe(true);
    expect(windowActive(repeat, at("2026-11-01T06:35:00Z"))).toBe(false);
  });

  it("composes overlapping windows: highest floor, lowest ceiling, floor over ceiling; switches turn one off", () => {
    const input = { scale: { specReplicas: 4, statusReplicas: 4 } } as DecisionInput;
    const now = at("2026-07-04T14:30:00Z");
    const sale: ScheduleWindow = {
      name: "sale",
      start: "2026-07-04T00:00:00Z",
      end: "2026-07-05T00:00:00Z",
      minReplicas: 10,
      maxReplicas: 15,
    };
    expect(scheduleStage([sale]).apply(30, input, now)).toEqual({
      replicas: 15,
      reason: "scenario sale caps at 15",
    });
    expect(scheduleStage([sale, match]).apply(4, input, now)).toEqual({
      replicas: 20,
      reason: "scenario match holds at least 20",
    });
    expect(scheduleStage([sale, match], { match: false }).apply(4, input, now).replicas).toBe(10);
    expect(scheduleStage([sale], { sale: false }).apply(4, input, now)).toEqual({ replicas: 4, reason: "" });
  });

  it("names the field of every problem", () => {
    expect(
      validateSchedules([
        { name: "x", cron: "61 * * * *", durationSeconds: 600, minReplicas: 1 },
        {
          name: "Y",
          timezone: "Mars/Base",
          start: "soon",
          end: "2026-01-01T00:00:00Z",
          minReplicas: 3,
          maxReplicas: 2,
        },
        { name: "z", cron: "0 9 * * 1-5", minReplicas: 2 },
      ]),
    ).toEqual([
      'spec.schedules[0].cron: minute: "61" is outside 0-59',
      "spec.schedules[1].name: must be a lowercase DNS label",
      'spec.schedules[1].timezone: unknown time zone "Mars/Base"',
      "spec.schedules[1].start: not an RFC 3339 time",
      "spec.schedules[1].minReplicas: must not exceed maxReplicas",
      "spec.schedules[2].durationSeconds: required with cron, an integer from 60 to 1209600",
    ]);
    expect(() => parseCron("0 9 * *")).toThrow(/expected 5 fields/);
  });
});

// Every vector in hpa/vectors.json (taken from upstream's replica_calculator_test.go and
// horizontal_test.go) through Ballast's scaling core; one test per vector, named by the vector.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { evaluateHpaVector } from "./hpa.js";

interface Vector {
  name: string;
  source?: string;
  kind: string;
  note?: string;
  input: { function?: string };
  expect: Record<string, unknown>;
}

const vectors: Vector[] = JSON.parse(readFileSync(new URL("./hpa/vectors.json", import.meta.url), "utf8"));

/** The one vector upstream's own test body skips; its note says so. */
const notAssertedUpstream = (v: Vector) => /not asserted upstream/i.test(v.note ?? "");

const groups = new Map<string, Vector[]>();
for (const v of vectors) {
  const group = v.kind === "behavior" ? `behavior: ${v.input.function}` : v.kind;
  groups.set(group, [...(groups.get(group) ?? []), v]);
}

/** A deep copy without the keys whose value is null. */
function withoutNulls(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(withoutNulls);
  if (x && typeof x === "object") {
    return Object.fromEntries(
      Object.entries(x)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return x;
}

describe("HPA conformance vectors", () => {
  it("has the vectors", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(88);
  });

  for (const [group, list] of groups) {
    describe(group, () => {
      for (const v of list) {
        if (notAssertedUpstream(v)) {
          it.skip(`${v.name} [skipped: ${v.note}]`, () => {});
          continue;
        }
        it(v.name, () => {
          const actual = evaluateHpaVector(v) as Record<string, unknown>;
          if (typeof v.expect.error === "string") {
            expect(actual.error, "expected an error").toEqual(expect.stringContaining(v.expect.error));
          } else {
            expect(actual).toEqual(v.expect);
          }
        });
      }
    });
  }

  describe("vector variants", () => {
    const asserted = vectors.filter((v) => !notAssertedUpstream(v));

    it("gives the same answers when null fields are left out instead", () => {
      for (const v of asserted) {
        const variant = { ...v, input: withoutNulls(v.input) as Vector["input"] };
        expect(evaluateHpaVector(variant), v.name).toEqual(evaluateHpaVector(v));
      }
    });

    it("reads the older pod shape (metricValueMilli / metricMissing without per-pod metrics)", () => {
      const older = asserted.filter(
        (v) =>
          v.kind === "replicaCalc" &&
          ((v.input as { pods?: Record<string, unknown>[] }).pods ?? []).every(
            (p) => "metricValueMilli" in p,
          ),
      );
      expect(older.length).toBeGreaterThan(20);
      for (const v of older) {
        const input = v.input as { pods: Record<string, unknown>[] };
        const variant = { ...v, input: { ...input, pods: input.pods.map(({ metrics: _, ...p }) => p) } };
        expect(evaluateHpaVector(variant), v.name).toEqual(evaluateHpaVector(v));
      }
    });

    it("evaluates pod-grouping vectors (RC groupPods), including the never-ready boundary", () => {
      const cpu = (timestampSec = 0) => ({ cpu: { valueMilli: 100, timestampSec, windowSec: 60 } });
      const pod = (name: string, extra: Record<string, unknown>) => ({
        name,
        phase: "Running",
        ready: true,
        startTimeSec: -600,
        readyTransitionTimeSec: -600,
        metrics: cpu(),
        ...extra,
      });
      const grouping = (pods: unknown[], resource = "cpu") => ({
        name: "groupPods",
        kind: "groupPods",
        input: { resource, cpuInitializationPeriodSec: 120, delayOfInitialReadinessStatusSec: 10, pods },
        expect: { readyPodCount: 0, unreadyPods: [], missingPods: [], ignoredPods: [] },
      });
      expect(evaluateHpaVector(grouping([]))).toEqual({
        readyPodCount: 0,
        unreadyPods: [],
        missingPods: [],
        ignoredPods: [],
      });
      expect(
        evaluateHpaVector(
          grouping(
            [
              pod("bentham", {
                ready: null,
                metrics: { memory: { valueMilli: 1, timestampSec: 0, windowSec: 60 } },
              }),
            ],
            "memory",
          ),
        ),
      ).toEqual({ readyPodCount: 1, unreadyPods: [], missingPods: [], ignoredPods: [] });
      expect(
        evaluateHpaVector(
          grouping([
            pod("no-condition", { ready: null }),
            pod("no-start", { startTimeSec: null }),
            pod("never-ready-boundary", { ready: false, readyTransitionTimeSec: -590 }),
            pod("never-ready", { ready: false, readyTransitionTimeSec: -591 }),
            pod("was-ready", { ready: false, readyTransitionTimeSec: -60 }),
            pod("warming-fresh", { startTimeSec: -60, readyTransitionTimeSec: -120, metrics: cpu(0) }),
            pod("warming-stale", { startTimeSec: -60, readyTransitionTimeSec: -30, metrics: cpu(0) }),
            pod("pending", { phase: "Pending", metrics: {} }),
            pod("gone", { deletionTimestampSet: true }),
            pod("failed", { phase: "Failed" }),
            pod("silent", { metrics: {} }),
          ]),
        ),
      ).toEqual({
        readyPodCount: 3,
        unreadyPods: ["never-ready", "no-condition", "no-start", "pending", "warming-stale"],
        missingPods: ["silent"],
        ignoredPods: ["failed", "gone"],
      });
    });

    it("returns only the keys the vector expects", () => {
      for (const v of asserted) {
        const actual = evaluateHpaVector(v) as Record<string, unknown>;
        expect(Object.keys(actual).sort(), v.name).toEqual(Object.keys(v.expect).sort());
      }
    });
  });
});

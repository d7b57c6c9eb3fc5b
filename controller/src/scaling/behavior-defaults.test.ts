import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  applyBehaviorDefaults,
  DEFAULT_SCALE_DOWN_RULES,
  DEFAULT_SCALE_UP_RULES,
  resolveBehavior,
} from "./behavior-defaults.js";
import { DEFAULT_CONTROLLER_CONFIG, type HorizontalPodAutoscalerBehavior } from "./types.js";

describe("behavior defaulting (autoscaling/v2 defaults.go)", () => {
  it("fills both directions of an empty behavior with the API defaults", () => {
    expect(applyBehaviorDefaults({})).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ],
        tolerance: undefined,
      },
      scaleDown: {
        stabilizationWindowSeconds: undefined,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
        tolerance: undefined,
      },
    });
  });

  it("fills each unset field on its own, keeping the set ones", () => {
    const b = applyBehaviorDefaults({
      scaleUp: { stabilizationWindowSeconds: 30 },
      scaleDown: { selectPolicy: "Min", policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
    });
    expect(b.scaleUp.stabilizationWindowSeconds).toBe(30);
    expect(b.scaleUp.selectPolicy).toBe("Max");
    expect(b.scaleUp.policies).toEqual(DEFAULT_SCALE_UP_RULES.policies);
    expect(b.scaleDown.stabilizationWindowSeconds).toBeUndefined();
    expect(b.scaleDown.selectPolicy).toBe("Min");
    expect(b.scaleDown.policies).toEqual([{ type: "Pods", value: 1, periodSeconds: 60 }]);
  });

  it("keeps an explicitly empty policy list (validation refuses it, defaulting does not replace it)", () => {
    expect(applyBehaviorDefaults({ scaleUp: { policies: [] } }).scaleUp.policies).toEqual([]);
  });

  it("leaves the defaults untouched when a result is changed", () => {
    const b = applyBehaviorDefaults({});
    b.scaleUp.selectPolicy = "Disabled";
    expect(DEFAULT_SCALE_UP_RULES.selectPolicy).toBe("Max");
    expect(Object.isFrozen(DEFAULT_SCALE_DOWN_RULES.policies)).toBe(true);
  });

  it("matches the defaulted behavior of every upstream vector", () => {
    const vectors = JSON.parse(
      readFileSync(new URL("../../../test/conformance/hpa/vectors.json", import.meta.url), "utf8"),
    ) as { input: { behaviorSpec?: unknown; effectiveBehavior?: unknown } }[];
    const strip = (r: Record<string, unknown> | null) =>
      r && Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null && v !== undefined));
    let checked = 0;
    for (const v of vectors) {
      const spec = v.input.behaviorSpec as Record<string, Record<string, unknown> | null> | null | undefined;
      if (!spec || !v.input.effectiveBehavior) continue;
      const raw: HorizontalPodAutoscalerBehavior = {};
      if (spec.scaleUp) raw.scaleUp = strip(spec.scaleUp) as never;
      if (spec.scaleDown) raw.scaleDown = strip(spec.scaleDown) as never;
      const got = applyBehaviorDefaults(raw);
      const want = v.input.effectiveBehavior as Record<string, Record<string, unknown>>;
      for (const dir of ["scaleUp", "scaleDown"] as const) {
        expect(got[dir].selectPolicy).toBe(want[dir]?.selectPolicy);
        expect(got[dir].policies).toEqual(want[dir]?.policies);
        // The reconcile vectors show the window after the controller filled it from its flag.
        const w = want[dir]?.stabilizationWindowSeconds;
        if (w === null) expect(got[dir].stabilizationWindowSeconds).toBeUndefined();
        else if (got[dir].stabilizationWindowSeconds !== undefined)
          expect(got[dir].stabilizationWindowSeconds).toBe(w);
        else expect(w).toBe(300);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe("resolveBehavior (controller fill-ins)", () => {
  it("takes the scale-down window from the downscale stabilization flag when unset", () => {
    const b = resolveBehavior({}, { ...DEFAULT_CONTROLLER_CONFIG, downscaleStabilizationMs: 120_000 });
    expect(b.scaleDown.stabilizationWindowSeconds).toBe(120);
    expect(b.scaleUp.stabilizationWindowSeconds).toBe(0);
  });

  it("keeps a set scale-down window, including 0", () => {
    expect(
      resolveBehavior({ scaleDown: { stabilizationWindowSeconds: 0 } }, DEFAULT_CONTROLLER_CONFIG).scaleDown
        .stabilizationWindowSeconds,
    ).toBe(0);
  });

  it("uses the per-direction tolerance when set, else the controller's", () => {
    const b = resolveBehavior(
      { scaleUp: { tolerance: "0.05" }, scaleDown: { tolerance: "250m" } },
      DEFAULT_CONTROLLER_CONFIG,
    );
    expect(b.scaleUp.tolerance).toBe(0.05);
    expect(b.scaleDown.tolerance).toBe(0.25);
    const d = resolveBehavior({}, { ...DEFAULT_CONTROLLER_CONFIG, tolerance: 0.2 });
    expect(d.scaleUp.tolerance).toBe(0.2);
    expect(d.scaleDown.tolerance).toBe(0.2);
  });
});

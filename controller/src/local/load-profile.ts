/** One phase of a load profile: a rate that holds, or ramps linearly from `fromRps` to `toRps`. */
export interface LoadPhase {
  name: string;
  seconds: number;
  fromRps: number;
  toRps: number;
}

/** The offered rate `t` seconds into the profile, and the phase it falls in; 0 after the end. */
export function rateAt(phases: readonly LoadPhase[], t: number): { rps: number; phase: string | undefined } {
  let start = 0;
  for (const p of phases) {
    if (t < start + p.seconds) {
      const f = p.seconds > 0 ? (t - start) / p.seconds : 0;
      return { rps: p.fromRps + (p.toRps - p.fromRps) * f, phase: p.name };
    }
    start += p.seconds;
  }
  return { rps: 0, phase: undefined };
}

export function profileSeconds(phases: readonly LoadPhase[]): number {
  return phases.reduce((s, p) => s + p.seconds, 0);
}

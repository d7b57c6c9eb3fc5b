/** The one source of time for the controller; scaling/ and capacity/ receive `now` from it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

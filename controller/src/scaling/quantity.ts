/**
 * Kubernetes resource quantities ("500m", "4", "1k", "2Gi", "1.5e3") as milli-units, the integer unit the
 * HPA computes in (apimachinery `resource.Quantity.MilliValue`).
 */

/** A quantity as written in a policy: a string such as "500m" or "2Gi", or a plain number of units. */
export type Quantity = string | number;

/** A quantity that cannot be read; the message says what was expected. */
export class QuantityError extends Error {
  constructor(
    readonly input: unknown,
    reason: string,
  ) {
    super(`${JSON.stringify(input) ?? String(input)} is not a quantity: ${reason}`);
    this.name = "QuantityError";
  }
}

// sign, mantissa, then one of: binary suffix | decimal exponent | decimal suffix (or none).
const GRAMMAR = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(m|k|M|G|T|P|E)?)$/;
const DECIMAL_SUFFIX: Record<string, number> = { m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const EXPECTED =
  "expected a number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei) or exponent (e3)";

// Strings are immutable, so a parsed string can be remembered safely; policies repeat the same few.
const cache = new Map<string, number>();
const CACHE_LIMIT = 4096;

/**
 * The quantity in milli-units (1 = 1000, "250m" = 250, "1Ki" = 1024000), rounded up to a whole
 * milli-unit away from zero as `MilliValue` does. Exact while the result is below 2^53 milli-units
 * (about 9e12 units; 8 TiB of memory). Throws a QuantityError naming the input otherwise.
 */
export function parseQuantity(q: Quantity): number {
  if (typeof q === "number") {
    if (!Number.isFinite(q)) throw new QuantityError(q, "must be a finite number");
    if (Number.isInteger(q) && Math.abs(q) <= Number.MAX_SAFE_INTEGER / 1000) return q * 1000 || 0;
    return parseString(String(q), q);
  }
  if (typeof q !== "string") throw new QuantityError(q, EXPECTED);
  const hit = cache.get(q);
  if (hit !== undefined) return hit;
  const v = parseString(q.trim() === q ? q : "", q);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(q, v);
  return v;
}

function parseString(s: string, input: unknown): number {
  const m = GRAMMAR.exec(s);
  if (!m) throw new QuantityError(input, s === "" ? "is empty or has spaces" : EXPECTED);
  const negative = m[1] === "-";
  const mantissa = m[2] as string;
  const dot = mantissa.indexOf(".");
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const fracPart = dot < 0 ? "" : mantissa.slice(dot + 1);
  let exp10 = 3 - fracPart.length; // milli-units
  let exp2 = 0;
  if (m[3] !== undefined) exp2 = BINARY_SUFFIX[m[3]] as number;
  else if (m[4] !== undefined) {
    const e = Number(m[4]);
    if (!Number.isSafeInteger(e) || Math.abs(e) > 1000)
      throw new QuantityError(input, "exponent out of range");
    exp10 += e;
  } else exp10 += DECIMAL_SUFFIX[m[5] ?? ""] as number;
  const digits = (intPart + fracPart).replace(/^0+/, "");
  if (digits === "") return 0;
  const magnitude =
    digits.length <= 15
      ? (smallMagnitude(Number(digits), exp10, exp2) ?? bigMagnitude(digits, exp10, exp2))
      : bigMagnitude(digits, exp10, exp2);
  if (!Number.isFinite(magnitude)) throw new QuantityError(input, "too large");
  return negative ? -magnitude : magnitude;
}

/** ceil(n × 10^exp10 × 2^exp2) with doubles, or undefined when that might not be exact. */
function smallMagnitude(n: number, exp10: number, exp2: number): number | undefined {
  const scaled = n * 2 ** exp2;
  if (!Number.isSafeInteger(scaled)) return undefined;
  if (exp10 >= 0) {
    if (exp10 > 22) return undefined;
    const v = scaled * 10 ** exp10;
    return Number.isSafeInteger(v) ? v : undefined;
  }
  if (-exp10 > 22) return scaled > 0 ? 1 : 0; // far below one milli-unit: rounds up to 1
  const d = 10 ** -exp10;
  let q = Math.floor(scaled / d);
  // The float quotient can be one off near an integer; correct it with exact integer products.
  if (q * d > scaled) q -= 1;
  else if ((q + 1) * d <= scaled) q += 1;
  return q * d === scaled ? q : q + 1;
}

function bigMagnitude(digits: string, exp10: number, exp2: number): number {
  let n = BigInt(digits) << BigInt(exp2);
  if (exp10 >= 0) return Number(n * 10n ** BigInt(exp10));
  const d = 10n ** BigInt(-exp10);
  const q = n / d;
  n = q * d === n ? q : q + 1n;
  return Number(n);
}

/**
 * The first check of every optional block of a policy (`predictive`, `rules`, `burstHeadroom`): a
 * mapping, with only the fields it knows. Returns the block's fields to check further, or undefined
 * when the block is absent or not a mapping (the latter with its problem added).
 */
export function mappingFields(
  raw: unknown,
  path: string,
  known: readonly string[],
  problems: string[],
): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push(`${path}: must be a mapping`);
    return undefined;
  }
  const fields = raw as Record<string, unknown>;
  for (const k of Object.keys(fields))
    if (!known.includes(k)) problems.push(`${path}.${k}: unknown field; expected one of ${known.join(", ")}`);
  return fields;
}

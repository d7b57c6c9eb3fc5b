import { type ParseArgsConfig, parseArgs } from "node:util";

/** A bad command-line flag; the message names it. */
export class FlagError extends Error {}

export type FlagValues = Record<string, string | boolean | undefined>;

/** Strict `parseArgs` whose refusals (unknown flag, missing value) are FlagErrors. */
export function parseFlags(args: string[], options: ParseArgsConfig["options"]): FlagValues {
  try {
    return parseArgs({ args, strict: true, options }).values as FlagValues;
  } catch (e) {
    throw new FlagError((e as Error).message);
  }
}

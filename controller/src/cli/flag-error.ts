/** A bad command-line flag; the message names it. */
export class FlagError extends Error {}

/** A listen address as the CLI takes it: HOST:PORT, or [IPv6]:PORT; an empty host means every address. */
export function isHostPort(value: string): boolean {
  return /^[^\s:]*:\d{1,5}$/.test(value) || /^\[[0-9a-f:]+\]:\d{1,5}$/i.test(value);
}

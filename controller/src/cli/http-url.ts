/** An http(s) base URL as flags take it (e.g. a Prometheus address): scheme, host, optional port and path. */
export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

// The live countdown to a session's expiry, as the list shows it.

/** Milliseconds since the epoch of an RFC 3339 time as Rust's chrono writes it (up to
 *  nine fractional digits, which WebKit's Date.parse refuses: three are kept). */
export function parseInstant(text: string): number {
  return Date.parse(text.replace(/(\.\d{3})\d+/, "$1"));
}

/** "42m 07s", "1h 05m", "expired"; `now` in milliseconds since the epoch. */
export function formatRemaining(expiresAt: string, now: number): string {
  const ms = parseInstant(expiresAt) - now;
  if (Number.isNaN(ms)) return "";
  if (ms <= 0) return "expired";
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (hours > 0) return `${hours}h ${pad(minutes)}m`;
  return `${minutes}m ${pad(seconds)}s`;
}

/** "14:05": the local time of day of an RFC 3339 instant, for "lasts until". */
export function formatClock(at: string): string {
  const ms = parseInstant(at);
  if (Number.isNaN(ms)) return "";
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * Constraint violations from D1, found through the error's `cause` chain: drizzle wraps the driver's error in its own
 * ("Failed query: …") whose message names the query, not the constraint, so only the chain's links tell what failed.
 */
export function uniqueViolation(e: unknown): string | null {
  let cur: unknown = e;
  for (let depth = 0; cur instanceof Error && depth < 8; depth++, cur = cur.cause) {
    // D1 reports e.g. "D1_ERROR: UNIQUE constraint failed: accounts.email: SQLITE_CONSTRAINT"
    const m = cur.message.match(/UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)/);
    if (m) return m[1]!;
  }
  return null;
}

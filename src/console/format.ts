/** Micro-USD as dollars, exactly (integer arithmetic), to 6 decimals so micro-charges are visible. */
export function usd(micro: number | null | undefined, decimals = 6): string {
  if (micro === null || micro === undefined) return "—";
  const sign = micro < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(micro));
  const frac = String(abs % 1_000_000)
    .padStart(6, "0")
    .slice(0, decimals);
  return `${sign}$${Math.floor(abs / 1_000_000).toLocaleString("en-US")}${decimals > 0 ? `.${frac}` : ""}`;
}

export function when(ms: number | null | undefined): string {
  if (!ms) return "—";
  return `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

export function seconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** @jsxImportSource hono/jsx */
import type { ConsoleApp } from "../app.ts";
import { NotProviderPage, ProviderPage } from "../pages/provider.tsx";

const DAYS = 30;
const DAY_MS = 86_400_000;

/** The last `n` months as YYYY-MM, this one first. */
export function recentMonths(now: number, n: number): string[] {
  const d = new Date(now);
  return Array.from({ length: n }, (_, i) => {
    const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1));
    return m.toISOString().slice(0, 7);
  });
}

/** Every day of the window, oldest first, zeros where nothing was earned, so the chart's gaps are real days. */
export function fillDays(byDay: { key: string; earned: number; jobs: number }[], from: number, days: number) {
  const by = new Map(byDay.map((g) => [g.key, g]));
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(from + i * DAY_MS).toISOString().slice(0, 10);
    const g = by.get(day);
    return { day, cost: g?.earned ?? 0, jobs: g?.jobs ?? 0 };
  });
}

export function registerProvider(app: ConsoleApp) {
  app.get("/provider", async (c) => {
    const s = c.get("session");
    const provider = await c.var.services.providerAccounts.byEmail(s.email);
    if (!provider) return c.html(<NotProviderPage session={s} />);
    const now = Date.now();
    // From the start of the day DAYS-1 days ago (UTC), so the window is whole days.
    const from = Math.floor(now / DAY_MS) * DAY_MS - (DAYS - 1) * DAY_MS;
    const svc = c.var.services.providers;
    const [earnings, agents] = await Promise.all([svc.earnings(provider.id, from, now + 1), svc.agents(provider.id)]);
    const data = {
      name: provider.name,
      earnings,
      agents,
      daily: fillDays(earnings.by_day, from, DAYS),
      months: recentMonths(now, 6),
    };
    return c.html(<ProviderPage session={s} data={data} />);
  });

  app.get("/provider/statements/:file", async (c) => {
    const m = /^(\d{4}-(?:0[1-9]|1[0-2]))\.(json|csv)$/.exec(c.req.param("file"));
    if (!m) return c.text("not found: use /console/provider/statements/YYYY-MM.json or .csv", 404);
    const provider = await c.var.services.providerAccounts.byEmail(c.get("session").email);
    if (!provider) return c.text("not a provider", 403);
    const [, month, format] = m as unknown as [string, string, "json" | "csv"];
    const svc = c.var.services.providers;
    if (format === "csv")
      return c.body(await svc.statementCsv(provider.id, month), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="statement-${month}.csv"`,
      });
    return c.json(await svc.statement(provider.id, month));
  });
}

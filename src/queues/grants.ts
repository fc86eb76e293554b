import { and, gt, inArray } from "drizzle-orm";
import { PLAN_DEFAULTS, type Plan } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { accounts } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { currentPeriod, ledger } from "../services/billing.ts";

/**
 * Cron: credits each paid account its plan's monthly amount once per calendar month. Each grant is an idempotent
 * ledger operation keyed by plan and period, so overlapping or repeated runs grant once.
 */
export async function grantMonthlyCredits(env: Env, now = Date.now()): Promise<number> {
  const paid = (Object.keys(PLAN_DEFAULTS) as Plan[]).filter((p) => PLAN_DEFAULTS[p].monthly_credit > 0);
  const period = currentPeriod(now);
  let granted = 0;
  let after = "";
  for (;;) {
    const page = await db(env)
      .select({ id: accounts.id, plan: accounts.plan })
      .from(accounts)
      .where(and(inArray(accounts.plan, paid), gt(accounts.id, after)))
      .orderBy(accounts.id)
      .limit(100)
      .all();
    for (const a of page) {
      const r = await ledger(env, a.id).grantMonthly(a.id, a.plan as Plan, period);
      if (r.granted > 0) granted++;
    }
    if (page.length < 100) return granted;
    after = page[page.length - 1]!.id;
  }
}

import { and, eq, isNull } from "drizzle-orm";
import type { z } from "zod";
import type {
  AdminLedgerOp,
  AdminLedgerView,
  ChangePlan,
  CreateAccount,
  CreateKey,
  Plan,
  PlanLimits,
} from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { accounts, apiKeys } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { apiKeyCacheKey, planCacheKey } from "./auth.ts";
import { type Billing, billing, currentPeriod, ledger } from "./billing.ts";
import { newId, randomToken, sha256Hex, webhookSecret } from "./crypto.ts";
import { uniqueViolation } from "./db-errors.ts";
import { invalidate } from "./edge-cache.ts";
import { payments } from "./payments/index.ts";

type Applied = Extract<Awaited<ReturnType<Billing["adjust"]>>, { ok: true }>;

/** The operator's account administration: accounts, API keys, plans, credits and debits, the ledger's holds. */
export class Admin {
  constructor(private env: Env) {}

  async createAccount(body: z.output<typeof CreateAccount>): Promise<string> {
    const id = newId("acct");
    try {
      await db(this.env).insert(accounts).values({
        id,
        email: body.email.toLowerCase(),
        plan: body.plan,
        webhookSecret: webhookSecret(),
        createdAt: Date.now(),
      });
    } catch (e) {
      if (uniqueViolation(e)?.includes("accounts.email"))
        throw new ApiError("conflict", "an account with this email exists");
      throw e;
    }
    // The ledger learns the plan now, and a paid plan gets this month's credit at once.
    await ledger(this.env, id).setPlan(id, body.plan);
    await ledger(this.env, id).grantMonthly(id, body.plan, currentPeriod());
    return id;
  }

  /** A new API key for the account; the key itself is returned once and only its hash is kept. */
  async createKey(accountId: string, body: z.output<typeof CreateKey>) {
    const acct = await db(this.env).select({ id: accounts.id }).from(accounts).where(eq(accounts.id, accountId)).get();
    if (!acct) throw notFound("account");
    const key = randomToken("sk_live_");
    const id = newId("key");
    const prefix = key.slice(0, 12);
    await db(this.env)
      .insert(apiKeys)
      .values({ id, accountId, name: body.name ?? null, hash: await sha256Hex(key), prefix, createdAt: Date.now() });
    return { id, key, prefix };
  }

  /** Revoking twice is fine; only a key that never existed is a 404. */
  async revokeKey(id: string): Promise<void> {
    const row = await db(this.env)
      .update(apiKeys)
      .set({ revokedAt: Date.now() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id, hash: apiKeys.hash })
      .get();
    if (row) await invalidate(apiKeyCacheKey(row.hash));
    if (!row) {
      const exists = await db(this.env).select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, id)).get();
      if (!exists) throw notFound("key");
    }
  }

  /** A credit or debit, idempotent by the operator's key; a debit may start the account's auto-recharge. */
  async adjust(accountId: string, kind: "credit" | "debit", body: AdminLedgerOp): Promise<Applied> {
    const a = await this.account(accountId);
    const r = await billing(this.env).adjust(a.id, a.plan, kind, body.idempotency_key, body.amount, body.reason);
    if (!r.ok) throw new ApiError(r.code, r.message);
    if (kind === "debit" && !r.replayed) await payments(this.env).afterDebit(a.id);
    return r;
  }

  async ledgerView(accountId: string): Promise<AdminLedgerView> {
    const a = await this.account(accountId);
    const s = await billing(this.env).summary(a.id, a.plan);
    const holds = await ledger(this.env, a.id).holdCounts();
    return {
      account_id: a.id,
      deposits: s.deposits,
      spent: s.spent,
      held: s.held,
      available: s.available,
      in_flight: s.in_flight,
      holds,
    };
  }

  async changePlan(accountId: string, body: z.output<typeof ChangePlan>): Promise<{ id: string; limits: PlanLimits }> {
    const a = await this.account(accountId);
    // The ledger first: it enforces the limits. D1 follows; a retry converges both.
    const limits = await ledger(this.env, a.id).setPlan(a.id, body.plan, body.limits ?? {});
    await db(this.env).update(accounts).set({ plan: body.plan }).where(eq(accounts.id, a.id));
    await invalidate(planCacheKey(a.id));
    await ledger(this.env, a.id).grantMonthly(a.id, body.plan, currentPeriod());
    return { id: a.id, limits };
  }

  private async account(id: string): Promise<{ id: string; plan: Plan }> {
    const row = await db(this.env)
      .select({ id: accounts.id, plan: accounts.plan })
      .from(accounts)
      .where(eq(accounts.id, id))
      .get();
    if (!row) throw notFound("account");
    return { id: row.id, plan: row.plan as Plan };
  }
}

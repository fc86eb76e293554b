import { eq, inArray } from "drizzle-orm";
import { db } from "../../db/client.ts";
import { agents, agentTokens, providerKeys, providers } from "../../db/schema.ts";
import type { Env } from "../../env.ts";
import { ApiError, notFound } from "../../errors.ts";
import { newId, randomToken, sha256Hex } from "../crypto.ts";
import { providerLedger } from "./ledger.ts";
import { invalidate } from "../edge-cache.ts";
import { shareCacheKey } from "./earnings.ts";

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** [from, to) of a calendar month (UTC) named `YYYY-MM`. */
export function monthRange(month: string): { from: number; to: number } {
  const m = month.match(MONTH);
  if (!m) throw new ApiError("invalid_input", "statement month must be YYYY-MM");
  return { from: Date.UTC(Number(m[1]), Number(m[2]) - 1, 1), to: Date.UTC(Number(m[1]), Number(m[2]), 1) };
}

/** Earnings and payouts of providers, read from each provider's ledger; agents and shares from D1. */
export class Providers {
  constructor(private env: Env) {}

  private async provider(id: string) {
    const p = await db(this.env).select().from(providers).where(eq(providers.id, id)).get();
    if (!p) throw notFound("provider");
    return p;
  }

  async earnings(providerId: string, from: number, to: number) {
    const p = await this.provider(providerId);
    const report = await providerLedger(this.env, providerId).earningsReport(from, to);
    return {
      provider_id: providerId,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      revenue_share_bp: p.revenueShareBp,
      ...report,
    };
  }

  async agents(providerId: string) {
    const rows = await db(this.env)
      .select({ a: agents, revoked: agentTokens.revokedAt })
      .from(agents)
      .innerJoin(agentTokens, eq(agentTokens.id, agents.tokenId))
      .where(eq(agents.providerId, providerId))
      .orderBy(agents.registeredAt)
      .all();
    const byAgent = new Map(
      (await providerLedger(this.env, providerId).earningsReport(0, Number.MAX_SAFE_INTEGER)).by_agent.map((g) => [
        g.key,
        g,
      ]),
    );
    return rows.map(({ a, revoked }) => {
      const g = byAgent.get(a.id);
      return {
        id: a.id,
        name: a.name,
        gpu_class: a.gpuClass,
        state: revoked ? ("revoked" as const) : ("active" as const),
        registered_at: new Date(a.registeredAt).toISOString(),
        jobs: g?.jobs ?? 0,
        gpu_seconds: (g?.gpu_ms ?? 0) / 1000,
        earned: g?.earned ?? 0,
      };
    });
  }

  async statement(providerId: string, month: string) {
    const p = await this.provider(providerId);
    const { from, to } = monthRange(month);
    const s = await providerLedger(this.env, providerId).statement(from, to);
    return {
      provider_id: providerId,
      provider_name: p.name,
      month,
      revenue_share_bp: p.revenueShareBp,
      status: to <= Date.now() ? ("closed" as const) : ("open" as const),
      ...s,
    };
  }

  async statementCsv(providerId: string, month: string): Promise<string> {
    const s = await this.statement(providerId, month);
    const lines = ["created_at,op_id,kind,agent_id,model,gpu_class,gpu_ms,charge_micro_usd,earned_micro_usd"];
    for (const r of s.rows)
      lines.push(
        [
          new Date(r.created_at).toISOString(),
          r.op_id,
          r.kind,
          r.agent_id,
          r.model,
          r.gpu_class ?? "",
          r.gpu_ms,
          r.charge,
          r.earn,
        ].join(","),
      );
    for (const p of s.payouts)
      lines.push([new Date(p.created_at).toISOString(), p.op_id, "payout", "", "", "", 0, 0, -p.amount].join(","));
    lines.push(
      [
        "",
        "total",
        "",
        "",
        "",
        "",
        s.report.totals.gpu_ms,
        s.report.totals.charged,
        s.report.totals.earned - s.report.totals.paid_out,
      ].join(","),
    );
    return `${lines.join("\n")}\n`;
  }

  async payout(providerId: string, opId: string, amount: number, reference: string | null) {
    await this.provider(providerId);
    const r = await providerLedger(this.env, providerId).payout(opId, amount, reference);
    if (!r.ok) throw new ApiError(r.code, r.message);
    return r;
  }

  async setShare(providerId: string, bp: number): Promise<void> {
    await this.provider(providerId);
    await db(this.env).update(providers).set({ revenueShareBp: bp }).where(eq(providers.id, providerId));
    // this isolate splits the next charge at the new share; others within the edge cache's bound
    await invalidate(shareCacheKey(providerId));
  }

  async issueKey(providerId: string): Promise<{ id: string; key: string; prefix: string }> {
    await this.provider(providerId);
    const key = randomToken("pk_");
    const id = newId("pkey");
    await db(this.env)
      .insert(providerKeys)
      .values({ id, providerId, hash: await sha256Hex(key), prefix: key.slice(0, 10), createdAt: Date.now() });
    return { id, key, prefix: key.slice(0, 10) };
  }

  async revokeKey(id: string): Promise<void> {
    const row = await db(this.env)
      .update(providerKeys)
      .set({ revokedAt: Date.now() })
      .where(inArray(providerKeys.id, [id]))
      .returning({ id: providerKeys.id })
      .get();
    if (!row) throw notFound("provider key");
  }
}

export function providersService(env: Env): Providers {
  return new Providers(env);
}

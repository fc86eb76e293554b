import { and, desc, eq, isNull } from "drizzle-orm";
import { uniqueViolation } from "./db-errors.ts";
import type { ProviderView } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { agents, agentTokens, providers } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { agentTokenCacheKey } from "./auth.ts";
import { newId, randomToken, sha256Hex } from "./crypto.ts";
import { invalidate } from "./edge-cache.ts";

/**
 * Providers as the operator manages them: the address their console link goes to (unique, stored lower case), the
 * GPU classes their agents may register with, and the agent tokens they run agents with.
 */
export class ProviderAccounts {
  constructor(private env: Pick<Env, "DB">) {}

  async create(name: string, email: string | undefined, gpuClasses: string[]): Promise<string> {
    const id = newId("prov");
    await this.guard(() =>
      db(this.env)
        .insert(providers)
        .values({ id, name, gpuClasses, email: email?.toLowerCase() ?? null, createdAt: Date.now() }),
    );
    return id;
  }

  async setEmail(id: string, email: string | null): Promise<{ id: string; name: string; email: string | null }> {
    const row = await this.guard(() =>
      db(this.env)
        .update(providers)
        .set({ email: email?.toLowerCase() ?? null })
        .where(eq(providers.id, id))
        .returning({ id: providers.id, name: providers.name, email: providers.email })
        .get(),
    );
    if (!row) throw notFound("provider");
    return row;
  }

  /** The provider and its agents (the newest 500) with the strikes counted against each. */
  async view(id: string): Promise<ProviderView> {
    const p = await db(this.env).select().from(providers).where(eq(providers.id, id)).get();
    if (!p) throw notFound("provider");
    const rows = await db(this.env)
      .select()
      .from(agents)
      .where(eq(agents.providerId, id))
      .orderBy(desc(agents.registeredAt))
      .limit(500)
      .all();
    return {
      id: p.id,
      name: p.name,
      gpu_classes: p.gpuClasses ?? ["cpu"],
      agents: rows.map((a) => ({
        id: a.id,
        name: a.name,
        gpu_class: a.gpuClass,
        gpu_count: a.gpuCount,
        registered_at: new Date(a.registeredAt).toISOString(),
        deregistered_at: a.deregisteredAt ? new Date(a.deregisteredAt).toISOString() : null,
        rejected_completions: a.rejectedCompletions,
        input_rejections: a.inputRejections,
      })),
    };
  }

  async setGpuClasses(id: string, gpuClasses: string[]): Promise<ProviderView> {
    const row = await db(this.env)
      .update(providers)
      .set({ gpuClasses })
      .where(eq(providers.id, id))
      .returning({ id: providers.id })
      .get();
    if (!row) throw notFound("provider");
    return this.view(row.id);
  }

  /** A new agent token; the token itself is returned once and only its hash is kept. */
  async issueAgentToken(providerId: string): Promise<{ id: string; token: string; prefix: string }> {
    const p = await db(this.env).select({ id: providers.id }).from(providers).where(eq(providers.id, providerId)).get();
    if (!p) throw notFound("provider");
    const token = randomToken("agt_");
    const id = newId("atok");
    const prefix = token.slice(0, 10);
    await db(this.env)
      .insert(agentTokens)
      .values({ id, providerId, hash: await sha256Hex(token), prefix, createdAt: Date.now() });
    return { id, token, prefix };
  }

  /** Revoking twice is fine; only a token that never existed is a 404. */
  async revokeAgentToken(id: string): Promise<void> {
    const row = await db(this.env)
      .update(agentTokens)
      .set({ revokedAt: Date.now() })
      .where(and(eq(agentTokens.id, id), isNull(agentTokens.revokedAt)))
      .returning({ id: agentTokens.id, hash: agentTokens.hash })
      .get();
    if (row) await invalidate(agentTokenCacheKey(row.hash));
    if (
      !row &&
      !(await db(this.env).select({ id: agentTokens.id }).from(agentTokens).where(eq(agentTokens.id, id)).get())
    )
      throw notFound("agent token");
  }

  /** The provider a signed-in email is, if any. */
  async byEmail(email: string): Promise<{ id: string; name: string; revenueShareBp: number } | null> {
    const row = await db(this.env)
      .select({ id: providers.id, name: providers.name, revenueShareBp: providers.revenueShareBp })
      .from(providers)
      .where(eq(providers.email, email.toLowerCase()))
      .get();
    return row ?? null;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (uniqueViolation(e)) throw new ApiError("conflict", "another provider signs in with this email");
      throw e;
    }
  }
}

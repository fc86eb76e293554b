import { eq } from "drizzle-orm";
import { db } from "../db/client.ts";
import { providers } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { newId } from "./crypto.ts";

/** Providers as people who sign in: the address their console link goes to, unique, stored lower case. */
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
      // drizzle wraps D1's error: the constraint is named in its cause
      if (/UNIQUE constraint failed/.test(`${String(e)} ${String((e as Error).cause)}`))
        throw new ApiError("conflict", "another provider signs in with this email");
      throw e;
    }
  }
}

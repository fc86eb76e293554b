import { and, desc, eq, isNull } from "drizzle-orm";
import { db } from "../../db/client.ts";
import { apiKeys } from "../../db/schema.ts";
import type { Env } from "../../env.ts";
import { newId, randomToken, sha256Hex } from "../../services/crypto.ts";
import { invalidate } from "../../services/edge-cache.ts";
import { apiKeyCacheKey } from "../../services/cache-keys.ts";

export interface KeyRow {
  id: string;
  name: string | null;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** An account's API keys, as the admin API makes them: SHA-256 at rest, the key itself returned once. */
export class KeyService {
  constructor(private env: Env) {}

  list(accountId: string): Promise<KeyRow[]> {
    return db(this.env)
      .select({
        id: apiKeys.id,
        name: apiKeys.name,
        prefix: apiKeys.prefix,
        createdAt: apiKeys.createdAt,
        lastUsedAt: apiKeys.lastUsedAt,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.accountId, accountId))
      .orderBy(desc(apiKeys.createdAt))
      .all();
  }

  async create(accountId: string, name: string | null): Promise<{ id: string; key: string; prefix: string }> {
    const key = randomToken("sk_live_");
    const id = newId("key");
    const prefix = key.slice(0, 12);
    await db(this.env)
      .insert(apiKeys)
      .values({ id, accountId, name, hash: await sha256Hex(key), prefix, createdAt: Date.now() });
    return { id, key, prefix };
  }

  /** Revokes one of the account's own keys; false when it is not theirs or already revoked. */
  async revoke(accountId: string, id: string): Promise<boolean> {
    const row = await db(this.env)
      .update(apiKeys)
      .set({ revokedAt: Date.now() })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id, hash: apiKeys.hash })
      .get();
    // This isolate and colo stop accepting the key now; every other one within the edge cache's 30 s bound.
    if (row) await invalidate(apiKeyCacheKey(row.hash));
    return !!row;
  }
}

import { eq } from "drizzle-orm";
import type { WebhookSecretView } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { accounts, webhookPreviousSecrets } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { notFound } from "../errors.ts";
import { signWebhook, webhookSecret } from "./crypto.ts";

/**
 * An account's webhook signing secrets. The current one lives on the account; rotating keeps the one before it for
 * an overlap window, during which every delivery carries a signature from each (Standard Webhooks allows several
 * space-separated `v1,<sig>` entries), so a receiver can switch secrets without dropping a delivery. Only two are
 * ever in use: rotating again during an overlap retires the older one at once.
 */
export class WebhookSecrets {
  constructor(private env: Pick<Env, "DB">) {}

  /** The secrets deliveries are signed with now, the current one first. */
  async signing(accountId: string, now = Date.now()): Promise<string[]> {
    const row = await db(this.env)
      .select({
        current: accounts.webhookSecret,
        previous: webhookPreviousSecrets.secret,
        expiresAt: webhookPreviousSecrets.expiresAt,
      })
      .from(accounts)
      .leftJoin(webhookPreviousSecrets, eq(webhookPreviousSecrets.accountId, accounts.id))
      .where(eq(accounts.id, accountId))
      .get();
    if (!row) return [];
    return row.previous && row.expiresAt !== null && row.expiresAt > now ? [row.current, row.previous] : [row.current];
  }

  async view(accountId: string, now = Date.now()): Promise<WebhookSecretView> {
    const row = await db(this.env)
      .select({ current: accounts.webhookSecret, expiresAt: webhookPreviousSecrets.expiresAt })
      .from(accounts)
      .leftJoin(webhookPreviousSecrets, eq(webhookPreviousSecrets.accountId, accounts.id))
      .where(eq(accounts.id, accountId))
      .get();
    if (!row) throw notFound("account");
    const overlap = row.expiresAt !== null && row.expiresAt > now;
    return { secret: row.current, previous_secret_expires_at: overlap ? new Date(row.expiresAt!).toISOString() : null };
  }

  /** A new current secret; the old one signs too for `overlapSeconds`. Both writes commit together (a D1 batch). */
  async rotate(accountId: string, overlapSeconds: number, now = Date.now()): Promise<WebhookSecretView> {
    const d = db(this.env);
    const current = await d
      .select({ secret: accounts.webhookSecret })
      .from(accounts)
      .where(eq(accounts.id, accountId))
      .get();
    if (!current) throw notFound("account");
    const next = webhookSecret();
    const expiresAt = now + overlapSeconds * 1000;
    await d.batch([
      d
        .insert(webhookPreviousSecrets)
        .values({ accountId, secret: current.secret, expiresAt })
        .onConflictDoUpdate({ target: webhookPreviousSecrets.accountId, set: { secret: current.secret, expiresAt } }),
      d.update(accounts).set({ webhookSecret: next }).where(eq(accounts.id, accountId)),
    ]);
    return { secret: next, previous_secret_expires_at: overlapSeconds > 0 ? new Date(expiresAt).toISOString() : null };
  }
}

/** The `webhook-signature` header: one `v1,<base64>` entry per secret, space-separated. */
export async function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): Promise<string> {
  return (await Promise.all(secrets.map((s) => signWebhook(s, id, timestamp, body)))).join(" ");
}

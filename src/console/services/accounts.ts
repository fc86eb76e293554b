import { eq } from "drizzle-orm";
import { db } from "../../db/client.ts";
import { accounts } from "../../db/schema.ts";
import type { Env } from "../../env.ts";
import { currentPeriod, ledger } from "../../services/billing.ts";
import { newId, webhookSecret } from "../../services/crypto.ts";

/**
 * The account an email signs in to. A first sign-in creates a free account (as the admin API does: the ledger
 * learns its plan), so signing up and signing in are one flow, as on Anthropic's and fal's consoles.
 */
export async function accountForEmail(env: Env, email: string): Promise<string> {
  const d = db(env);
  const found = await d.select({ id: accounts.id }).from(accounts).where(eq(accounts.email, email)).get();
  if (found) return found.id;
  const id = newId("acct");
  const inserted = await d
    .insert(accounts)
    .values({ id, email, plan: "free", webhookSecret: webhookSecret(), createdAt: Date.now() })
    .onConflictDoNothing()
    .returning({ id: accounts.id })
    .get();
  if (!inserted) {
    // Two links for a new address used at once: the other request created it.
    const other = await d.select({ id: accounts.id }).from(accounts).where(eq(accounts.email, email)).get();
    if (!other) throw new Error("account vanished after a conflicting insert");
    return other.id;
  }
  await ledger(env, id).setPlan(id, "free");
  await ledger(env, id).grantMonthly(id, "free", currentPeriod());
  return id;
}

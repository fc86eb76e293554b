import { and, eq, gt, lt } from "drizzle-orm";
import type { Plan } from "../../../schemas/index.ts";
import { db } from "../../db/client.ts";
import { accounts, consoleSessions } from "../../db/schema.ts";
import type { Env } from "../../env.ts";
import { randomToken, safeEqual, sha256Hex } from "../../services/crypto.ts";

export const SESSION_COOKIE = "sid";
export const SESSION_TTL_MS = 30 * 24 * 3600_000;

export interface ConsoleSession {
  idHash: string;
  accountId: string;
  email: string;
  plan: Plan;
  /** per-session token every state-changing console call must echo (form field or x-csrf-token header) */
  csrf: string;
}

/**
 * Browser sessions for the console. The cookie holds 256 random bits; D1 holds only their SHA-256, so a leaked
 * database cannot be replayed as cookies. Sign-out deletes the row; sign-out everywhere deletes all of an account's.
 */
export class SessionService {
  constructor(private env: Env) {}

  async create(accountId: string, now = Date.now()): Promise<{ cookie: string; expiresAt: number }> {
    const cookie = randomToken("", 32);
    const expiresAt = now + SESSION_TTL_MS;
    await db(this.env)
      .insert(consoleSessions)
      .values({
        idHash: await sha256Hex(cookie),
        accountId,
        csrfToken: randomToken("", 24),
        createdAt: now,
        expiresAt,
      });
    return { cookie, expiresAt };
  }

  async read(cookie: string | undefined, now = Date.now()): Promise<ConsoleSession | null> {
    if (!cookie || !/^[A-Za-z0-9_-]{20,100}$/.test(cookie)) return null;
    const idHash = await sha256Hex(cookie);
    const row = await db(this.env)
      .select({
        idHash: consoleSessions.idHash,
        accountId: accounts.id,
        email: accounts.email,
        plan: accounts.plan,
        csrf: consoleSessions.csrfToken,
      })
      .from(consoleSessions)
      .innerJoin(accounts, eq(accounts.id, consoleSessions.accountId))
      .where(and(eq(consoleSessions.idHash, idHash), gt(consoleSessions.expiresAt, now)))
      .get();
    return row ? { ...row, plan: row.plan as Plan } : null;
  }

  async destroy(idHash: string): Promise<void> {
    await db(this.env).delete(consoleSessions).where(eq(consoleSessions.idHash, idHash));
  }

  /** Ends every session of the account (all browsers), and prunes expired rows on the way. */
  async destroyAll(accountId: string, now = Date.now()): Promise<void> {
    await db(this.env).batch([
      db(this.env).delete(consoleSessions).where(eq(consoleSessions.accountId, accountId)),
      db(this.env).delete(consoleSessions).where(lt(consoleSessions.expiresAt, now)),
    ]);
  }
}

export function csrfMatches(session: ConsoleSession, presented: unknown): boolean {
  return typeof presented === "string" && presented.length > 0 && safeEqual(presented, session.csrf);
}

import { and, count, eq, gt, isNull, lt } from "drizzle-orm";
import { db } from "../../db/client.ts";
import { consoleMagicLinks } from "../../db/schema.ts";
import type { Env } from "../../env.ts";
import { randomToken, sha256Hex } from "../../services/crypto.ts";
import type { Mailer } from "./mail.ts";

export const LINK_TTL_MS = 15 * 60_000;
const WINDOW_MS = 10 * 60_000;
export const PER_EMAIL = 5;
export const PER_IP = 20;

export type LinkRequest = { ok: true; sent: boolean } | { ok: false; reason: "ip_rate_limited" };

/**
 * Email sign-in links: 256-bit tokens of which only the SHA-256 is stored, valid 15 minutes, consumed once by an
 * atomic UPDATE. The caller answers the same whether or not the address has an account, and whether or not a
 * per-address limit dropped the mail, so the form cannot be used to probe who is a customer.
 */
export class MagicLinks {
  constructor(
    private env: Env,
    private mail: Mailer | null,
  ) {}

  async request(
    email: string,
    ip: string,
    base: string,
    next = "/console/usage",
    now = Date.now(),
  ): Promise<LinkRequest> {
    const d = db(this.env);
    const ipHash = await sha256Hex(`ip:${ip}`);
    const since = now - WINDOW_MS;
    const [byEmail, byIp] = await d.batch([
      d
        .select({ n: count() })
        .from(consoleMagicLinks)
        .where(and(eq(consoleMagicLinks.email, email), gt(consoleMagicLinks.createdAt, since))),
      d
        .select({ n: count() })
        .from(consoleMagicLinks)
        .where(and(eq(consoleMagicLinks.ipHash, ipHash), gt(consoleMagicLinks.createdAt, since))),
    ]);
    if ((byIp[0]?.n ?? 0) >= PER_IP) return { ok: false, reason: "ip_rate_limited" };
    if (!this.mail) {
      console.error(JSON.stringify({ level: "error", msg: "console sign-in: no mail provider (set MAIL_PROVIDER)" }));
      return { ok: true, sent: false };
    }
    if ((byEmail[0]?.n ?? 0) >= PER_EMAIL) return { ok: true, sent: false };
    const token = randomToken("", 32);
    await d.batch([
      d
        .insert(consoleMagicLinks)
        .values({ tokenHash: await sha256Hex(token), email, ipHash, createdAt: now, expiresAt: now + LINK_TTL_MS }),
      // Rows outlive their window only to count toward the limits; a day later they are gone.
      d.delete(consoleMagicLinks).where(lt(consoleMagicLinks.createdAt, now - 24 * 3600_000)),
    ]);
    const sent = await this.mail.send({
      to: email,
      link: `${base}/console/auth/verify?t=${token}&next=${encodeURIComponent(next)}`,
    });
    return { ok: true, sent };
  }

  /** The address a live link is for, without using it up (mail scanners GET links; only the POST consumes). */
  async peek(token: string, now = Date.now()): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const row = await db(this.env)
      .select({ email: consoleMagicLinks.email })
      .from(consoleMagicLinks)
      .where(
        and(
          eq(consoleMagicLinks.tokenHash, await sha256Hex(token)),
          isNull(consoleMagicLinks.usedAt),
          gt(consoleMagicLinks.expiresAt, now),
        ),
      )
      .get();
    return row?.email ?? null;
  }

  /** Uses the link up and returns its address; a second use, an expired or unknown token give null. */
  async consume(token: string, now = Date.now()): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const row = await db(this.env)
      .update(consoleMagicLinks)
      .set({ usedAt: now })
      .where(
        and(
          eq(consoleMagicLinks.tokenHash, await sha256Hex(token)),
          isNull(consoleMagicLinks.usedAt),
          gt(consoleMagicLinks.expiresAt, now),
        ),
      )
      .returning({ email: consoleMagicLinks.email })
      .get();
    return row?.email ?? null;
  }
}

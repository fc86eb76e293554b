import { and, desc, eq, gte, lt, or, sql, type SQL } from "drizzle-orm";
import { db } from "../../db/client.ts";
import { requests } from "../../db/schema.ts";
import type { Env } from "../../env.ts";

export type RequestRow = typeof requests.$inferSelect;
export interface DaySpend {
  day: string;
  cost: number;
  requests: number;
}
export interface Filters {
  model?: string;
  status?: string;
  cursor?: string;
}
export interface RequestPage {
  rows: RequestRow[];
  next: string | null;
}

const DAY_MS = 86_400_000;
export const PAGE_SIZE = 25;

export function encodeCursor(r: { createdAt: number; id: string }): string {
  return btoa(`${r.createdAt}|${r.id}`).replaceAll("+", "-").replaceAll("/", "_");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
  try {
    const [t, id] = atob(cursor.replaceAll("-", "+").replaceAll("_", "/")).split("|");
    return t && id && /^\d+$/.test(t) ? { createdAt: Number(t), id } : null;
  } catch {
    return null;
  }
}

/** Reads of the D1 request projection for the console (the same rows /v1/usage serves). */
export class UsageService {
  constructor(private env: Env) {}

  /** Spend and request count per UTC day for the last `days` days, zero-filled, oldest first. */
  async daily(accountId: string, days: number, now = Date.now()): Promise<DaySpend[]> {
    const start = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
    // The divisor is inlined: D1 binds JS numbers as REAL, which would make the day a fraction.
    const dayExpr = sql<number>`cast(${requests.createdAt} / ${sql.raw(String(DAY_MS))} as integer)`;
    const rows = await db(this.env)
      .select({ day: dayExpr, cost: sql<number>`coalesce(sum(${requests.cost}), 0)`, n: sql<number>`count(*)` })
      .from(requests)
      .where(and(eq(requests.accountId, accountId), gte(requests.createdAt, start)))
      .groupBy(dayExpr)
      .all();
    const byDay = new Map(rows.map((r) => [Number(r.day), r]));
    return Array.from({ length: days }, (_, i) => {
      const d = start / DAY_MS + i;
      const r = byDay.get(d);
      return {
        day: new Date(d * DAY_MS).toISOString().slice(0, 10),
        cost: Number(r?.cost ?? 0),
        requests: Number(r?.n ?? 0),
      };
    });
  }

  /** Newest first, keyset-paged on (created_at, id), optionally filtered by model and status. */
  /** Newest first, keyset-paged by (created_at, id); the API's `GET /v1/usage` pages the same way (services/usage.ts). */
  async page(accountId: string, f: Filters, size = PAGE_SIZE): Promise<RequestPage> {
    const where: SQL[] = [eq(requests.accountId, accountId)];
    if (f.model) where.push(eq(requests.model, f.model));
    if (f.status) where.push(eq(requests.status, f.status));
    const after = f.cursor ? decodeCursor(f.cursor) : null;
    if (after)
      where.push(
        or(
          lt(requests.createdAt, after.createdAt),
          and(eq(requests.createdAt, after.createdAt), lt(requests.id, after.id)),
        )!,
      );
    const rows = await db(this.env)
      .select()
      .from(requests)
      .where(and(...where))
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(size + 1)
      .all();
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    return { rows: page, next: rows.length > size && last ? encodeCursor(last) : null };
  }

  async models(accountId: string): Promise<string[]> {
    const rows = await db(this.env)
      .selectDistinct({ model: requests.model })
      .from(requests)
      .where(eq(requests.accountId, accountId))
      .all();
    return rows.map((r) => r.model).sort();
  }

  async row(accountId: string, id: string): Promise<RequestRow | null> {
    const r = await db(this.env)
      .select()
      .from(requests)
      .where(and(eq(requests.id, id), eq(requests.accountId, accountId)))
      .get();
    return r ?? null;
  }

  /** Median GPU time of the model's recent completed requests (all accounts): the "expected speed" on its page. */
  async medianGpuMs(model: string): Promise<{ ms: number; n: number } | null> {
    const rows = await db(this.env)
      .select({ ms: requests.gpuMs })
      .from(requests)
      .where(and(eq(requests.model, model), eq(requests.status, "COMPLETED"), sql`${requests.gpuMs} is not null`))
      .orderBy(desc(requests.createdAt))
      .limit(50)
      .all();
    const ms = rows.map((r) => r.ms!).sort((a, b) => a - b);
    if (!ms.length) return null;
    return { ms: ms[Math.floor(ms.length / 2)]!, n: ms.length };
  }
}

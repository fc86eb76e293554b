import { and, desc, eq, lt, or } from "drizzle-orm";
import { JOB_ERROR_CODE, JobErrorKind, type UsagePage, type UsageQuery } from "../../schemas/index.ts";
import { decodeCursor, encodeCursor } from "../console/services/usage.ts";
import { db } from "../db/client.ts";
import { requests } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { ApiError } from "../errors.ts";

/** The cursor is the last row's (created_at, id), in the console's format (one cursor for the same rows). */
function cursorOf(cursor: string): { createdAt: number; id: string } {
  const after = decodeCursor(cursor);
  if (!after)
    throw new ApiError("invalid_input", "invalid cursor", {
      fields: [{ path: "cursor", message: "not a cursor from this API" }],
    });
  return after;
}

function errorOf(kind: string | null): { kind: string; code: string } | null {
  if (!kind) return null;
  const known = JobErrorKind.safeParse(kind);
  return { kind, code: known.success ? JOB_ERROR_CODE[known.data] : "internal" };
}

/** An account's request history (`GET /v1/usage`), from the D1 rows the events queue writes. */
export class UsageHistory {
  constructor(private env: Env) {}

  async page(accountId: string, q: UsageQuery): Promise<UsagePage> {
    const after = q.cursor ? cursorOf(q.cursor) : null;
    const rows = await db(this.env)
      .select()
      .from(requests)
      .where(
        after
          ? and(
              eq(requests.accountId, accountId),
              or(
                lt(requests.createdAt, after.createdAt),
                and(eq(requests.createdAt, after.createdAt), lt(requests.id, after.id)),
              ),
            )
          : eq(requests.accountId, accountId),
      )
      .orderBy(desc(requests.createdAt), desc(requests.id))
      .limit(q.limit + 1)
      .all();
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      data: page.map((r) => ({
        request_id: r.id,
        model: r.model,
        status: r.status,
        gpu_seconds: r.gpuMs === null ? null : r.gpuMs / 1000,
        gpu_class: r.gpuClass,
        cost: r.cost,
        created_at: new Date(r.createdAt).toISOString(),
        completed_at: r.completedAt ? new Date(r.completedAt).toISOString() : null,
        error: errorOf(r.errorKind),
      })),
      next_cursor: rows.length > q.limit && last ? encodeCursor(last) : null,
    };
  }
}

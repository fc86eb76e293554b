import { JOB_ERROR_CODE, JobErrorKind, type UsagePage, type UsageQuery } from "../../schemas/index.ts";
import { decodeCursor, UsageService } from "../console/services/usage.ts";
import type { Env } from "../env.ts";
import { ApiError } from "../errors.ts";

/** The cursor is the last row's (created_at, id), in the console's format (one cursor for the same rows). */
function checkCursor(cursor: string): void {
  if (!decodeCursor(cursor))
    throw new ApiError("invalid_input", "invalid cursor", {
      fields: [{ path: "cursor", message: "not a cursor from this API" }],
    });
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
    // The console's query, with the API's page size; a cursor that is not one is refused here (the console ignores it).
    if (q.cursor) checkCursor(q.cursor);
    const { rows: page, next } = await new UsageService(this.env).page(accountId, { cursor: q.cursor }, q.limit);
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
      next_cursor: next,
    };
  }
}

import { and, desc, eq, lt, or } from "drizzle-orm";
import { z } from "zod";
import { JOB_ERROR_CODE, JobErrorKind, UsagePage } from "../../../schemas/index.ts";
import { reply, validate, type Api, type Ctx } from "../../app.ts";
import { db } from "../../db/client.ts";
import { requests } from "../../db/schema.ts";
import { ApiError } from "../../errors.ts";
import { requireApiKey } from "../../services/auth.ts";

const Query = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [t, id] = atob(cursor.replaceAll("-", "+").replaceAll("_", "/")).split("|");
    if (!t || !id || !/^\d+$/.test(t)) throw new Error();
    return { createdAt: Number(t), id };
  } catch {
    throw new ApiError("invalid_input", "invalid cursor", {
      fields: [{ path: "cursor", message: "not a cursor from this API" }],
    });
  }
}

function errorOf(kind: string | null): { kind: string; code: string } | null {
  if (!kind) return null;
  const known = JobErrorKind.safeParse(kind);
  return { kind, code: known.success ? JOB_ERROR_CODE[known.data] : "internal" };
}

export function registerUsage(api: Api) {
  api.op(
    {
      method: "get",
      path: "/v1/usage",
      tag: "Account",
      auth: "api_key",
      summary: "Requests newest first with model, status, GPU seconds, GPU class and cost (cursor-paginated)",
      responses: { 200: { description: "page", schema: UsagePage } },
      errors: [400, 401],
    },
    requireApiKey,
    async (c: Ctx) => {
      const q = validate(Query, c.req.query());
      const account = c.get("account").id;
      const after = q.cursor ? decodeCursor(q.cursor) : null;
      const rows = await db(c.env)
        .select()
        .from(requests)
        .where(
          after
            ? and(
                eq(requests.accountId, account),
                or(
                  lt(requests.createdAt, after.createdAt),
                  and(eq(requests.createdAt, after.createdAt), lt(requests.id, after.id)),
                ),
              )
            : eq(requests.accountId, account),
        )
        .orderBy(desc(requests.createdAt), desc(requests.id))
        .limit(q.limit + 1)
        .all();
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return reply(c, UsagePage, {
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
        next_cursor:
          rows.length > q.limit && last
            ? btoa(`${last.createdAt}|${last.id}`).replaceAll("+", "-").replaceAll("/", "_")
            : null,
      });
    },
  );
}

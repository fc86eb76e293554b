import type { Env } from "../env.ts";
import type { BrokerApi } from "./broker.ts";
import { r2Keys } from "./urls.ts";

/**
 * A job's image inputs, wherever they are kept: large ones (and a workflow node's, copied there by its run) in R2,
 * small ones (≤ 256 KB) only inside the job, held by its broker. A submission writes no R2 copy of a small input: on
 * a local start that copy was a third of a submission's CPU, and in production it costs an R2 write and, when the job
 * ends, a listing and a delete. Both kinds are served only until the job ends (R2 inputs are deleted then).
 */
export interface JobInput {
  body: ReadableStream | Uint8Array;
  contentType: string;
  size: number;
}

type Inline = Record<string, { content_type: string; data: string }>;
const field = (inline: Inline | null, name: string) =>
  inline && Object.hasOwn(inline, name) ? (inline[name] ?? null) : null;

/** The broker of the job's pool: it holds the small inputs. */
type Holder = Pick<BrokerApi, "inlineInputs">;

/** One input of a job the caller has already checked it may read (its lease, or its owner). */
export async function readJobInput(
  env: Env,
  holder: Holder,
  accountId: string,
  jobId: string,
  name: string,
): Promise<JobInput | null> {
  const obj = await env.BLOBS.get(r2Keys.input(accountId, jobId, name));
  if (obj)
    return { body: obj.body, contentType: obj.httpMetadata?.contentType ?? "application/octet-stream", size: obj.size };
  const inline = field(await holder.inlineInputs(jobId), name);
  if (!inline) return null;
  const bytes = new Uint8Array(Buffer.from(inline.data, "base64"));
  return { body: bytes, contentType: inline.content_type, size: bytes.byteLength };
}

/** The fields and media types of a job's inputs, for the console's request page. */
export async function listJobInputs(
  env: Env,
  holder: Holder,
  accountId: string,
  jobId: string,
): Promise<{ field: string; type: string }[]> {
  const [listed, inline] = await Promise.all([
    env.BLOBS.list({ prefix: r2Keys.input(accountId, jobId, ""), include: ["httpMetadata"] }),
    holder.inlineInputs(jobId),
  ]);
  const out = listed.objects.map((o) => ({
    field: o.key.slice(o.key.lastIndexOf("/") + 1),
    type: o.httpMetadata?.contentType ?? "application/octet-stream",
  }));
  for (const [k, v] of Object.entries(inline ?? {}))
    if (!out.some((o) => o.field === k)) out.push({ field: k, type: v.content_type });
  return out;
}

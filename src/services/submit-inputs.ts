import { imageFields, type ModelDefinition } from "../../schemas/index.ts";
import type { Config, Env } from "../env.ts";
import { sha256Hex, toBase64 } from "./crypto.ts";
import { resolveImage } from "./inputs.ts";
import { r2Keys } from "./urls.ts";

/** Image inputs up to this size travel inside the job (and the lease reply); larger ones go through R2. */
export const INLINE_INPUT_MAX = 256 * 1024;

export interface StagedFile {
  field: string;
  key: string;
  bytes: Uint8Array;
  contentType: string;
}

export interface StagedInputs {
  /** small files, kept only inside the job (services/job-inputs.ts serves them) and sent to the agent with it */
  inline: Record<string, { content_type: string; data: string }>;
  /** files the agent downloads from R2 */
  large: StagedFile[];
}

/**
 * Resolves the model's image inputs (bytes, base64, data URLs, remote URLs) and points each input field at its
 * platform path. Nothing is stored here: the caller writes the large files while the ledger decides.
 */
export async function stageInputs(
  def: ModelDefinition,
  images: Map<string, Uint8Array>,
  input: Record<string, unknown>,
  accountId: string,
  id: string,
  cfg: Config,
): Promise<StagedInputs> {
  const staged: StagedInputs = { inline: {}, large: [] };
  for (const field of imageFields(def.input_schema)) {
    const value = images.get(field) ?? input[field];
    if (value === undefined) continue;
    const img = await resolveImage(value as string | Uint8Array, field, cfg);
    if (img.bytes.byteLength <= INLINE_INPUT_MAX)
      staged.inline[field] = { content_type: img.contentType, data: toBase64(img.bytes) };
    else
      staged.large.push({
        field,
        key: r2Keys.input(accountId, id, field),
        bytes: img.bytes,
        contentType: img.contentType,
      });
    input[field] = `/agent/v1/jobs/${id}/inputs/${field}`;
  }
  return staged;
}

export function putInputs(env: Env, files: StagedFile[]): Promise<PromiseSettledResult<unknown>[]> {
  const put = (f: StagedFile) => env.BLOBS.put(f.key, f.bytes, { httpMetadata: { contentType: f.contentType } });
  return Promise.allSettled(files.map(put));
}

/** A request's fingerprint for Idempotency-Key: its JSON fields, with raw image bytes as their own digests. */
export async function requestHash(slug: string, raw: Record<string, unknown>): Promise<string> {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) fields[k] = v instanceof Uint8Array ? { sha256: await sha256Hex(v) } : v;
  return sha256Hex(JSON.stringify([slug, fields]));
}

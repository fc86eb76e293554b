import { imageFields, type ModelDefinition } from "../../schemas/index.ts";
import type { Config, Env } from "../env.ts";
import { sha256Hex } from "./crypto.ts";
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
  /** small files, sent to the agent inside the job */
  inline: Record<string, { content_type: string; data: string }>;
  small: StagedFile[];
  /** files the agent downloads from R2 */
  large: StagedFile[];
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
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
  const staged: StagedInputs = { inline: {}, small: [], large: [] };
  for (const field of imageFields(def.input_schema)) {
    const value = images.get(field) ?? input[field];
    if (value === undefined) continue;
    const img = await resolveImage(value as string | Uint8Array, field, cfg);
    const file = { field, key: r2Keys.input(accountId, id, field), bytes: img.bytes, contentType: img.contentType };
    if (img.bytes.byteLength <= INLINE_INPUT_MAX) {
      staged.inline[field] = { content_type: img.contentType, data: toBase64(img.bytes) };
      staged.small.push(file);
    } else staged.large.push(file);
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

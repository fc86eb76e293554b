import { D1Catalog } from "./catalog.ts";
import type { OutputType } from "../../schemas/index.ts";
import type { Env } from "../env.ts";
import { ApiError, notFound } from "../errors.ts";
import { r2Keys } from "./urls.ts";

/**
 * Output files are served from the API's own origin, so what an agent uploads is held to the media types its model's
 * output type allows, and the bytes must be what the declared type says: an agent cannot make the platform serve HTML,
 * SVG or script to whoever holds an output link.
 */
export const OUTPUT_MEDIA: Record<OutputType, readonly string[]> = {
  image: ["image/png", "image/jpeg", "image/webp", "image/gif"],
  video: ["video/mp4", "video/webm"],
  json: ["application/json"],
};
const SERVABLE = new Set(Object.values(OUTPUT_MEDIA).flat());

/** File names in paths: decoded once by the router, then held to this; no separators, no leading dot, no "..". */
export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const ID = /^[A-Za-z0-9_-]{1,100}$/;
export const validName = (name: string) => FILE_NAME.test(name) && !name.includes("..");

/** The media type of a Content-Type header: parameters dropped, lower case. */
export function mediaType(header: string | undefined | null): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

const ascii = (b: Uint8Array, at: number, s: string) => [...s].every((ch, i) => b[at + i] === ch.charCodeAt(0));

/** Whether the bytes begin as the media type says (the container signatures; decoding is the receiver's job). */
export function matchesMagic(type: string, b: Uint8Array): boolean {
  switch (type) {
    case "image/png":
      return b[0] === 0x89 && ascii(b, 1, "PNG");
    case "image/jpeg":
      return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
    case "image/webp":
      return ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP");
    case "image/gif":
      return ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a");
    case "video/mp4":
      return ascii(b, 4, "ftyp");
    case "video/webm":
      return b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3;
    case "application/json": {
      try {
        JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(b));
        return true;
      } catch {
        return false;
      }
    }
    default:
      return false;
  }
}

/** The headers an output is served with: never sniffed, never active, inline only for images and video. */
export function servingHeaders(storedType: string | undefined, name: string): Record<string, string> {
  const type = SERVABLE.has(mediaType(storedType)) ? mediaType(storedType) : "application/octet-stream";
  const inline = type.startsWith("image/") || type.startsWith("video/");
  return {
    "content-type": type,
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "content-disposition": `${inline ? "inline" : "attachment"}; filename="${name}"`,
  };
}

export interface UploadScope {
  accountId: string;
  jobId: string;
  /** the job's model, as the broker's lease check reported it */
  model: string;
}

/** Checks an agent's upload against the job's model and stores it; refusals are stable 4xx codes. */
export async function storeOutput(
  env: Env,
  scope: UploadScope,
  name: string,
  declared: string | undefined,
  bytes: Uint8Array,
  leaseId = "",
) {
  // The account's private models are outputs' owners too, so the lookup goes through the catalog, not the built-ins.
  const def = (await new D1Catalog(env).get(scope.model, scope.accountId))?.view;
  if (!def) throw notFound("job");
  const type = mediaType(declared);
  const allowed = OUTPUT_MEDIA[def.output_type];
  if (!allowed.includes(type)) {
    const message = `${def.slug} outputs ${def.output_type}: content-type must be one of ${allowed.join(", ")}`;
    throw new ApiError("unsupported_media_type", message, { reason: "type_not_allowed", allowed });
  }
  if (!matchesMagic(type, bytes)) {
    const details = { reason: "content_mismatch", declared: type };
    throw new ApiError("unsupported_media_type", `the file's bytes are not ${type}`, details);
  }
  const key = r2Keys.output(scope.accountId, scope.jobId, name);
  await env.BLOBS.put(key, bytes, { httpMetadata: { contentType: type }, customMetadata: { lease_id: leaseId } });
  return { name, content_type: type, size: bytes.byteLength };
}

import type { Env } from "../../env.ts";
import { r2Keys } from "../../services/urls.ts";

/** A request's stored inputs (the files it was sent), as the console's request page lists and shows them. */
export class RequestInputs {
  constructor(private env: Env) {}

  /** Each stored input of a request: its field name and media type. */
  async list(accountId: string, requestId: string): Promise<{ field: string; type: string }[]> {
    const listed = await this.env.BLOBS.list({
      prefix: r2Keys.input(accountId, requestId, ""),
      include: ["httpMetadata"],
    });
    return listed.objects.map((o) => ({
      field: o.key.slice(o.key.lastIndexOf("/") + 1),
      type: o.httpMetadata?.contentType ?? "application/octet-stream",
    }));
  }

  /** One input's bytes and media type; null when there is none. Ownership is the caller's check. */
  async get(
    accountId: string,
    requestId: string,
    field: string,
  ): Promise<{ body: ReadableStream; type: string } | null> {
    const obj = await this.env.BLOBS.get(r2Keys.input(accountId, requestId, field));
    return obj ? { body: obj.body, type: obj.httpMetadata?.contentType ?? "application/octet-stream" } : null;
  }
}

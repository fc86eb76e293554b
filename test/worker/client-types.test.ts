import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { typesSnapshot } from "../../clients/typescript/scripts/snapshot.ts";
import { OPENAPI_SHA256 } from "../../clients/typescript/src/schema.ts";

describe("TypeScript client types", () => {
  it("were generated from this API's current OpenAPI document (else: npm run client:generate)", async () => {
    const doc = (await (
      await exports.default.fetch(new Request("http://localhost:8787/openapi.json"))
    ).json()) as Record<string, unknown>;
    const bytes = new TextEncoder().encode(JSON.stringify(typesSnapshot(doc)));
    const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(sha, "clients/typescript/src/schema.ts is stale: run `npm run client:generate`").toBe(OPENAPI_SHA256);
  });
});

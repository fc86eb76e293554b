/**
 * The part of the platform's OpenAPI document the client's types are generated from: everything but the examples,
 * code samples and server URL, which change the docs and not the types.
 */
const DROP = new Set(["example", "examples", "x-codeSamples"]);

export function typesSnapshot(doc: Record<string, unknown>): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!DROP.has(k)) out[k] = strip(x);
    return out;
  };
  const { servers: _servers, ...rest } = doc;
  return strip(rest) as Record<string, unknown>;
}

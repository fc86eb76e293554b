import { checkModelInput } from "../../schemas/model-input.ts";
import { ApiError } from "../errors.ts";

/**
 * The request path's use of the shared model-input validator (schemas/model-input.ts): failures become the usual
 * `invalid_input` envelope with one entry per failing field.
 */
export { fieldIssues, checkModelInput, type FieldIssue } from "../../schemas/model-input.ts";

const MAX_FIELDS = 20;
const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** The validated input with defaults applied, or `invalid_input` with the failing fields. */
export function validateModelInput(
  schema: Record<string, unknown>,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const r = checkModelInput(schema, raw);
  if (!r.ok) {
    // bounded as the zod path bounds them (src/app.ts): a body of 300,000 unknown keys gets a few KB of error
    const fields = r.issues.slice(0, MAX_FIELDS)
      .map(({ path, message, code }) => ({ path: clip(path), message: clip(message), code }));
    const omitted = r.issues.length - fields.length;
    throw new ApiError("invalid_input", "input failed validation", { fields, ...(omitted > 0 ? { omitted } : {}) });
  }
  return r.input;
}

import { checkModelInput } from "../../schemas/model-input.ts";
import { invalidFields } from "../errors.ts";

/**
 * The request path's use of the shared model-input validator (schemas/model-input.ts): failures become the usual
 * bounded `invalid_input` envelope with one entry per failing field.
 */
export { fieldIssues, checkModelInput, type FieldIssue } from "../../schemas/model-input.ts";

/** The validated input with defaults applied, or `invalid_input` with the failing fields. */
export function validateModelInput(
  schema: Record<string, unknown>,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const r = checkModelInput(schema, raw);
  if (!r.ok) throw invalidFields(r.issues.map(({ path, message, code }) => ({ path, message, code })));
  return r.input;
}

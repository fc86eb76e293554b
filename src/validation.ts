import type { z } from "zod";
import { ApiError, invalidFields } from "./errors.ts";

/** Parses JSON text (empty means `{}`) or throws `invalid_input`. */
export function parseJson(text: string): unknown {
  try {
    return text.length === 0 ? {} : JSON.parse(text);
  } catch {
    throw new ApiError("invalid_input", "request body is not valid JSON");
  }
}

/** Validates against a zod schema; the failing fields come back in `details` (bounded, see invalidFields). */
export function validate<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw invalidFields(
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message, code: i.code })),
    );
  }
  return parsed.data;
}

/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` with bracketed keys (`metadata[account]=a`,
 * `line_items[0][price_data][unit_amount]=1000`, `expand[]=payment_method`), the same in GET query strings.
 * Decoded into nested objects; numeric and empty brackets make arrays.
 */
export type Form = { [k: string]: FormValue };
export type FormValue = string | Form | FormValue[];

export function parseForm(body: string): Form {
  const root: Form = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.replace(/\]/g, "").split("[");
    let node: Form | FormValue[] = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(parts[i + 1]!);
      const container = node as Record<string, FormValue>;
      const key = Array.isArray(node) && part === "" ? String(node.length) : part;
      if (last) {
        if (Array.isArray(node)) (node as FormValue[])[Number(key)] = value;
        else container[key] = value;
        return;
      }
      container[key] ??= nextIsIndex ? [] : {};
      node = container[key] as Form | FormValue[];
    });
  }
  return root;
}

/** A string field or undefined. */
export const str = (v: FormValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/** A nested object field, or an empty one. */
export const obj = (v: FormValue | undefined): Form => (v && typeof v === "object" && !Array.isArray(v) ? v : {});

/** A list field (`a[]=x&a[]=y` or `a[0]=x`), or an empty one. */
export const list = (v: FormValue | undefined): FormValue[] =>
  Array.isArray(v) ? v.filter((x) => x !== undefined) : v && typeof v === "object" ? Object.values(v) : [];

/** Stripe booleans arrive as the strings `true` / `false`. */
export const bool = (v: FormValue | undefined): boolean => v === "true";

/** `metadata[...]` as a flat string map. */
export function metadata(v: FormValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === "string") out[k] = x;
  return out;
}

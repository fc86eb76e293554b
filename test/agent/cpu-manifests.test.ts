import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CPU_MODEL_DEFINITIONS } from "../../schemas/cpu-models.ts";
import { FACTORIES } from "../../gpu-agent/src/runtimes/builtin/models/index.ts";

const manifest = (slug: string) =>
  JSON.parse(readFileSync(new URL(`../../models/${slug}/manifest.json`, import.meta.url), "utf8")) as Record<
    string,
    any
  >;

describe("catalog manifests of the built-in CPU models", () => {
  it("every built-in CPU model has a manifest that says what its definition says", () => {
    for (const d of CPU_MODEL_DEFINITIONS) {
      const m = manifest(d.slug);
      expect(m.slug).toBe(d.slug);
      expect(m.runtime).toBe("builtin");
      const json = z.toJSONSchema(d.input, { io: "input", target: "draft-2020-12" }) as Record<string, unknown>;
      expect(m.input_schema.properties, d.slug).toEqual(json.properties);
      expect(m.input_schema.required).toEqual(json.required);
      expect(m.input_schema.additionalProperties).toBe(false);
      expect({
        pricing: m.pricing,
        gpu_classes: m.gpu_classes,
        max_execution_s: m.limits.max_execution_s,
        free: m.free,
      }).toEqual({ pricing: d.pricing, gpu_classes: d.gpu_classes, max_execution_s: d.max_execution_s, free: d.free });
      // the example input is valid input
      expect(d.input.safeParse(m.example_input).success, d.slug).toBe(true);
      // and the agent's built-in runtime has the model
      expect(FACTORIES.map((f) => f.slug)).toContain(d.slug);
    }
  });

  it("the cross-field rules the JSON Schema states agree with the zod refinements", () => {
    const resize = manifest("image-resize").input_schema;
    expect(resize.anyOf).toEqual([{ required: ["width"] }, { required: ["height"] }]);
    const crop = manifest("image-crop").input_schema;
    expect(crop.oneOf).toHaveLength(2);
    const input = CPU_MODEL_DEFINITIONS.find((d) => d.slug === "image-crop")!.input;
    expect(input.safeParse({ image: "x", aspect_ratio: "1:1" }).success).toBe(true);
    expect(input.safeParse({ image: "x", left: 0, top: 0, width: 1, height: 1 }).success).toBe(true);
    expect(input.safeParse({ image: "x", left: 0, top: 0, width: 1, height: 1, aspect_ratio: "1:1" }).success).toBe(
      false,
    );
    expect(input.safeParse({ image: "x" }).success).toBe(false);
  });
});

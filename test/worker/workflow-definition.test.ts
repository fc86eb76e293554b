import { describe, expect, it } from "vitest";
import { inputsSchema, longestPath, parseRef, topoOrder, type ModelInfo } from "../../schemas/workflow.ts";
import { checkDefinition } from "../../schemas/workflow-check.ts";
import { MODEL_BY_SLUG } from "../../schemas/catalog.ts";

/** The models' own JSON Schemas, from their manifests under models/. */
const schemaOf = (slug: string) => MODEL_BY_SLUG.get(slug)!.input_schema;
const info = (slug: string, output_type: ModelInfo["output_type"], allowed = true, reason?: string): ModelInfo => ({
  input_schema: schemaOf(slug),
  output_type,
  allowed,
  ...(reason ? { reason } : {}),
});
const catalog: Record<string, ModelInfo> = {
  "background-removal": info("background-removal", "image"),
  "nsfw-detector": info("nsfw-detector", "json"),
  "image-composite": info("image-composite", "image"),
  "image-resize": info("image-resize", "image"),
  "image-crop": info("image-crop", "image"),
  "image-convert": info("image-convert", "image"),
  "sdxl1.0-txt2img": info("sdxl1.0-txt2img", "image", false, "the free plan can call free models only"),
};
const lookup = (s: string) => catalog[s];

/** The example: the public contract. */
const example = () => ({
  inputs: { image: { type: "image" }, background: { type: "string", default: "#ffffff" } },
  nodes: {
    cutout: { model: "background-removal", input: { image: { $ref: "inputs.image" } } },
    flat: {
      model: "image-composite",
      input: { image: { $ref: "nodes.cutout.output" }, background: { $ref: "inputs.background" } },
    },
    check: { model: "nsfw-detector", input: { image: { $ref: "nodes.flat.output" } } },
  },
  outputs: { image: { $ref: "nodes.flat.output" }, safety: { $ref: "nodes.check.json" } },
});

const codes = (raw: unknown) => checkDefinition(raw, lookup).errors.map((e) => `${e.code} ${e.pointer}`);

describe("workflow definition: happy", () => {
  it("the issue's example is valid, in dependency order", () => {
    const r = checkDefinition(example(), lookup);
    expect(r.errors).toEqual([]);
    expect(topoOrder(r.definition!).order).toEqual(["cutout", "flat", "check"]);
  });

  it("parses every ref form and rejects malformed ones", () => {
    expect(parseRef("inputs.photo")).toEqual({ kind: "input", name: "photo" });
    expect(parseRef("nodes.a.output")).toEqual({ kind: "output", node: "a", index: 0 });
    expect(parseRef("nodes.a.outputs.2")).toEqual({ kind: "output", node: "a", index: 2 });
    expect(parseRef("nodes.a.json")).toEqual({ kind: "json", node: "a", path: [] });
    expect(parseRef("nodes.a.json.x.y")).toEqual({ kind: "json", node: "a", path: ["x", "y"] });
    for (const bad of ["inputs", "nodes.a", "nodes.a.outputs.x", "nodes.a.output.0", "foo.a", "nodes.a.json..x"])
      expect(parseRef(bad)).toBeNull();
  });

  it("templates and json refs into text fields are fine; the longest path weighs the deadline", () => {
    const d = example();
    (d.inputs as Record<string, unknown>).bg = { type: "enum", values: ["#fff", "#000"], default: "#fff" };
    (d.nodes.flat.input as Record<string, unknown>).background = { $template: "{inputs.bg}" };
    expect(codes(d)).toEqual([]);
    const def = checkDefinition(d, lookup).definition!;
    expect(longestPath(def, () => 10)).toBe(30);
  });

  it("run inputs get defaults and are strict", () => {
    const s = inputsSchema(checkDefinition(example(), lookup).definition!);
    expect(s.parse({ image: "x" })).toEqual({ image: "x", background: "#ffffff" });
    expect(s.safeParse({ image: "x", extra: 1 }).success).toBe(false);
    expect(s.safeParse({}).success).toBe(false);
  });
});

describe("workflow definition: every error kind, with pointers", () => {
  it("invalid_format: the shape itself", () => {
    expect(codes({ nodes: { a: { model: 3 } }, outputs: {} })).toContain("invalid_format /nodes/a/model");
    expect(codes({ inputs: { x: { type: "color" } }, nodes: {}, outputs: {} })[0]).toMatch(
      /^invalid_format \/inputs\/x/,
    );
  });

  it("no_nodes and no_outputs", () => {
    expect(codes({ nodes: {}, outputs: {} })).toEqual(["no_nodes /nodes", "no_outputs /outputs"]);
  });

  it("too_many_nodes: 33 is one too many", () => {
    const nodes: Record<string, unknown> = {};
    for (let i = 0; i < 33; i++)
      nodes[`n${i}`] = { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } };
    const d = { inputs: { image: { type: "image" } }, nodes, outputs: { o: { $ref: "nodes.n0.json" } } };
    expect(codes(d)).toEqual(["too_many_nodes /nodes"]);
    delete nodes.n32;
    expect(codes(d)).toEqual([]);
  });

  it("invalid_node_id and invalid_name", () => {
    const d = example() as {
      nodes: Record<string, unknown>;
      outputs: Record<string, unknown>;
      inputs: Record<string, unknown>;
    };
    d.nodes["Bad Id"] = { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } };
    d.nodes["9x"] = { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } };
    d.nodes["a".repeat(41)] = { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } };
    d.outputs["bad-name"] = { $ref: "nodes.check.json" };
    d.inputs["1st"] = { type: "boolean" };
    const c = codes(d);
    expect(c).toContain("invalid_node_id /nodes/Bad Id");
    expect(c).toContain("invalid_node_id /nodes/9x");
    expect(c).toContain(`invalid_node_id /nodes/${"a".repeat(41)}`);
    expect(c).toContain("invalid_name /outputs/bad-name");
    expect(c).toContain("invalid_name /inputs/1st");
  });

  it("invalid_default: a default outside the declared type", () => {
    const d = example() as { inputs: Record<string, unknown> };
    d.inputs.style = { type: "enum", values: ["oil", "ink"], default: "watercolour" };
    d.inputs.n = { type: "integer", minimum: 1, maximum: 4, default: 9 };
    expect(codes(d)).toEqual(["invalid_default /inputs/style/default", "invalid_default /inputs/n/default"]);
  });

  it("invalid_ref: bad syntax, and refs nested inside a literal", () => {
    const d = example();
    (d.nodes.cutout.input as Record<string, unknown>).image = { $ref: "input.image" };
    (d.nodes.flat.input as Record<string, unknown>).background = { color: { $ref: "inputs.background" } };
    expect(codes(d)).toEqual(["invalid_ref /nodes/cutout/input/image", "invalid_ref /nodes/flat/input/background"]);
  });

  it("unresolved_ref: unknown input, unknown node, in a template and in outputs", () => {
    const d = example();
    (d.nodes.cutout.input as Record<string, unknown>).image = { $ref: "inputs.photo" };
    (d.nodes.flat.input as Record<string, unknown>).background = { $template: "{nodes.ghost.json.colour}" };
    (d.outputs as Record<string, unknown>).extra = { $ref: "nodes.nope.output" };
    expect(codes(d)).toEqual([
      "unresolved_ref /nodes/cutout/input/image",
      "unresolved_ref /nodes/flat/input/background",
      "unresolved_ref /outputs/extra/$ref",
    ]);
  });

  it("cycle: a two-node loop and a self-loop, a node behind the loop not blamed", () => {
    const d = {
      inputs: { image: { type: "image" } },
      nodes: {
        a: { model: "image-resize", input: { image: { $ref: "nodes.b.output" }, width: 10 } },
        b: { model: "image-resize", input: { image: { $ref: "nodes.a.output" }, width: 10 } },
        c: { model: "image-resize", input: { image: { $ref: "nodes.c.output" }, width: 10 } },
        d: { model: "image-resize", input: { image: { $ref: "nodes.a.output" }, width: 10 } },
      },
      outputs: { o: { $ref: "nodes.d.output" } },
    };
    expect(codes(d)).toEqual(["cycle /nodes/a", "cycle /nodes/b", "cycle /nodes/c"]);
  });

  it("unknown_model and model_not_allowed", () => {
    const d = example();
    d.nodes.cutout.model = "rembg-9000";
    (d.nodes as Record<string, unknown>).gen = { model: "sdxl1.0-txt2img", input: { prompt: "a cat" } };
    expect(codes(d)).toEqual(["unknown_model /nodes/cutout/model", "model_not_allowed /nodes/gen/model"]);
    expect(checkDefinition(d, lookup).errors[1]!.message).toMatch(/free models only/);
  });

  it("unknown_field: literal and ref'd fields the model does not take", () => {
    const d = example();
    (d.nodes.cutout.input as Record<string, unknown>).strength = 3;
    (d.nodes.check.input as Record<string, unknown>).mask = { $ref: "nodes.cutout.output" };
    expect(codes(d).sort()).toEqual([
      "unknown_field /nodes/check/input/mask",
      "unknown_field /nodes/cutout/input/strength",
    ]);
  });

  it("type_mismatch: image into text, a number into image, JSON of a file model, a file of a JSON model, template into a number", () => {
    const d = example() as ReturnType<typeof example> & { inputs: Record<string, unknown> };
    d.inputs.width = { type: "string" };
    d.inputs.size = { type: "number" };
    (d.nodes as Record<string, unknown>).fit = {
      model: "image-resize",
      input: { image: { $ref: "inputs.size" }, width: { $ref: "inputs.width" } },
    };
    (d.nodes.flat.input as Record<string, unknown>).background = { $ref: "nodes.cutout.output" };
    (d.nodes as Record<string, unknown>).fit2 = {
      model: "image-resize",
      input: { image: { $ref: "nodes.cutout.output" }, width: { $template: "{inputs.width}" } },
    };
    (d.outputs as Record<string, unknown>).bad1 = { $ref: "nodes.cutout.json" };
    (d.outputs as Record<string, unknown>).bad2 = { $ref: "nodes.check.output" };
    expect(codes(d)).toEqual([
      "type_mismatch /nodes/flat/input/background",
      "type_mismatch /nodes/fit/input/image",
      "type_mismatch /nodes/fit/input/width",
      "type_mismatch /nodes/fit2/input/width",
      "type_mismatch /outputs/bad1/$ref",
      "type_mismatch /outputs/bad2/$ref",
    ]);
  });

  it("invalid_node_input: literals checked by the model's own schema, missing required fields too", () => {
    const d = example();
    (d.nodes.cutout.input as Record<string, unknown>).model = "huge";
    (d.nodes as Record<string, unknown>).fit = {
      model: "image-resize",
      input: { image: { $ref: "nodes.cutout.output" } },
    };
    (d.nodes.flat.input as Record<string, unknown>).scale = 5;
    (d.nodes as Record<string, unknown>).conv = {
      model: "image-convert",
      input: { image: { $ref: "nodes.flat.output" }, quality: 0 },
    };
    expect(codes(d)).toEqual([
      "invalid_node_input /nodes/cutout/input/model",
      "invalid_node_input /nodes/flat/input/scale",
      // image-resize needs a width or a height: a rule over the whole input, pointed at the node's input
      "invalid_node_input /nodes/fit/input",
      "invalid_node_input /nodes/conv/input/format",
      "invalid_node_input /nodes/conv/input/quality",
    ]);
    const fit = checkDefinition(d, lookup).errors.find((e) => e.pointer === "/nodes/fit/input")!;
    expect(fit.message).toMatch(/width/);
    expect(fit.message).toMatch(/height/);
  });

  it("invalid_node_input: rules over the whole input count a ref'd field as present, literals as they are", () => {
    const d = example() as ReturnType<typeof example> & { inputs: Record<string, unknown> };
    d.inputs.size = { type: "integer", minimum: 1, maximum: 4096, default: 512 };
    const nodes = d.nodes as Record<string, unknown>;
    nodes.fit = {
      model: "image-resize",
      input: { image: { $ref: "nodes.flat.output" }, height: { $ref: "inputs.size" } },
    };
    nodes.square = { model: "image-crop", input: { image: { $ref: "nodes.flat.output" }, aspect_ratio: "1:1" } };
    expect(codes(d)).toEqual([]);
    // a box and an aspect ratio at once: image-crop takes exactly one of them
    nodes.square = {
      model: "image-crop",
      input: { image: { $ref: "nodes.flat.output" }, aspect_ratio: "1:1", left: 0 },
    };
    nodes.colour = { model: "image-composite", input: { image: { $ref: "nodes.cutout.output" }, background: "red" } };
    expect(codes(d)).toEqual([
      "invalid_node_input /nodes/square/input",
      "invalid_node_input /nodes/colour/input/background",
    ]);
  });

  it("every problem at once, not just the first; pointers escape / and ~", () => {
    const d = example() as {
      nodes: Record<string, { model: string; input: Record<string, unknown> }>;
      outputs: Record<string, unknown>;
    };
    d.nodes["a/b~c"] = { model: "nope", input: {} };
    d.nodes.cutout!.input.image = { $ref: "inputs.nope" };
    const c = codes(d);
    expect(c).toContain("invalid_node_id /nodes/a~1b~0c");
    expect(c).toContain("unknown_model /nodes/a~1b~0c/model");
    expect(c).toContain("unresolved_ref /nodes/cutout/input/image");
    expect(c.length).toBe(3);
  });
});

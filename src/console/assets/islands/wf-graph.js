// The builder's graph model over our workflow definition ({inputs, nodes, outputs}, as the API stores it). The
// definition is the truth; the canvas (drawflow) and the table editor are views that change it only through here.
(() => {
  const NODE_ID = /^[a-z][a-z0-9_-]{0,39}$/;
  const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
  const HIDDEN = new Set(["base64"]);

  /** A port's type: image, string, number, boolean or json (objects, arrays); enums are strings. */
  function kindOf(p) {
    if (!p) return "json";
    if (p.format === "image") return "image";
    if (Array.isArray(p.enum)) return "string";
    const alts = p.anyOf || p.oneOf;
    if (Array.isArray(alts) && alts.length) {
      const kinds = [...new Set(alts.map(kindOf))];
      return kinds.length === 1 ? kinds[0] : "json";
    }
    const t = Array.isArray(p.type) ? p.type.find((x) => x !== "null") : p.type;
    if (t === "integer" || t === "number") return "number";
    if (t === "boolean" || t === "string") return t;
    return "json";
  }
  const inputKind = (d) =>
    d.type === "image" ? "image" : d.type === "enum" ? "string" : d.type === "integer" ? "number" : d.type;
  const isRef = (v) =>
    v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.$ref === "string";

  class Graph {
    constructor(def, models) {
      const d = def && typeof def === "object" ? def : {};
      this.def = { inputs: { ...(d.inputs || {}) }, nodes: { ...(d.nodes || {}) }, outputs: { ...(d.outputs || {}) } };
      for (const [id, n] of Object.entries(this.def.nodes))
        this.def.nodes[id] = { model: n.model, input: { ...n.input } };
      this.models = new Map(models.map((m) => [m.slug, m]));
    }

    model(id) {
      return this.models.get(this.def.nodes[id]?.model);
    }

    /** A node's input fields in the form's order (x-order first). */
    fields(id) {
      const m = this.model(id);
      const props = m?.input_schema?.properties || {};
      return Object.entries(props)
        .filter(([k]) => !HIDDEN.has(k))
        .map((e, i) => ({ e, i }))
        .sort((a, b) => (a.e[1]["x-order"] ?? a.i) - (b.e[1]["x-order"] ?? b.i))
        .map(({ e }) => ({ name: e[0], kind: kindOf(e[1]), prop: e[1] }));
    }

    /** What a ref carries: inputs.x → its declared type; nodes.x.output → the model's output type. */
    sourceKind(ref) {
      const p = ref.split(".");
      if (p[0] === "inputs" && this.def.inputs[p[1]]) return inputKind(this.def.inputs[p[1]]);
      if (p[0] === "nodes" && p[2] === "output" && this.model(p[1])) return this.model(p[1]).output_type;
      return "json";
    }

    /** How a node's result is referenced: a file output, or (JSON models) the JSON value. */
    outRef(id) {
      const m = this.model(id);
      return m && m.output_type === "json" ? `nodes.${id}.json` : `nodes.${id}.output`;
    }

    sources() {
      return [
        ...Object.keys(this.def.inputs).map((n) => ({ ref: `inputs.${n}`, label: `input ${n}` })),
        ...Object.keys(this.def.nodes).map((id) => ({ ref: this.outRef(id), label: `${id} output` })),
      ].map((s) => ({ ...s, kind: this.sourceKind(s.ref) }));
    }

    /** Only type-compatible links: an image output feeds image inputs, a number feeds numbers, and so on. */
    check(ref, target) {
      const from = this.sourceKind(ref);
      if (target.output !== undefined) return null;
      const f = this.fields(target.node).find((x) => x.name === target.field);
      if (!f) return `${target.node} has no input ${target.field}`;
      if (ref.startsWith(`nodes.${target.node}.`)) return "a node cannot feed itself";
      if (from !== f.kind) return `cannot connect ${from} to ${target.node}.${target.field} (${f.kind})`;
      if (ref.startsWith("nodes.") && this.reaches(target.node, ref.split(".")[1]))
        return "that link would make a cycle";
      return null;
    }

    /** Whether `to` depends on `from` (directly or through other nodes). */
    reaches(from, to) {
      const seen = new Set();
      const walk = (id) => {
        if (id === from) return true;
        if (seen.has(id)) return false;
        seen.add(id);
        const n = this.def.nodes[id];
        const reads = (v) => isRef(v) && v.$ref.startsWith("nodes.") && walk(v.$ref.split(".")[1]);
        return !!n && Object.values(n.input).some(reads);
      };
      return walk(to);
    }

    connect(ref, target) {
      const why = this.check(ref, target);
      if (why) throw new Error(why);
      if (target.output !== undefined) this.def.outputs[target.output] = { $ref: ref };
      else this.def.nodes[target.node].input[target.field] = { $ref: ref };
    }

    refAt(target) {
      const v =
        target.output !== undefined
          ? this.def.outputs[target.output]
          : this.def.nodes[target.node]?.input[target.field];
      return isRef(v) ? v.$ref : null;
    }

    disconnect(target) {
      if (target.output !== undefined) delete this.def.outputs[target.output];
      else if (isRef(this.def.nodes[target.node]?.input[target.field]))
        delete this.def.nodes[target.node].input[target.field];
    }

    setLiteral(node, field, value) {
      if (value === undefined) delete this.def.nodes[node].input[field];
      else this.def.nodes[node].input[field] = value;
    }

    addNode(slug) {
      const base = (
        slug
          .toLowerCase()
          .replace(/[^a-z0-9_-]/g, "_")
          .replace(/^[^a-z]+/, "") || "node"
      ).slice(0, 36);
      let id = base;
      for (let i = 2; this.def.nodes[id]; i++) id = `${base}_${i}`;
      if (!NODE_ID.test(id)) throw new Error(`cannot name a node for ${slug}`);
      this.def.nodes[id] = { model: slug, input: {} };
      return id;
    }

    /** Removes a node and every link that read from it. */
    removeNode(id) {
      delete this.def.nodes[id];
      this.dropRefs((r) => r.startsWith(`nodes.${id}.`));
    }

    addInput(name, type) {
      if (!NAME.test(name)) throw new Error("input names: letters, digits and _, not starting with a digit");
      if (this.def.inputs[name]) throw new Error(`an input ${name} exists`);
      this.def.inputs[name] = { type };
    }

    removeInput(name) {
      delete this.def.inputs[name];
      this.dropRefs((r) => r === `inputs.${name}`);
    }

    addOutput(name) {
      if (!NAME.test(name)) throw new Error("output names: letters, digits and _, not starting with a digit");
      if (name in this.def.outputs || this.pendingOutputs.has(name)) throw new Error(`an output ${name} exists`);
      this.pendingOutputs.add(name);
    }

    /** Outputs not yet linked live here (the definition holds only mapped ones). */
    get pendingOutputs() {
      return (this._pending ??= new Set());
    }

    outputNames() {
      return [...new Set([...Object.keys(this.def.outputs), ...this.pendingOutputs])];
    }

    removeOutput(name) {
      delete this.def.outputs[name];
      this.pendingOutputs.delete(name);
    }

    dropRefs(match) {
      for (const n of Object.values(this.def.nodes))
        for (const [f, v] of Object.entries(n.input)) if (isRef(v) && match(v.$ref)) delete n.input[f];
      for (const [o, v] of Object.entries(this.def.outputs)) if (match(v.$ref)) delete this.def.outputs[o];
    }

    /** Column per depth: inputs first, then nodes by how far they are from the inputs, outputs last. */
    layout() {
      const depth = {};
      const d = (id, seen = new Set()) => {
        if (depth[id] !== undefined) return depth[id];
        if (seen.has(id)) return 0;
        seen.add(id);
        const deps = Object.values(this.def.nodes[id].input)
          .filter((v) => isRef(v) && v.$ref.startsWith("nodes."))
          .map((v) => v.$ref.split(".")[1])
          .filter((x) => this.def.nodes[x]);
        return (depth[id] = deps.length ? 1 + Math.max(...deps.map((x) => d(x, seen))) : 0);
      };
      const cols = {};
      const place = (key, col) => ((cols[col] ??= []).push(key), col);
      for (const n of Object.keys(this.def.inputs)) place(`input:${n}`, 0);
      let last = 0;
      for (const id of Object.keys(this.def.nodes)) last = Math.max(last, place(`node:${id}`, 1 + d(id)));
      for (const o of this.outputNames()) place(`output:${o}`, last + 1);
      const pos = {};
      for (const [col, keys] of Object.entries(cols))
        keys.forEach((k, row) => (pos[k] = { x: 30 + Number(col) * 250, y: 30 + row * 190 }));
      return pos;
    }
  }

  window.WfGraph = { Graph, kindOf, isRef };
})();

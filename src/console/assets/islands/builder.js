// The workflow builder: drawflow draws the graph of wf-graph.js (our definition is the truth), the table editor is
// the keyboard path, and the toolbar saves (If-Match), validates, publishes, moves aliases and runs.
(() => {
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const state = JSON.parse($("wf-state").textContent);
  const models = JSON.parse($("wf-models").textContent);
  const graph = new WfGraph.Graph(state.draft.definition, models);
  let etag = state.draft.etag;
  let workflow = state;
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrf-token"];
  const say = (text, bad) => {
    $("wf-message").textContent = text;
    $("wf-message").className = bad ? "error" : "notice";
  };
  const api = async (method, path, body, headers = {}) => {
    const r = await fetch(`/console/workflows/${workflow.slug}${path}`, {
      method,
      headers: { "content-type": "application/json", "x-csrf-token": csrf, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, etag: r.headers.get("etag"), body: await r.json().catch(() => null) };
  };

  // ---- canvas -------------------------------------------------------------------------------------------------
  const editor = new Drawflow($("wf-canvas"));
  editor.start();
  const byDf = new Map(); // drawflow id → { kind, key }
  const dfOf = new Map(); // "node:id" → drawflow id
  let pos = graph.layout();
  let quiet = false;

  function nodeHtml(kind, key) {
    if (kind === "node") {
      const m = graph.model(key);
      const rows = graph.fields(key).map((f) => `<li>${esc(f.name)} <small>${f.kind}</small></li>`);
      return `<div class="wf-node"><strong>${esc(m ? m.name : graph.def.nodes[key].model)}</strong>
        <code>${esc(key)}</code> <span class="node-status" data-node-status="${esc(key)}"></span>
        <ol class="ports">${rows.join("")}</ol><small>→ ${esc(m ? m.output_type : "?")}</small></div>`;
    }
    const type = kind === "input" ? graph.def.inputs[key].type : "output";
    return `<div class="wf-node"><strong>${kind === "input" ? "Input" : "Output"}</strong> <code>${esc(key)}</code>
      <small>${esc(type)}</small></div>`;
  }

  function add(kind, key, ins, outs) {
    const p = pos[`${kind}:${key}`] || { x: 40, y: 40 };
    const id = editor.addNode(kind, ins, outs, p.x, p.y, `wf-${kind}`, {}, nodeHtml(kind, key));
    byDf.set(String(id), { kind, key });
    dfOf.set(`${kind}:${key}`, String(id));
    $(`node-${id}`).setAttribute("data-key", `${kind}:${key}`);
  }

  function render() {
    quiet = true;
    editor.clear();
    byDf.clear();
    dfOf.clear();
    const fresh = graph.layout();
    pos = Object.fromEntries(Object.entries(fresh).map(([k, v]) => [k, pos[k] || v]));
    for (const n of Object.keys(graph.def.inputs)) add("input", n, 0, 1);
    for (const id of Object.keys(graph.def.nodes)) add("node", id, graph.fields(id).length, 1);
    for (const o of graph.outputNames()) add("output", o, 1, 0);
    const src = (ref) => {
      const p = ref.split(".");
      return dfOf.get(p[0] === "inputs" ? `input:${p[1]}` : `node:${p[1]}`);
    };
    for (const [id, n] of Object.entries(graph.def.nodes))
      graph.fields(id).forEach((f, i) => {
        const v = n.input[f.name];
        if (!WfGraph.isRef(v) || !src(v.$ref)) return;
        editor.addConnection(src(v.$ref), dfOf.get(`node:${id}`), "output_1", `input_${i + 1}`);
      });
    for (const [o, v] of Object.entries(graph.def.outputs))
      if (src(v.$ref)) editor.addConnection(src(v.$ref), dfOf.get(`output:${o}`), "output_1", "input_1");
    quiet = false;
    renderTable();
  }

  const refOf = (dfId) => {
    const s = byDf.get(String(dfId));
    return s.kind === "input" ? `inputs.${s.key}` : graph.outRef(s.key);
  };
  const targetOf = (dfId, inputClass) => {
    const t = byDf.get(String(dfId));
    if (t.kind === "output") return { output: t.key };
    return { node: t.key, field: graph.fields(t.key)[Number(inputClass.slice(6)) - 1].name };
  };

  editor.on("connectionCreated", (c) => {
    if (quiet) return;
    const target = targetOf(c.input_id, c.input_class);
    try {
      graph.connect(refOf(c.output_id), target);
      say(`Connected ${refOf(c.output_id)} → ${target.output ?? `${target.node}.${target.field}`}.`);
    } catch (e) {
      say(`Refused: ${e.message}.`, true);
    }
    render();
  });
  editor.on("connectionRemoved", (c) => {
    if (quiet) return;
    const target = targetOf(c.input_id, c.input_class);
    if (graph.refAt(target) === refOf(c.output_id)) graph.disconnect(target);
    renderTable();
  });
  editor.on("nodeRemoved", (id) => {
    if (quiet) return;
    const s = byDf.get(String(id));
    if (!s) return;
    if (s.kind === "node") graph.removeNode(s.key);
    else if (s.kind === "input") graph.removeInput(s.key);
    else graph.removeOutput(s.key);
    render();
  });
  editor.on("nodeMoved", (id) => {
    const s = byDf.get(String(id));
    const n = editor.getNodeFromId(id);
    if (s) pos[`${s.kind}:${s.key}`] = { x: n.pos_x, y: n.pos_y };
  });
  editor.on("nodeSelected", (id) => {
    const s = byDf.get(String(id));
    if (s && s.kind === "node") inspect(s.key);
  });

  function addModel(slug, at) {
    const id = graph.addNode(slug);
    if (at) pos[`node:${id}`] = at;
    render();
    say(`Added ${id}.`);
    return id;
  }
  document
    .querySelectorAll("[data-add-model]")
    .forEach((b) => b.addEventListener("click", () => addModel(b.getAttribute("data-add-model"))));
  document
    .querySelectorAll(".palette li[draggable]")
    .forEach((li) =>
      li.addEventListener("dragstart", (e) => e.dataTransfer.setData("text/plain", li.getAttribute("data-model"))),
    );
  const canvas = $("wf-canvas");
  canvas.addEventListener("dragover", (e) => e.preventDefault());
  canvas.addEventListener("drop", (e) => {
    e.preventDefault();
    const slug = e.dataTransfer.getData("text/plain");
    if (!graph.models.has(slug)) return;
    const pc = editor.precanvas;
    const k = pc.clientWidth / (pc.clientWidth * editor.zoom);
    const r = pc.getBoundingClientRect();
    addModel(slug, { x: e.clientX * k - r.x * k, y: e.clientY * k - r.y * k });
  });

  $("wf-add-input").addEventListener("submit", (e) => {
    e.preventDefault();
    try {
      graph.addInput($("wf-input-name").value.trim(), $("wf-input-type").value);
      render();
    } catch (err) {
      say(err.message, true);
    }
  });
  $("wf-add-output").addEventListener("submit", (e) => {
    e.preventDefault();
    try {
      graph.addOutput($("wf-output-name").value.trim());
      render();
    } catch (err) {
      say(err.message, true);
    }
  });

  // ---- inspector: literal inputs through the same generated form as the playground ------------------------------
  async function inspect(id) {
    const form = $("wf-node-form");
    const url = `/console/workflows/fields/${encodeURIComponent(graph.def.nodes[id].model)}`;
    const html = await (await fetch(url)).text();
    form.innerHTML = `<h3>${esc(id)}</h3>${html}`;
    form.hidden = false;
    $("wf-inspector-empty").hidden = true;
    for (const f of graph.fields(id)) {
      const el = form.elements.namedItem(f.name);
      if (!el?.tagName) continue;
      const v = graph.def.nodes[id].input[f.name];
      if (WfGraph.isRef(v) || f.kind === "image") {
        el.disabled = true;
        const note = WfGraph.isRef(v) ? `from ${esc(v.$ref)}` : "connect an image";
        el.insertAdjacentHTML("afterend", `<p class="help">${note}</p>`);
      } else if (v !== undefined) {
        if (el.type === "checkbox") el.checked = v === true;
        else el.value = typeof v === "object" ? JSON.stringify(v) : String(v);
      }
    }
    form.onchange = (e) => {
      const el = e.target;
      const f = graph.fields(id).find((x) => x.name === el.name);
      if (!f) return;
      graph.setLiteral(id, f.name, coerce(f.kind, el));
      renderTable();
    };
  }
  function coerce(kind, el) {
    if (el.type === "checkbox") return el.checked;
    if (el.value === "") return undefined;
    if (kind === "number") return Number(el.value);
    if (kind === "json") {
      try {
        return JSON.parse(el.value);
      } catch {
        return el.value;
      }
    }
    return el.value;
  }

  // ---- table editor --------------------------------------------------------------------------------------------
  const options = (srcs, selected, none) =>
    `<option value="">${none}</option>` +
    srcs
      .map((s) => `<option value="${esc(s.ref)}"${s.ref === selected ? " selected" : ""}>${esc(s.label)}</option>`)
      .join("");
  const remove = (attr, key, label) =>
    `<button type="button" class="secondary small" ${attr}="${esc(key)}">` +
    `Remove<span class="sr-only"> ${esc(label)}</span></button>`;
  const shown = (v) => (v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : v);

  function fieldRow(id, n, f, srcs) {
    const v = n.input[f.name];
    const ref = WfGraph.isRef(v) ? v.$ref : "";
    // The current link stays listed even if its type no longer fits (the checker reports it on save).
    const opts = srcs.filter((s) => (s.kind === f.kind && !s.ref.startsWith(`nodes.${id}.`)) || s.ref === ref);
    const label = `${id}.${f.name}`;
    const data = `data-node="${esc(id)}" data-field="${esc(f.name)}"`;
    const value =
      ref || f.kind === "image"
        ? "—"
        : `<input aria-label="Value of ${esc(label)}" ${data} data-kind="${f.kind}" value="${esc(shown(v))}">`;
    return `<tr><td><code>${esc(id)}</code><br><small>${esc(n.model)}</small></td><td>${esc(f.name)}</td>
      <td>${f.kind}</td>
      <td><select aria-label="Source of ${esc(label)}" ${data}>${options(opts, ref, "literal")}</select></td>
      <td>${value}</td><td>${remove("data-remove-node", id, id)}</td></tr>`;
  }

  function renderTable() {
    const srcs = graph.sources();
    const rows = [];
    for (const [id, n] of Object.entries(graph.def.nodes))
      for (const f of graph.fields(id)) rows.push(fieldRow(id, n, f, srcs));
    for (const o of graph.outputNames()) {
      const ref = graph.def.outputs[o]?.$ref ?? "";
      rows.push(`<tr><td>output</td><td>${esc(o)}</td><td>any</td>
        <td><select aria-label="Source of output ${esc(o)}" data-output="${esc(o)}">
          ${options(srcs, ref, "—")}</select></td>
        <td></td><td>${remove("data-remove-output", o, `output ${o}`)}</td></tr>`);
    }
    const body = rows.join("") || '<tr><td colspan="6">No nodes yet.</td></tr>';
    $("wf-table").innerHTML = `<table><thead><tr><th>Node</th><th>Input</th><th>Type</th><th>Source</th><th>Value</th>
      <th><span class="sr-only">Actions</span></th></tr></thead><tbody>${body}</tbody></table>`;
  }
  $("wf-table").addEventListener("change", (e) => {
    const el = e.target;
    try {
      if (el.tagName === "SELECT" && el.dataset.output !== undefined) {
        if (el.value) graph.connect(el.value, { output: el.dataset.output });
        else delete graph.def.outputs[el.dataset.output];
      } else if (el.tagName === "SELECT") {
        const t = { node: el.dataset.node, field: el.dataset.field };
        if (el.value) graph.connect(el.value, t);
        else graph.disconnect(t);
      } else if (el.tagName === "INPUT") {
        graph.setLiteral(el.dataset.node, el.dataset.field, coerce(el.dataset.kind, el));
        return;
      }
    } catch (err) {
      say(`Refused: ${err.message}.`, true);
    }
    render();
  });
  $("wf-table").addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.dataset.removeNode) graph.removeNode(b.dataset.removeNode);
    if (b.dataset.removeOutput) graph.removeOutput(b.dataset.removeOutput);
    render();
  });

  window.WfBuilder = {
    graph,
    editor,
    render,
    api,
    say,
    get etag() {
      return etag;
    },
    set etag(v) {
      etag = v;
    },
    get workflow() {
      return workflow;
    },
    set workflow(v) {
      workflow = v;
    },
  };
  render();
})();

import { CORE_NODES } from "../../../models/comfy-nodes.ts";
import { JobError } from "../errors.ts";
import type { InputFile, RunOutput } from "./types.ts";

/**
 * The ComfyUI HTTP calls that keep no runtime state (docs.comfy.org/essentials/comms_routes), each mapping its
 * failures to the job error kinds the platform records: unreachable is a retryable `backend_crash`, a rejected graph
 * is the caller's `invalid_input`.
 */

/**
 * Model folders whose files a private graph may ask for: those the core loaders read from (models/comfy-nodes.ts),
 * which is all graphFiles can require. ComfyUI lists a folder's legacy paths under its current name (models/unet under
 * diffusion_models, models/clip under text_encoders).
 */
const FILE_FOLDERS = [...new Set(Object.values(CORE_NODES).flatMap((n) => Object.values(n.files ?? {})))];

/**
 * What private graphs may ask of this host: node types ComfyUI registers beyond the core ones (`GET /object_info`)
 * and the model files in its folders (`GET /models/{folder}`), as `folder/file`.
 */
export async function hostCapabilities(url: string): Promise<{ node_types: string[]; files: string[] }> {
  const info = (await (await fetch(`${url}/object_info`)).json()) as Record<string, unknown>;
  const listed = await Promise.all(
    FILE_FOLDERS.map(async (folder) => {
      const r = await fetch(`${url}/models/${folder}`).catch(() => null);
      return r?.ok ? ((await r.json()) as string[]).map((f) => `${folder}/${f}`) : [];
    }),
  );
  const files = listed.flat();
  const custom = Object.keys(info).filter((t) => !CORE_NODES[t]);
  return { node_types: custom.sort().slice(0, 500), files: files.sort().slice(0, 500) };
}

/** `POST /upload/image` (multipart, type input) as `<name>.<ext>`: ComfyUI answers the name LoadImage reads it by. */
export async function uploadImage(url: string, name: string, file: InputFile): Promise<string> {
  const form = new FormData();
  const ext = file.contentType.split("/")[1]?.replace("jpeg", "jpg") ?? "png";
  const blob = new Blob([new Uint8Array(file.bytes)], { type: file.contentType });
  form.append("image", blob, `${name}.${ext}`);
  form.append("type", "input");
  form.append("overwrite", "true");
  let r: Response;
  try {
    r = await fetch(`${url}/upload/image`, { method: "POST", body: form });
  } catch (e) {
    throw new JobError("backend_crash", `comfyui unreachable: ${(e as Error).message}`, true);
  }
  if (!r.ok) throw new JobError("runtime_error", `comfyui /upload/image answered HTTP ${r.status}`, true);
  const b = (await r.json()) as { name: string; subfolder?: string };
  return b.subfolder ? `${b.subfolder}/${b.name}` : b.name;
}

/** `POST /prompt`: queues a filled graph and returns its prompt id; a 400 (ComfyUI's validation) is invalid input. */
export async function queuePrompt(
  url: string,
  body: { prompt: unknown; client_id: string; extra_data: Record<string, unknown> },
): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${url}/prompt`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new JobError("backend_crash", `comfyui unreachable: ${(e as Error).message}`, true);
  }
  const answer = (await res.json().catch(() => ({}))) as {
    prompt_id?: string;
    error?: { message?: string; type?: string };
    node_errors?: unknown;
  };
  if (res.status === 400) {
    const nodes = JSON.stringify(answer.node_errors ?? {}).slice(0, 300);
    throw new JobError(
      "invalid_input",
      `comfyui rejected the workflow: ${answer.error?.message ?? "invalid prompt"} ${nodes}`,
    );
  }
  if (!res.ok || !answer.prompt_id)
    throw new JobError("runtime_error", `comfyui /prompt answered HTTP ${res.status}`, true);
  return answer.prompt_id;
}

type HistoryFile = { filename: string; subfolder: string; type: string; format?: string };

/** The files of a finished prompt (`/history/{id}`, then `/view` for each), from `nodes` only when given. */
export async function fetchOutputs(url: string, promptId: string, nodes?: string[]): Promise<RunOutput["outputs"]> {
  const h = (await (await fetch(`${url}/history/${promptId}`)).json()) as Record<
    string,
    { outputs: Record<string, { images?: HistoryFile[]; gifs?: HistoryFile[] }> }
  >;
  const outputs = h[promptId]?.outputs ?? {};
  // only the declared output nodes' files are the result (a graph may also preview intermediate images)
  const files = Object.entries(outputs)
    .filter(([id]) => !nodes || nodes.includes(id))
    .flatMap(([, o]) => [...(o.images ?? []), ...(o.gifs ?? [])])
    .filter((f) => f.type !== "temp");
  const out: RunOutput["outputs"] = [];
  for (const [i, f] of files.entries()) {
    const q = new URLSearchParams({ filename: f.filename, subfolder: f.subfolder, type: f.type });
    const r = await fetch(`${url}/view?${q}`);
    if (!r.ok) throw new JobError("runtime_error", `comfyui /view answered HTTP ${r.status}`, true);
    const contentType = r.headers.get("content-type") ?? "application/octet-stream";
    const ext = f.filename.split(".").pop() ?? "bin";
    out.push({ name: `output-${i}.${ext}`, contentType, bytes: new Uint8Array(await r.arrayBuffer()) });
  }
  return out;
}

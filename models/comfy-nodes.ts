/**
 * ComfyUI node types this platform knows, with the inputs each requires and the outputs it returns, as ComfyUI's
 * own definitions declare them (comfyanonymous/ComfyUI nodes.py and comfy_extras/nodes_*.py: INPUT_TYPES
 * "required" / io.Schema inputs without optional=True, and RETURN_TYPES / outputs). An input whose type is upper
 * case (MODEL, IMAGE, ...) takes a link `[node, slot]`; the others take a value. Used by the catalog tests, the
 * stand-in ComfyUI server, and the validation of custom models.
 */
export interface NodeDef {
  /** required inputs: name → ComfyUI type (upper case: a link to another node's output) */
  required: Record<string, string>;
  optional?: Record<string, string>;
  /** output types, by slot */
  outputs: string[];
  /** writes files the result is read from (SaveImage and friends) */
  output_node?: boolean;
  /** the model folder a loader reads its `file` inputs from */
  files?: Record<string, string>;
}

const L = {
  MODEL: "MODEL",
  CLIP: "CLIP",
  VAE: "VAE",
  COND: "CONDITIONING",
  LATENT: "LATENT",
  IMAGE: "IMAGE",
  MASK: "MASK",
  CN: "CONTROL_NET",
  CV: "CLIP_VISION",
  CVO: "CLIP_VISION_OUTPUT",
  STYLE: "STYLE_MODEL",
  UPSCALE: "UPSCALE_MODEL",
  SAMPLER: "SAMPLER",
  SIGMAS: "SIGMAS",
} as const;

const sampler = {
  seed: "INT",
  steps: "INT",
  cfg: "FLOAT",
  sampler_name: "COMBO",
  scheduler: "COMBO",
  denoise: "FLOAT",
};

export const CORE_NODES: Record<string, NodeDef> = {
  // loaders
  CheckpointLoaderSimple: {
    required: { ckpt_name: "COMBO" },
    outputs: [L.MODEL, L.CLIP, L.VAE],
    files: { ckpt_name: "checkpoints" },
  },
  ImageOnlyCheckpointLoader: {
    required: { ckpt_name: "COMBO" },
    outputs: [L.MODEL, L.CV, L.VAE],
    files: { ckpt_name: "checkpoints" },
  },
  unCLIPCheckpointLoader: {
    required: { ckpt_name: "COMBO" },
    outputs: [L.MODEL, L.CLIP, L.VAE, L.CV],
    files: { ckpt_name: "checkpoints" },
  },
  UNETLoader: {
    required: { unet_name: "COMBO", weight_dtype: "COMBO" },
    outputs: [L.MODEL],
    files: { unet_name: "diffusion_models" },
  },
  VAELoader: { required: { vae_name: "COMBO" }, outputs: [L.VAE], files: { vae_name: "vae" } },
  CLIPLoader: {
    required: { clip_name: "COMBO", type: "COMBO" },
    optional: { device: "COMBO" },
    outputs: [L.CLIP],
    files: { clip_name: "text_encoders" },
  },
  DualCLIPLoader: {
    required: { clip_name1: "COMBO", clip_name2: "COMBO", type: "COMBO" },
    optional: { device: "COMBO" },
    outputs: [L.CLIP],
    files: { clip_name1: "text_encoders", clip_name2: "text_encoders" },
  },
  TripleCLIPLoader: {
    required: { clip_name1: "COMBO", clip_name2: "COMBO", clip_name3: "COMBO" },
    outputs: [L.CLIP],
    files: { clip_name1: "text_encoders", clip_name2: "text_encoders", clip_name3: "text_encoders" },
  },
  CLIPVisionLoader: { required: { clip_name: "COMBO" }, outputs: [L.CV], files: { clip_name: "clip_vision" } },
  ControlNetLoader: {
    required: { control_net_name: "COMBO" },
    outputs: [L.CN],
    files: { control_net_name: "controlnet" },
  },
  LoraLoader: {
    required: { model: L.MODEL, clip: L.CLIP, lora_name: "COMBO", strength_model: "FLOAT", strength_clip: "FLOAT" },
    outputs: [L.MODEL, L.CLIP],
    files: { lora_name: "loras" },
  },
  LoraLoaderModelOnly: {
    required: { model: L.MODEL, lora_name: "COMBO", strength_model: "FLOAT" },
    outputs: [L.MODEL],
    files: { lora_name: "loras" },
  },
  StyleModelLoader: {
    required: { style_model_name: "COMBO" },
    outputs: [L.STYLE],
    files: { style_model_name: "style_models" },
  },
  UpscaleModelLoader: {
    required: { model_name: "COMBO" },
    outputs: [L.UPSCALE],
    files: { model_name: "upscale_models" },
  },
  // conditioning
  CLIPTextEncode: { required: { text: "STRING", clip: L.CLIP }, outputs: [L.COND] },
  CLIPTextEncodeSDXL: {
    required: {
      clip: L.CLIP,
      width: "INT",
      height: "INT",
      crop_w: "INT",
      crop_h: "INT",
      target_width: "INT",
      target_height: "INT",
      text_g: "STRING",
      text_l: "STRING",
    },
    outputs: [L.COND],
  },
  ConditioningZeroOut: { required: { conditioning: L.COND }, outputs: [L.COND] },
  FluxGuidance: { required: { conditioning: L.COND, guidance: "FLOAT" }, outputs: [L.COND] },
  FluxKontextImageScale: { required: { image: L.IMAGE }, outputs: [L.IMAGE] },
  ReferenceLatent: { required: { conditioning: L.COND }, optional: { latent: L.LATENT }, outputs: [L.COND] },
  ControlNetApplyAdvanced: {
    required: {
      positive: L.COND,
      negative: L.COND,
      control_net: L.CN,
      image: L.IMAGE,
      strength: "FLOAT",
      start_percent: "FLOAT",
      end_percent: "FLOAT",
    },
    optional: { vae: L.VAE },
    outputs: [L.COND, L.COND],
  },
  CLIPVisionEncode: { required: { clip_vision: L.CV, image: L.IMAGE, crop: "COMBO" }, outputs: [L.CVO] },
  StyleModelApply: {
    required: {
      conditioning: L.COND,
      style_model: L.STYLE,
      clip_vision_output: L.CVO,
      strength: "FLOAT",
      strength_type: "COMBO",
    },
    outputs: [L.COND],
  },
  unCLIPConditioning: {
    required: { conditioning: L.COND, clip_vision_output: L.CVO, strength: "FLOAT", noise_augmentation: "FLOAT" },
    outputs: [L.COND],
  },
  SVD_img2vid_Conditioning: {
    required: {
      clip_vision: L.CV,
      init_image: L.IMAGE,
      vae: L.VAE,
      width: "INT",
      height: "INT",
      video_frames: "INT",
      motion_bucket_id: "INT",
      fps: "INT",
      augmentation_level: "FLOAT",
    },
    outputs: [L.COND, L.COND, L.LATENT],
  },
  LTXVImgToVideo: {
    required: {
      positive: L.COND,
      negative: L.COND,
      vae: L.VAE,
      image: L.IMAGE,
      width: "INT",
      height: "INT",
      length: "INT",
      batch_size: "INT",
      strength: "FLOAT",
    },
    outputs: [L.COND, L.COND, L.LATENT],
  },
  LTXVConditioning: {
    required: { positive: L.COND, negative: L.COND, frame_rate: "FLOAT" },
    outputs: [L.COND, L.COND],
  },
  // latents
  EmptyLatentImage: { required: { width: "INT", height: "INT", batch_size: "INT" }, outputs: [L.LATENT] },
  EmptySD3LatentImage: { required: { width: "INT", height: "INT", batch_size: "INT" }, outputs: [L.LATENT] },
  EmptyLTXVLatentVideo: {
    required: { width: "INT", height: "INT", length: "INT", batch_size: "INT" },
    outputs: [L.LATENT],
  },
  VAEEncode: { required: { pixels: L.IMAGE, vae: L.VAE }, outputs: [L.LATENT] },
  VAEEncodeForInpaint: {
    required: { pixels: L.IMAGE, vae: L.VAE, mask: L.MASK, grow_mask_by: "INT" },
    outputs: [L.LATENT],
  },
  SetLatentNoiseMask: { required: { samples: L.LATENT, mask: L.MASK }, outputs: [L.LATENT] },
  VAEDecode: { required: { samples: L.LATENT, vae: L.VAE }, outputs: [L.IMAGE] },
  LatentUpscaleBy: { required: { samples: L.LATENT, upscale_method: "COMBO", scale_by: "FLOAT" }, outputs: [L.LATENT] },
  // sampling
  KSampler: {
    required: { model: L.MODEL, positive: L.COND, negative: L.COND, latent_image: L.LATENT, ...sampler },
    outputs: [L.LATENT],
  },
  KSamplerAdvanced: {
    required: {
      model: L.MODEL,
      add_noise: "COMBO",
      noise_seed: "INT",
      steps: "INT",
      cfg: "FLOAT",
      sampler_name: "COMBO",
      scheduler: "COMBO",
      positive: L.COND,
      negative: L.COND,
      latent_image: L.LATENT,
      start_at_step: "INT",
      end_at_step: "INT",
      return_with_leftover_noise: "COMBO",
    },
    outputs: [L.LATENT],
  },
  SamplerCustom: {
    required: {
      model: L.MODEL,
      add_noise: "BOOLEAN",
      noise_seed: "INT",
      cfg: "FLOAT",
      positive: L.COND,
      negative: L.COND,
      sampler: L.SAMPLER,
      sigmas: L.SIGMAS,
      latent_image: L.LATENT,
    },
    outputs: [L.LATENT, L.LATENT],
  },
  KSamplerSelect: { required: { sampler_name: "COMBO" }, outputs: [L.SAMPLER] },
  LTXVScheduler: {
    required: { steps: "INT", max_shift: "FLOAT", base_shift: "FLOAT", stretch: "BOOLEAN", terminal: "FLOAT" },
    optional: { latent: L.LATENT },
    outputs: [L.SIGMAS],
  },
  SDTurboScheduler: { required: { model: L.MODEL, steps: "INT", denoise: "FLOAT" }, outputs: [L.SIGMAS] },
  VideoLinearCFGGuidance: { required: { model: L.MODEL, min_cfg: "FLOAT" }, outputs: [L.MODEL] },
  ModelSamplingSD3: { required: { model: L.MODEL, shift: "FLOAT" }, outputs: [L.MODEL] },
  ModelSamplingFlux: {
    required: { model: L.MODEL, max_shift: "FLOAT", base_shift: "FLOAT", width: "INT", height: "INT" },
    outputs: [L.MODEL],
  },
  // images
  LoadImage: { required: { image: "COMBO" }, outputs: [L.IMAGE, L.MASK] },
  LoadImageMask: { required: { image: "COMBO", channel: "COMBO" }, outputs: [L.MASK] },
  ImageScale: {
    required: { image: L.IMAGE, upscale_method: "COMBO", width: "INT", height: "INT", crop: "COMBO" },
    outputs: [L.IMAGE],
  },
  ImageScaleBy: { required: { image: L.IMAGE, upscale_method: "COMBO", scale_by: "FLOAT" }, outputs: [L.IMAGE] },
  ImageScaleToTotalPixels: {
    required: { image: L.IMAGE, upscale_method: "COMBO", megapixels: "FLOAT", resolution_steps: "INT" },
    outputs: [L.IMAGE],
  },
  ImagePadForOutpaint: {
    required: { image: L.IMAGE, left: "INT", top: "INT", right: "INT", bottom: "INT", feathering: "INT" },
    outputs: [L.IMAGE, L.MASK],
  },
  ImageUpscaleWithModel: { required: { upscale_model: L.UPSCALE, image: L.IMAGE }, outputs: [L.IMAGE] },
  ImageInvert: { required: { image: L.IMAGE }, outputs: [L.IMAGE] },
  Canny: { required: { image: L.IMAGE, low_threshold: "FLOAT", high_threshold: "FLOAT" }, outputs: [L.IMAGE] },
  GrowMask: { required: { mask: L.MASK, expand: "INT", tapered_corners: "BOOLEAN" }, outputs: [L.MASK] },
  // outputs
  SaveImage: { required: { images: L.IMAGE, filename_prefix: "STRING" }, outputs: [], output_node: true },
  PreviewImage: { required: { images: L.IMAGE }, outputs: [], output_node: true },
  SaveAnimatedWEBP: {
    required: {
      images: L.IMAGE,
      filename_prefix: "STRING",
      fps: "FLOAT",
      lossless: "BOOLEAN",
      quality: "INT",
      method: "COMBO",
    },
    outputs: [],
    output_node: true,
  },
  SaveAnimatedPNG: {
    required: { images: L.IMAGE, filename_prefix: "STRING", fps: "FLOAT", compress_level: "INT" },
    outputs: [],
    output_node: true,
  },
};

/**
 * Popular custom node packs' node types a provider may install (ComfyUI-Manager's most installed packs). Their
 * inputs are not checked here: a graph using them runs only on an agent that declares them.
 */
export const KNOWN_CUSTOM_NODES: Record<string, string> = {
  IPAdapterModelLoader: "ComfyUI_IPAdapter_plus",
  IPAdapterUnifiedLoader: "ComfyUI_IPAdapter_plus",
  IPAdapterAdvanced: "ComfyUI_IPAdapter_plus",
  IPAdapter: "ComfyUI_IPAdapter_plus",
  CannyEdgePreprocessor: "comfyui_controlnet_aux",
  DepthAnythingV2Preprocessor: "comfyui_controlnet_aux",
  DWPreprocessor: "comfyui_controlnet_aux",
  OpenposePreprocessor: "comfyui_controlnet_aux",
  VHS_VideoCombine: "ComfyUI-VideoHelperSuite",
  VHS_LoadVideo: "ComfyUI-VideoHelperSuite",
  FaceDetailer: "ComfyUI-Impact-Pack",
  UltralyticsDetectorProvider: "ComfyUI-Impact-Pack",
  FaceRestoreModelLoader: "facerestore_cf",
  FaceRestoreCFWithModel: "facerestore_cf",
  ICLightConditioning: "ComfyUI-IC-Light",
  LoadAndApplyICLightUnet: "ComfyUI-IC-Light",
  "Image Remove Background (rembg)": "was-node-suite-comfyui",
  "CR Upscale Image": "ComfyUI_Comfyroll_CustomNodes",
  "easy fullLoader": "ComfyUI-Easy-Use",
  UnetLoaderGGUF: "ComfyUI-GGUF",
  DualCLIPLoaderGGUF: "ComfyUI-GGUF",
};

export const OUTPUT_NODE_TYPES = new Set(
  Object.entries(CORE_NODES)
    .filter(([, d]) => d.output_node)
    .map(([k]) => k),
);

/** Node types that take a file the agent uploads (the image inputs of a graph). */
export const IMAGE_INPUT_NODES: Record<string, string> = { LoadImage: "image", LoadImageMask: "image" };

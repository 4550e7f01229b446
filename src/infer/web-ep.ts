// Which onnxruntime-web execution providers the browser page asks for: WebGPU where the browser gives a
// hardware adapter, else wasm. No Node-only imports (the page imports it).

/** What the choice reads of `navigator.gpu` (WebGPU's `GPU`). */
export interface GpuLike {
  requestAdapter(): Promise<AdapterLike | null>;
}

/** What the choice reads of a `GPUAdapter`. */
export interface AdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { vendor?: string; architecture?: string; description?: string };
}

/** `?ep=` of the page: force one provider, or let the adapter decide. */
export const WEB_EP_REQUESTS = ['auto', 'webgpu', 'wasm'] as const;
export type WebEpRequest = (typeof WEB_EP_REQUESTS)[number];

export interface WebEpChoice {
  /** Providers in order of preference for `InferenceSession.create`. */
  providers: ('webgpu' | 'wasm')[];
  /** Why, in words (shown on the page and read by tests). */
  reason: string;
}

/**
 * A software adapter (SwiftShader, what headless Chromium offers with --enable-unsafe-webgpu, or any
 * adapter flagged as fallback) runs WebGPU on the CPU, slower than the wasm provider's SIMD kernels.
 */
export function isSoftwareAdapter(a: AdapterLike): boolean {
  return a.isFallbackAdapter === true || /swiftshader/i.test(`${a.info?.architecture ?? ''} ${a.info?.description ?? ''}`);
}

/** WebGPU (then wasm for the nodes it lacks) on a hardware adapter, else wasm; `request` forces one. */
export async function chooseWebExecutionProviders(gpu: GpuLike | undefined, request: WebEpRequest = 'auto'): Promise<WebEpChoice> {
  if (request === 'wasm') return { providers: ['wasm'], reason: 'wasm requested' };
  if (!gpu) return { providers: ['wasm'], reason: 'no navigator.gpu (WebGPU not exposed by this browser or context)' };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { providers: ['wasm'], reason: 'navigator.gpu.requestAdapter() gave no adapter' };
  const what = [adapter.info?.vendor, adapter.info?.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  if (request === 'webgpu') return { providers: ['webgpu', 'wasm'], reason: `webgpu requested (${what})` };
  if (isSoftwareAdapter(adapter)) return { providers: ['wasm'], reason: `software WebGPU adapter (${what}) is slower than wasm` };
  return { providers: ['webgpu', 'wasm'], reason: `WebGPU adapter ${what}` };
}

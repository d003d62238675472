// Node-only: acquire a WebGPU device through the `webgpu` package (Dawn's node bindings).
// On a machine without a GPU the Vulkan backend can run on SwiftShader, the CPU Vulkan driver that
// Debian's chromium ships: VK_DRIVER_FILES must point at its ICD json before Dawn first loads Vulkan,
// and when the system has no Vulkan loader (libvulkan1) we preload the one beside chromium.
/// <reference types="@webgpu/types" />
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { largeBufferLimits } from "../backend/webgpu/index.js";

export const CHROMIUM_SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const CHROMIUM_VULKAN_LOADER = "/usr/lib/chromium/libvulkan.so.1";
const SYSTEM_VULKAN_LOADERS = ["/usr/lib/x86_64-linux-gnu/libvulkan.so.1", "/usr/lib/aarch64-linux-gnu/libvulkan.so.1", "/usr/lib/libvulkan.so.1", "/usr/lib64/libvulkan.so.1"];
const RTLD_NODELETE = 0x1000; // glibc; keeps the library mapped after node's dlopen gives up on it

export interface NodeGpuOptions {
  /** Vulkan ICD json to use; defaults to $VK_DRIVER_FILES, else chromium's SwiftShader when present. */
  icd?: string;
  powerPreference?: GPUPowerPreference;
}

export interface NodeGpu {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** "vendor architecture description" of the adapter, for logs and bench reports. */
  adapterName: string;
}

let loaderPreloaded = false;
/** Every GPU instance handed out: if Dawn's instance is collected while its devices live, Dawn's threads crash. */
const liveInstances: GPU[] = [];

/** Loads chromium's Vulkan loader into the process when the system has none, so Dawn's dlopen finds it. */
function preloadVulkanLoader(): void {
  if (loaderPreloaded || process.platform !== "linux") return;
  loaderPreloaded = true;
  if (SYSTEM_VULKAN_LOADERS.some((p) => existsSync(p)) || !existsSync(CHROMIUM_VULKAN_LOADER)) return;
  try {
    // not a node addon, so process.dlopen throws "did not self-register" after loading it; with
    // RTLD_GLOBAL | RTLD_NODELETE the library stays and Dawn's dlopen("libvulkan.so.1") reuses it by soname
    process.dlopen({ exports: {} } as NodeJS.Module, CHROMIUM_VULKAN_LOADER, constants.dlopen.RTLD_NOW | RTLD_NODELETE);
  } catch {
    // expected; see above
  }
}

/**
 * A GPUDevice in Node. Throws an error that says what was tried when the `webgpu` package or an
 * adapter is missing; callers that want a fallback (e.g. to wasm) catch it.
 */
export async function requestNodeGpuDevice(opts: NodeGpuOptions = {}): Promise<NodeGpu> {
  const icd = opts.icd ?? process.env.VK_DRIVER_FILES ?? (existsSync(CHROMIUM_SWIFTSHADER_ICD) ? CHROMIUM_SWIFTSHADER_ICD : undefined);
  if (icd !== undefined) process.env.VK_DRIVER_FILES = icd;
  preloadVulkanLoader();
  let mod: { create(options: string[]): GPU };
  try {
    mod = (await import("webgpu")) as unknown as { create(options: string[]): GPU };
  } catch (e) {
    throw new Error(`requestNodeGpuDevice: cannot load the 'webgpu' package (npm install webgpu): ${(e as Error).message}`);
  }
  const gpu = mod.create([]);
  liveInstances.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference });
  if (adapter === null) {
    throw new Error(`requestNodeGpuDevice: no WebGPU adapter (VK_DRIVER_FILES=${icd ?? "unset"}); on Linux without a GPU install chromium (it ships SwiftShader) or libvulkan1 with a Vulkan driver`);
  }
  const device = await adapter.requestDevice({ requiredLimits: largeBufferLimits(adapter) });
  const info = adapter.info;
  const adapterName = [info.vendor, info.architecture, info.description].filter((s) => s).join(" ") || "unknown adapter";
  return { device, adapter, adapterName };
}

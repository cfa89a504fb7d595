import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError, InvalidArgumentError } from '../errors.js';

/** What a caller may ask for. */
export type DeviceOption = 'cpu' | 'cuda' | 'auto';
/** What a model actually runs on. */
export type Device = 'cpu' | 'cuda';

/** The outcome of one availability check, with a sentence saying what was found or what is missing. */
export interface ProbeResult {
  available: boolean;
  detail: string;
}

/** The checks behind 'cuda' and 'auto'; injectable so the decision can be tested without a GPU. */
export interface DeviceProbes {
  /** Whether onnxruntime-node can load its CUDA execution provider (binding support and provider libraries). */
  cudaProvider(): ProbeResult;
  /** Whether an NVIDIA GPU with this index is visible to the process. */
  gpu(deviceId: number): ProbeResult;
}

export interface DeviceSelection {
  device: Device;
  deviceId: number;
  /** Why this device was chosen (for logs and `'auto'` users). */
  reason: string;
}

const CUDA_PLATFORMS = new Set(['linux/x64', 'win32/x64']);

export const CUDA_INSTALL_HINT =
  'install the CUDA 12 build of the provider: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node ' +
  '(npm install --onnxruntime-node-install=cuda12), or with pnpm add onnxruntime-node to onlyBuiltDependencies ' +
  'in pnpm-workspace.yaml and run ONNXRUNTIME_NODE_INSTALL=cuda12 pnpm rebuild onnxruntime-node; the CUDA 12 ' +
  'runtime and cuDNN 9 libraries must also be on the library path';

function providerLibraryNames(): string[] {
  return process.platform === 'win32'
    ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
    : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
}

/** The folders holding onnxruntime-node's native binding (bin/napi-v*\/<platform>/<arch>). */
function bindingDirectories(): string[] {
  let packageDir: string;
  try {
    packageDir = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  } catch {
    return [];
  }
  const bin = join(packageDir, 'bin');
  if (!existsSync(bin)) return [];
  return readdirSync(bin)
    .filter((name) => name.startsWith('napi-v'))
    .map((name) => join(bin, name, process.platform, process.arch))
    .filter((dir) => existsSync(dir));
}

function probeCudaProvider(): ProbeResult {
  const platform = `${process.platform}/${process.arch}`;
  if (!CUDA_PLATFORMS.has(platform)) {
    return {
      available: false,
      detail: `onnxruntime-node has no CUDA execution provider for ${platform} (only linux/x64 and win32/x64)`,
    };
  }
  const listed = typeof ort.listSupportedBackends === 'function' ? ort.listSupportedBackends() : undefined;
  if (listed && !listed.some((backend) => backend.name === 'cuda')) {
    return {
      available: false,
      detail: 'this onnxruntime-node build does not support the CUDA execution provider',
    };
  }
  const directories = bindingDirectories();
  const names = providerLibraryNames();
  for (const dir of directories) {
    const missing = names.filter((name) => !existsSync(join(dir, name)));
    if (missing.length === 0) return { available: true, detail: `CUDA execution provider found in ${dir}` };
  }
  return {
    available: false,
    detail: `the CUDA execution provider libraries (${names.join(', ')}) are not installed beside onnxruntime-node's binding${directories.length ? ` in ${directories.join(', ')}` : ''}`,
  };
}

function probeGpu(deviceId: number): ProbeResult {
  if (process.platform === 'linux') {
    if (existsSync(`/dev/nvidia${deviceId}`))
      return { available: true, detail: `/dev/nvidia${deviceId} exists` };
    if (deviceId === 0 && existsSync('/proc/driver/nvidia/version')) {
      return { available: true, detail: 'the NVIDIA driver is loaded (/proc/driver/nvidia/version)' };
    }
  }
  try {
    const listing = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000, stdio: 'pipe' });
    const gpus = listing.split('\n').filter((line) => line.startsWith('GPU '));
    if (gpus.length > deviceId) return { available: true, detail: `nvidia-smi lists ${gpus[deviceId]}` };
    return {
      available: false,
      detail: `nvidia-smi lists ${gpus.length} GPU(s), so device ${deviceId} does not exist`,
    };
  } catch {
    return {
      available: false,
      detail: `no NVIDIA GPU ${deviceId} is visible (no /dev/nvidia${deviceId}, no NVIDIA driver, no nvidia-smi)`,
    };
  }
}

/** The real probes. Each result is remembered: devices do not come and go during a process. */
export const systemProbes: DeviceProbes = (() => {
  let provider: ProbeResult | undefined;
  const gpus = new Map<number, ProbeResult>();
  return {
    cudaProvider: () => {
      provider ??= probeCudaProvider();
      return provider;
    },
    gpu: (deviceId: number) => {
      let result = gpus.get(deviceId);
      if (!result) {
        result = probeGpu(deviceId);
        gpus.set(deviceId, result);
      }
      return result;
    },
  };
})();

export interface SelectDeviceOptions {
  /** Which GPU, for 'cuda' and 'auto' (default 0). */
  deviceId?: number;
  probes?: DeviceProbes;
}

/**
 * Decides where a model runs. 'cpu' always works; 'cuda' throws `DeviceUnavailableError` naming the missing part
 * and how to install it; 'auto' takes CUDA when both the provider and a GPU are there, else the CPU.
 */
export function selectDevice(
  requested: DeviceOption = 'cpu',
  { deviceId = 0, probes = systemProbes }: SelectDeviceOptions = {},
): DeviceSelection {
  if (requested !== 'cpu' && requested !== 'cuda' && requested !== 'auto') {
    throw new InvalidArgumentError(
      `unknown device ${JSON.stringify(requested)} (expected 'cpu', 'cuda' or 'auto')`,
    );
  }
  if (!Number.isInteger(deviceId) || deviceId < 0) {
    throw new InvalidArgumentError(`deviceId must be an integer >= 0, got ${deviceId}`);
  }
  if (requested === 'cpu') return { device: 'cpu', deviceId: 0, reason: 'the CPU was requested' };
  const provider = probes.cudaProvider();
  const gpu = provider.available ? probes.gpu(deviceId) : undefined;
  if (provider.available && gpu?.available) {
    return { device: 'cuda', deviceId, reason: `${provider.detail}; ${gpu.detail}` };
  }
  const missing = provider.available ? gpu!.detail : provider.detail;
  if (requested === 'auto') return { device: 'cpu', deviceId: 0, reason: `CUDA is not usable: ${missing}` };
  if (!provider.available) {
    throw new DeviceUnavailableError(
      `device 'cuda' is unavailable: ${provider.detail}. To use it, ${CUDA_INSTALL_HINT}`,
    );
  }
  throw new DeviceUnavailableError(
    `device 'cuda' is unavailable: ${gpu!.detail}. The CUDA execution provider is installed, but it needs an NVIDIA GPU and driver; use device 'cpu' or 'auto' on this machine`,
  );
}

/** The execution providers for a selection; the only place that names ONNX Runtime's providers. */
export function executionProvidersFor(
  selection: DeviceSelection,
): ort.InferenceSession.ExecutionProviderConfig[] {
  return selection.device === 'cuda' ? [{ name: 'cuda', deviceId: selection.deviceId }, 'cpu'] : ['cpu'];
}

import { describe, expect, it } from 'vitest';
import { DeviceUnavailableError, InvalidArgumentError } from '../errors.js';
import { type DeviceProbes, executionProvidersFor, selectDevice, systemProbes } from './device.js';

function probes(provider: boolean, gpu: boolean): DeviceProbes & { gpuCalls: number[] } {
  const calls: number[] = [];
  return {
    gpuCalls: calls,
    cudaProvider: () => ({
      available: provider,
      detail: provider ? 'provider found' : 'provider libraries missing',
    }),
    gpu: (id) => {
      calls.push(id);
      return { available: gpu, detail: gpu ? `GPU ${id} visible` : `no NVIDIA GPU ${id} is visible` };
    },
  };
}

describe('selectDevice', () => {
  it("uses the CPU for 'cpu' without probing anything", () => {
    const fake = probes(false, false);
    expect(selectDevice('cpu', { probes: fake }).device).toBe('cpu');
    expect(fake.gpuCalls).toEqual([]);
  });

  it("defaults to 'cpu'", () => {
    expect(selectDevice(undefined, { probes: probes(true, true) }).device).toBe('cpu');
  });

  it("takes CUDA for 'cuda' and 'auto' when the provider and the GPU are there", () => {
    const fake = probes(true, true);
    expect(selectDevice('cuda', { probes: fake, deviceId: 1 })).toMatchObject({
      device: 'cuda',
      deviceId: 1,
    });
    expect(selectDevice('auto', { probes: fake })).toMatchObject({ device: 'cuda', deviceId: 0 });
    expect(fake.gpuCalls).toEqual([1, 0]);
  });

  it("falls back to the CPU for 'auto' and says why", () => {
    const noProvider = selectDevice('auto', { probes: probes(false, true) });
    expect(noProvider.device).toBe('cpu');
    expect(noProvider.reason).toContain('provider libraries missing');
    const noGpu = selectDevice('auto', { probes: probes(true, false) });
    expect(noGpu.device).toBe('cpu');
    expect(noGpu.reason).toContain('no NVIDIA GPU 0');
  });

  it("throws for 'cuda' without the provider, with the install instructions", () => {
    const attempt = () => selectDevice('cuda', { probes: probes(false, true) });
    expect(attempt).toThrow(DeviceUnavailableError);
    expect(attempt).toThrow('provider libraries missing');
    expect(attempt).toThrow('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(attempt).toThrow('onlyBuiltDependencies');
    expect(attempt).toThrow('pnpm rebuild onnxruntime-node');
  });

  it("throws for 'cuda' without a GPU, naming the GPU as the missing part", () => {
    const attempt = () => selectDevice('cuda', { probes: probes(true, false), deviceId: 2 });
    expect(attempt).toThrow(DeviceUnavailableError);
    expect(attempt).toThrow('no NVIDIA GPU 2 is visible');
    expect(attempt).toThrow('needs an NVIDIA GPU');
  });

  it('refuses unknown devices and bad device ids', () => {
    expect(() => selectDevice('gpu' as 'cuda')).toThrow(InvalidArgumentError);
    expect(() => selectDevice('gpu' as 'cuda')).toThrow(
      `unknown device "gpu" (expected 'cpu', 'cuda' or 'auto')`,
    );
    expect(() => selectDevice('cuda', { deviceId: -1, probes: probes(true, true) })).toThrow(
      'deviceId must be an integer >= 0, got -1',
    );
  });

  it('maps selections to execution providers', () => {
    expect(executionProvidersFor({ device: 'cpu', deviceId: 0, reason: '' })).toEqual(['cpu']);
    expect(executionProvidersFor({ device: 'cuda', deviceId: 3, reason: '' })).toEqual([
      { name: 'cuda', deviceId: 3 },
      'cpu',
    ]);
  });

  it('probes this machine without crashing', () => {
    const provider = systemProbes.cudaProvider();
    const gpu = systemProbes.gpu(0);
    expect(typeof provider.available).toBe('boolean');
    expect(provider.detail.length).toBeGreaterThan(0);
    expect(typeof gpu.available).toBe('boolean');
    const auto = selectDevice('auto');
    expect(auto.device).toBe(provider.available && gpu.available ? 'cuda' : 'cpu');
  });
});

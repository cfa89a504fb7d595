import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { fixturePath } from '../testing/fixtures.js';
import { type ConfigSchema, PretrainedConfig } from './config.js';

class VitLikeConfig extends PretrainedConfig {
  static override readonly modelTypes = ['vit'];
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    image_size: { type: 'integer', default: 224 },
    patch_size: { type: 'integer', default: 16 },
    qkv_bias: { type: 'boolean', default: true },
    image_mean: { type: 'number[]', default: [0.5, 0.5, 0.5] },
  };
  declare readonly image_size: number;
  declare readonly patch_size: number;
  declare readonly qkv_bias: boolean;
  declare readonly image_mean: number[];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFolder(name: string, text: string): Promise<string> {
  const folder = join(dir, name);
  await import('node:fs/promises').then((fs) => fs.mkdir(folder, { recursive: true }));
  await writeFile(join(folder, 'config.json'), text);
  return folder;
}

describe('PretrainedConfig', () => {
  it("reads a fixture's config.json with its types, defaults and unknown fields", async () => {
    const config = await VitLikeConfig.fromPretrained(fixturePath('vit-cls'));
    expect(config).toBeInstanceOf(VitLikeConfig);
    expect(config.model_type).toBe('vit');
    expect(config.image_size).toBe(32);
    expect(config.patch_size).toBe(8);
    expect(config.image_mean).toEqual([0.5, 0.5, 0.5]);
    expect((config as unknown as Record<string, unknown>).encoder_stride).toBe(8);
    expect(config.raw.hidden_act).toBe('gelu');
    expect(config.numLabels).toBe(5);
    expect(config.labelOf(2)).toBe('remote control');
    expect(config.labelOf(9)).toBe('LABEL_9');
  });

  it('accepts any model_type in the base class', async () => {
    const config = await PretrainedConfig.fromPretrained(fixturePath('owlv2'));
    expect(config.model_type).toBe('owlv2');
  });

  it('refuses a model_type the class does not handle', async () => {
    const attempt = VitLikeConfig.fromPretrained(fixturePath('owlv2'));
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow('has model_type "owlv2", but VitLikeConfig handles "vit"');
  });

  it('refuses fields of the wrong type, naming field and value', async () => {
    const folder = await configFolder('bad-type', '{"model_type": "vit", "image_size": "32"}');
    await expect(VitLikeConfig.fromPretrained(folder)).rejects.toThrow(
      `${join(folder, 'config.json')}: field image_size must be an integer, got "32"`,
    );
    expect(() => new VitLikeConfig({ model_type: 'vit', image_mean: [0.5, 'x'] })).toThrow(
      'field image_mean must be of type number[], got [0.5,"x"]',
    );
  });

  it('refuses invalid JSON and a missing config.json', async () => {
    const folder = await configFolder('bad-json', '{"model_type": ');
    await expect(PretrainedConfig.fromPretrained(folder)).rejects.toThrow(ConfigError);
    await expect(PretrainedConfig.fromPretrained(folder)).rejects.toThrow('is not valid JSON');
    await expect(PretrainedConfig.fromPretrained(dir)).rejects.toThrow(`${dir} has no config.json`);
    expect(() => new PretrainedConfig([] as unknown as Record<string, unknown>)).toThrow(
      'must hold a JSON object',
    );
  });
});

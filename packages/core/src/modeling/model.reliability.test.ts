import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, InvalidArgumentError, InvalidModelError, ModelNotFoundError } from '../errors.js';
import { ImageProcessor } from '../image/image-processor.js';
import { Image } from '../image/image.js';
import { fixturePath } from '../testing/fixtures.js';
import { PretrainedConfig } from './config.js';
import { PreTrainedModel } from './pretrained-model.js';

// Broken model folders (issue #12): config files and graphs that are missing, unreadable or of the wrong shape
// give typed errors naming the file. Cases already in config.test.ts / pretrained-model.test.ts are not repeated.

class TinyConfig extends PretrainedConfig {
  static override readonly modelTypes = ['vit'];
}
class TinyModel extends PreTrainedModel<TinyConfig> {
  static override readonly configClass = TinyConfig;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-model-rel-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of vit-cls (config, preprocessor config, graph) with files replaced or removed. */
async function brokenCopy(name: string, changes: Record<string, string | null>): Promise<string> {
  const folder = join(root, name);
  await cp(fixturePath('vit-cls'), folder, { recursive: true, filter: (src) => !src.includes('reference') });
  for (const [file, content] of Object.entries(changes)) {
    await rm(join(folder, file), { recursive: true, force: true });
    if (content !== null) await writeFile(join(folder, file), content);
  }
  return folder;
}

describe('config.json', () => {
  it.each([
    ['empty', '', /config\.json is not valid JSON: Unexpected end of JSON input/],
    ['null', 'null', /config\.json must hold a JSON object, got null/],
    ['a list', '[1, 2]', /config\.json must hold a JSON object, got \[1,2\]/],
    ['a string', '"vit"', /config\.json must hold a JSON object, got "vit"/],
    ['binary', '\u0000\u0001\u0002', /config\.json is not valid JSON/],
    [
      'wrong id2label',
      '{"model_type": "vit", "id2label": {"0": 7}}',
      /id2label must map ids to label strings/,
    ],
    [
      'id2label a list',
      '{"model_type": "vit", "id2label": ["a"]}',
      /field id2label must be of type object, got \["a"\]/,
    ],
    [
      'architectures a string',
      '{"model_type": "vit", "architectures": "ViT"}',
      /field architectures must be of type string\[\] or null/,
    ],
    ['model_type a number', '{"model_type": 3}', /has model_type 3, but TinyConfig handles "vit"/],
    ['no model_type', '{}', /has model_type "", but TinyConfig handles "vit"/],
  ])('%s -> ConfigError', async (name, text, message) => {
    const folder = await brokenCopy(`config-${name.replaceAll(' ', '-')}`, { 'config.json': text });
    const attempt = TinyModel.fromPretrained(folder);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('a folder named config.json -> ConfigError naming it', async () => {
    const folder = await brokenCopy('config-dir', { 'config.json': null });
    await mkdir(join(folder, 'config.json'));
    const attempt = TinyModel.fromPretrained(folder);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(`cannot read ${join(folder, 'config.json')}: EISDIR`);
  });

  it('missing -> ConfigError', async () => {
    const folder = await brokenCopy('config-missing', { 'config.json': null });
    await expect(TinyModel.fromPretrained(folder)).rejects.toThrowError(
      new ConfigError(`${folder} has no config.json`),
    );
  });
});

describe('preprocessor_config.json', () => {
  it('missing -> ModelNotFoundError listing what the folder has', async () => {
    const folder = await brokenCopy('pre-missing', { 'preprocessor_config.json': null });
    await expect(ImageProcessor.fromPretrained(folder)).rejects.toThrowError(
      new ModelNotFoundError(
        `preprocessor_config.json not found in the model folder ${folder} (it has: config.json, model.safetensors, onnx/model.onnx)`,
      ),
    );
  });

  it('invalid JSON -> ConfigError', async () => {
    const folder = await brokenCopy('pre-json', { 'preprocessor_config.json': '{"size": {"height": 32,' });
    const attempt = ImageProcessor.fromPretrained(folder);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(`${join(folder, 'preprocessor_config.json')} is not valid JSON`);
  });

  it.each([
    ['do_resize', '"yes"', 'do_resize must be true or false, got "yes"'],
    [
      'image_mean',
      '[0.5, 0.5]',
      'image_mean must be a number or 3 numbers (one per RGB channel), got [0.5,0.5]',
    ],
    [
      'image_std',
      '["a", 1, 1]',
      'image_std must be a number or 3 numbers (one per RGB channel), got ["a",1,1]',
    ],
    ['rescale_factor', '"1/255"', 'rescale_factor must be a number, got "1/255"'],
    ['size', '"big"', 'size must be an int, a list or a dict, got "big"'],
    ['size', '{"height": -3, "width": 32}', 'size.height must be an integer >= 1, got -3'],
    ['resample', '42', 'unknown resample filter 42'],
    ['crop_size', '[1, 2, 3]', 'crop_size must have 1 or 2 elements, got [1,2,3]'],
  ])('%s = %s -> ConfigError naming it', async (field, value, message) => {
    const folder = await brokenCopy(`pre-${field}-${value.length}`, {
      'preprocessor_config.json': `{"${field}": ${value}}`,
    });
    const attempt = ImageProcessor.fromPretrained(folder);
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(`preprocessor config: ${message}`);
  });
});

describe('a preprocessor config whose sizes are valid integers but absurd', () => {
  it('fails at preprocess with InvalidArgumentError, not an allocation error', async () => {
    const folder = await brokenCopy('pre-huge', {
      'preprocessor_config.json': '{"size": {"height": 2147483648, "width": 3}}',
    });
    const processor = await ImageProcessor.fromPretrained(folder);
    const image = new Image(new Uint8Array(2 * 2 * 3), 2, 2, 3);
    await expect(processor.preprocess(image)).rejects.toThrowError(
      new InvalidArgumentError(
        'cannot resize to 3x2147483648: 6442450944 pixels is more than the limit of 178956970',
      ),
    );
    await expect(
      processor.preprocess(image, { doResize: false, doCenterCrop: true, cropSize: 20_000 }),
    ).rejects.toThrow('cannot crop to 20000x20000: 400000000 pixels is more than the limit of 178956970');
  });
});

describe('the graph file', () => {
  it('missing -> ModelNotFoundError listing what the folder has', async () => {
    const folder = await brokenCopy('graph-missing', { 'onnx/model.onnx': null });
    await expect(TinyModel.fromPretrained(folder)).rejects.toThrowError(
      new ModelNotFoundError(
        `${folder} has none of onnx/model.onnx, model.onnx (it has: config.json, model.safetensors, preprocessor_config.json)`,
      ),
    );
  });

  it('not ONNX -> InvalidModelError naming it', async () => {
    const folder = await brokenCopy('graph-text', {
      'onnx/model.onnx': 'version https://git-lfs.github.com/spec/v1\n',
    });
    const attempt = TinyModel.fromPretrained(folder);
    await expect(attempt).rejects.toThrow(InvalidModelError);
    await expect(attempt).rejects.toThrow(
      `ONNX Runtime cannot load ${join(folder, 'onnx', 'model.onnx')} (43 bytes)`,
    );
  });
});

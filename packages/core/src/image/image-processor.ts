import { stat } from 'node:fs/promises';
import { ConfigError, InvalidArgumentError, OrtVisionError } from '../errors.js';
import { readJsonObject } from '../hub/read-json.js';
import { type ResolveOptions, resolveModelFiles } from '../hub/resolve.js';
import { loadPretrained } from '../modeling/load-pretrained.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, optionNames } from '../validation/option-names.js';
import type { Image } from './image.js';
import { type ImageInput, type LoadImageOptions, loadImages } from './load.js';
import { type ResampleFilter, type ResampleInput, toResampleFilter } from './resample.js';
import { type SizeDict, type SizeInput, resizeOutputSize, toSizeDict } from './size.js';
import {
  type ImageSize,
  type PlanarImage,
  centerCrop,
  pixelLookup,
  stackPlanar,
  writePlanar,
} from './transforms.js';

/** preprocessor_config.json as transformers writes it for image processors (unknown fields are kept). */
export interface ImageProcessorConfig {
  image_processor_type?: string;
  processor_class?: string;
  do_resize?: boolean;
  size?: SizeInput;
  /** PIL's code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming. */
  resample?: number;
  do_center_crop?: boolean;
  crop_size?: SizeInput;
  do_rescale?: boolean;
  rescale_factor?: number;
  do_normalize?: boolean;
  image_mean?: number | number[];
  image_std?: number | number[];
  do_convert_rgb?: boolean;
  do_pad?: boolean;
  [field: string]: unknown;
}

/** Call-time overrides of the config, camelCase (`preprocess(images, { size: { height: 64, width: 64 } })`). */
export interface PreprocessOptions {
  doResize?: boolean;
  size?: SizeInput;
  resample?: ResampleInput;
  doCenterCrop?: boolean;
  cropSize?: SizeInput;
  doRescale?: boolean;
  rescaleFactor?: number;
  doNormalize?: boolean;
  imageMean?: number | readonly number[];
  imageStd?: number | readonly number[];
  /**
   * Accepted for config compatibility; images are always converted to RGB (PIL's rules) because every input goes
   * through `loadImage`, which does so like transformers' `load_image`, and the models take 3 channels.
   */
  doConvertRgb?: boolean;
  /** Pad a batch of different sizes bottom/right with 0 after normalization, and return `pixel_mask`. */
  doPad?: boolean;
  /** How inputs that are not yet decoded are loaded (pixel limit, abort signal). */
  load?: LoadImageOptions;
}

/** The keys of `PreprocessOptions`; a subclass with more overrides lists them in its `preprocessOptions`. */
export const PREPROCESS_OPTIONS = optionNames<PreprocessOptions>({
  doResize: true,
  size: true,
  resample: true,
  doCenterCrop: true,
  cropSize: true,
  doRescale: true,
  rescaleFactor: true,
  doNormalize: true,
  imageMean: true,
  imageStd: true,
  doConvertRgb: true,
  doPad: true,
  load: true,
});

/** The settings one `preprocess` call runs with: config, then overrides, resolved and validated. */
export interface ResolvedPreprocessOptions {
  doResize: boolean;
  size: SizeDict;
  resample: ResampleFilter;
  doCenterCrop: boolean;
  cropSize: SizeDict;
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: number[];
  imageStd: number[];
  doConvertRgb: boolean;
  doPad: boolean;
}

/** What `preprocess` returns; `pixel_mask` (1 = image, 0 = padding) only when `doPad` is on. */
export interface ImageProcessorOutput {
  pixel_values: Tensor<'float32'>;
  pixel_mask?: Tensor<'int64'>;
}

/** Where a preprocessor config was read from, for messages: the JSON file's path. */
async function findPreprocessorConfig(idOrPath: string, options: ResolveOptions): Promise<string> {
  if (idOrPath.endsWith('.json') && (await stat(idOrPath).catch(() => undefined))?.isFile()) return idOrPath;
  const { files } = await resolveModelFiles(idOrPath, ['preprocessor_config.json'], options);
  return files['preprocessor_config.json']!;
}

/**
 * preprocessor_config.json of a model folder or Hub id, or a path to the JSON file itself (so a processor can be
 * built from a config that lives outside a model folder).
 */
export async function readPreprocessorConfig(
  idOrPath: string,
  options: ResolveOptions = {},
): Promise<ImageProcessorConfig> {
  return (await readJsonObject(await findPreprocessorConfig(idOrPath, options))) as ImageProcessorConfig;
}

const IMAGENET_STANDARD = [0.5, 0.5, 0.5];

/**
 * Runs a validation of config fields, turning our own errors into a `ConfigError` that names where the config came
 * from (the file, for `fromPretrained`); overrides keep their `InvalidArgumentError`.
 */
function asConfigError<T>(source: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof OrtVisionError && !(error instanceof ConfigError)) {
      throw new ConfigError(`${source}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** A value for a message, as given: NaN and Infinity stay themselves (JSON would print null), strings stay quoted. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `[${value.map(show).join(',')}]`;
  return JSON.stringify(value) ?? String(value);
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean')
    throw new InvalidArgumentError(`${name} must be true or false, got ${show(value)}`);
  return value;
}

function checkPerChannel(value: unknown, name: string): number[] {
  const list = typeof value === 'number' ? [value, value, value] : value;
  if (
    !Array.isArray(list) ||
    list.length !== 3 ||
    list.some((v) => typeof v !== 'number' || !Number.isFinite(v))
  ) {
    throw new InvalidArgumentError(
      `${name} must be a number or 3 numbers (one per RGB channel), got ${show(value)}`,
    );
  }
  return list as number[];
}

/** A standard deviation of 0 makes normalize divide by zero (every value Infinity or NaN); a negative one is a typo. */
function checkStd(value: unknown, name: string): number[] {
  const list = checkPerChannel(value, name);
  if (list.some((v) => v <= 0)) {
    throw new InvalidArgumentError(
      `${name} must be > 0 in every channel (normalize divides by it), got ${show(value)}`,
    );
  }
  return list;
}

/** 0 would map every image to zeros, a negative or non-finite factor to nonsense: only a factor > 0 is a rescale. */
function checkRescaleFactor(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${name} must be a finite number > 0 (1/255 for 8-bit images), got ${show(value)}`,
    );
  }
  return value;
}

/**
 * The image processor of transformers (`BaseImageProcessor` + the common `preprocess`), built from
 * preprocessor_config.json: load (EXIF transpose, RGB) -> resize (PIL-exact, on uint8) -> center crop (zero
 * padding when larger) -> rescale -> normalize -> [batch, 3, H, W] float32, with transformers' float32/float64
 * arithmetic. Model packages subclass it only for what differs (`defaults`, `resizeSize`, `transformImage`).
 *
 * @example
 * ```ts
 * const processor = await ImageProcessor.fromPretrained('./vit-local');
 * const { pixel_values } = await processor.preprocess(['cats.png', 'dog.jpg'], { doNormalize: false });
 * console.log(pixel_values.dims); // [2, 3, 224, 224]
 * ```
 */
export class ImageProcessor {
  /** Values used where preprocessor_config.json has no field (transformers' `__init__` defaults). */
  static readonly defaults: Readonly<ImageProcessorConfig> = {
    do_resize: true,
    size: { height: 224, width: 224 },
    resample: 2,
    do_center_crop: false,
    crop_size: { height: 224, width: 224 },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: IMAGENET_STANDARD,
    image_std: IMAGENET_STANDARD,
    do_convert_rgb: true,
    do_pad: false,
  };

  /** How a bare int `size` is read (`get_size_dict(default_to_square=...)`); crop sizes are always square. */
  static readonly sizeDefaultToSquare: boolean = true;

  /** The valid keys of `preprocess` overrides (an unknown key is an error naming the closest one). */
  static readonly preprocessOptions: readonly string[] = PREPROCESS_OPTIONS;

  /** The config as loaded, with the class defaults filled in. */
  readonly config: Readonly<ImageProcessorConfig>;
  /** Where the config came from (its file for `fromPretrained`), as `ConfigError` messages name it. */
  protected readonly configSource: string;
  private readonly base: ResolvedPreprocessOptions;

  /**
   * @param config preprocessor_config.json's fields; missing ones take the class `defaults`.
   * @param source where the config came from, named by `ConfigError` messages (`fromPretrained` passes the file).
   */
  constructor(config: ImageProcessorConfig = {}, source = 'preprocessor config') {
    const ctor = this.constructor as typeof ImageProcessor;
    this.config = Object.freeze({ ...ctor.defaults, ...stripNulls(config, source) });
    this.configSource = source;
    this.base = asConfigError(source, () => this.resolveConfig(this.config));
  }

  /** For subclasses that read more fields: runs `check`, reporting its errors as a `ConfigError` naming the file. */
  protected checkConfig<T>(check: () => T): T {
    return asConfigError(this.configSource, check);
  }

  /**
   * Reads `preprocessor_config.json` from a model folder or Hub id (or the file itself); a field with a bad value is
   * a `ConfigError` naming the file and the field.
   */
  static async fromPretrained<T extends ImageProcessor>(
    this: new (
      config: ImageProcessorConfig,
      source?: string,
    ) => T,
    idOrPath: string,
    options: ResolveOptions = {},
  ): Promise<T> {
    const { config, path } = await loadPretrained(
      `${this.name}.fromPretrained`,
      idOrPath,
      options,
      async (checked) => {
        const path = await findPreprocessorConfig(idOrPath, checked);
        return { config: (await readJsonObject(path)) as ImageProcessorConfig, path };
      },
    );
    return new this(config, path);
  }

  private resolveConfig(config: ImageProcessorConfig): ResolvedPreprocessOptions {
    const ctor = this.constructor as typeof ImageProcessor;
    return {
      doResize: checkBoolean(config.do_resize, 'do_resize'),
      size: toSizeDict(config.size as SizeInput, { defaultToSquare: ctor.sizeDefaultToSquare, name: 'size' }),
      resample: toResampleFilter(config.resample as ResampleInput),
      doCenterCrop: checkBoolean(config.do_center_crop, 'do_center_crop'),
      cropSize: toSizeDict(config.crop_size as SizeInput, { defaultToSquare: true, name: 'crop_size' }),
      doRescale: checkBoolean(config.do_rescale, 'do_rescale'),
      rescaleFactor: checkRescaleFactor(config.rescale_factor, 'rescale_factor'),
      doNormalize: checkBoolean(config.do_normalize, 'do_normalize'),
      imageMean: checkPerChannel(config.image_mean, 'image_mean'),
      imageStd: checkStd(config.image_std, 'image_std'),
      doConvertRgb: checkBoolean(config.do_convert_rgb, 'do_convert_rgb'),
      doPad: checkBoolean(config.do_pad, 'do_pad'),
    };
  }

  /** The config merged with call-time overrides, validated. */
  resolveOptions(overrides: PreprocessOptions = {}): ResolvedPreprocessOptions {
    const ctor = this.constructor as typeof ImageProcessor;
    const o = checkOptions(overrides, ctor.preprocessOptions, `${ctor.name}.preprocess`);
    const pick = <K extends keyof ResolvedPreprocessOptions>(
      key: K,
      value: unknown,
      convert: (v: unknown) => ResolvedPreprocessOptions[K],
    ): ResolvedPreprocessOptions[K] => (value === undefined ? this.base[key] : convert(value));
    return {
      doResize: pick('doResize', o.doResize, (v) => checkBoolean(v, 'doResize')),
      size: pick('size', o.size, (v) =>
        toSizeDict(v as SizeInput, { defaultToSquare: ctor.sizeDefaultToSquare, name: 'size' }),
      ),
      resample: pick('resample', o.resample, (v) => toResampleFilter(v as ResampleInput)),
      doCenterCrop: pick('doCenterCrop', o.doCenterCrop, (v) => checkBoolean(v, 'doCenterCrop')),
      cropSize: pick('cropSize', o.cropSize, (v) =>
        toSizeDict(v as SizeInput, { defaultToSquare: true, name: 'cropSize' }),
      ),
      doRescale: pick('doRescale', o.doRescale, (v) => checkBoolean(v, 'doRescale')),
      rescaleFactor: pick('rescaleFactor', o.rescaleFactor, (v) => checkRescaleFactor(v, 'rescaleFactor')),
      doNormalize: pick('doNormalize', o.doNormalize, (v) => checkBoolean(v, 'doNormalize')),
      imageMean: pick('imageMean', o.imageMean, (v) => checkPerChannel(v, 'imageMean')),
      imageStd: pick('imageStd', o.imageStd, (v) => checkStd(v, 'imageStd')),
      doConvertRgb: pick('doConvertRgb', o.doConvertRgb, (v) => checkBoolean(v, 'doConvertRgb')),
      doPad: pick('doPad', o.doPad, (v) => checkBoolean(v, 'doPad')),
    };
  }

  /** The (height, width) an image is resized to; subclasses change how `size` is read. */
  protected resizeSize(image: Image, options: ResolvedPreprocessOptions): ImageSize {
    return resizeOutputSize(image.height, image.width, options.size);
  }

  /** The crop applied when `doCenterCrop` is on (transformers' `center_crop` to `crop_size`). */
  protected cropSize(_image: Image, options: ResolvedPreprocessOptions): ImageSize {
    const { cropSize } = options;
    if (!('height' in cropSize)) {
      throw new InvalidArgumentError(`crop_size must have height and width, got ${JSON.stringify(cropSize)}`);
    }
    return cropSize;
  }

  /** The uint8 geometry of one RGB image: resize, then center crop (transformers' order). */
  protected transformImage(image: Image, options: ResolvedPreprocessOptions): Image {
    let out = image;
    if (options.doResize) {
      const { height, width } = this.resizeSize(out, options);
      out = out.resize(width, height, options.resample);
    }
    if (options.doCenterCrop) out = centerCrop(out, this.cropSize(out, options));
    return out;
  }

  /**
   * Images -> `{ pixel_values }` [batch, 3, H, W] float32 (HF's `__call__` / `preprocess`). Accepts one input or
   * a list: paths, URLs, Buffers, raw pixels or `Image`s. Images of different sizes need `doPad` (or a
   * resize/crop that makes them equal).
   */
  async preprocess(
    images: ImageInput | readonly ImageInput[],
    overrides: PreprocessOptions = {},
  ): Promise<ImageProcessorOutput> {
    const options = this.resolveOptions(overrides);
    const loaded = await loadImages(images, overrides.load);
    return this.preprocessImages(loaded, options);
  }

  /** The synchronous part of `preprocess`, on decoded images. */
  preprocessImages(images: readonly Image[], options: ResolvedPreprocessOptions): ImageProcessorOutput {
    if (images.length === 0) throw new InvalidArgumentError('preprocess needs at least one image');
    const tables = pixelLookup(3, {
      rescaleFactor: options.doRescale ? options.rescaleFactor : undefined,
      mean: options.doNormalize ? options.imageMean : undefined,
      std: options.doNormalize ? options.imageStd : undefined,
    });
    const planes: PlanarImage[] = images.map((image) => {
      const out = this.transformImage(image.toRGB(), options);
      const data = new Float32Array(out.width * out.height * 3);
      writePlanar(out, tables, data);
      return { data, channels: 3, height: out.height, width: out.width };
    });
    if (!options.doPad) return { pixel_values: stackPlanar(planes) };
    const padTo = {
      height: Math.max(...planes.map((p) => p.height)),
      width: Math.max(...planes.map((p) => p.width)),
    };
    const mask = new BigInt64Array(planes.length * padTo.height * padTo.width);
    for (const [index, plane] of planes.entries()) {
      for (let y = 0; y < plane.height; y++) {
        const row = (index * padTo.height + y) * padTo.width;
        mask.fill(1n, row, row + plane.width);
      }
    }
    return {
      pixel_values: stackPlanar(planes, { padTo }),
      pixel_mask: new Tensor('int64', mask, [planes.length, padTo.height, padTo.width]),
    };
  }
}

function stripNulls(config: ImageProcessorConfig, source: string): ImageProcessorConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError(
      `${source}: an image processor config must be an object, got ${JSON.stringify(config)}`,
    );
  }
  // transformers treats a null field as "use the default".
  return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== null)) as ImageProcessorConfig;
}

import {
  type CLIPTextInputs,
  CLIPTextTowerModel,
  CLIPTowerModel,
  type CheckpointGraphs,
  InputShapeError,
  type ModelClassRegistry,
  ModelNotFoundError,
  type NamedTensors,
  type RunOptions,
  Tensor,
  centerToCorners,
  graphOutput,
  iouWithEach,
} from '@ortvision/core';
import { Owlv2Config } from './config.js';
import { OWLV2_GRAPH_VERSION, owlv2GraphBuilders } from './graph.js';

// What each class builds from a checkpoint: every class reads Owlv2ForObjectDetection's keys (the towers under
// `owlv2.`, the heads at the top; a checkpoint of Owlv2Model alone serves the text tower). No graph computes
// Owlv2Model.forward's contrastive logits, so visual_projection and logit_scale are never read; a class that builds
// some of the graphs leaves the others' weights unread.
const unusedContrastive = [/(^|\.)visual_projection\./, /(^|\.)logit_scale$/];
const unusedVisionSide = [/(^|\.)vision_model\./, /^(class_head|box_head|objectness_head|layer_norm)\./];
const unusedTextSide = [/(^|\.)text_model\./, /(^|\.)text_projection\./];
// Without class_head.onnx, the class head's dense0 (vision_model's class_embeds) is all that is read of it.
const unusedQueryScoring = [/^class_head\.logit_(shift|scale)\./];

function checkpointGraphs(
  graphs: CheckpointGraphs<Owlv2Config>['graphs'],
  ignoreUnused: readonly RegExp[],
): CheckpointGraphs<Owlv2Config> {
  return {
    version: OWLV2_GRAPH_VERSION,
    baseModelPrefix: 'owlv2',
    expectsPrefix: true,
    ignoreUnused: [...unusedContrastive, ...ignoreUnused],
    graphs,
  };
}

/** The split graphs are not on the Hub: README.md ("ONNX graphs") has the export recipe. */
const SPLIT_HINT =
  'image-guided detection and embed-once-query-many need the split graphs onnx/text_model.onnx, onnx/vision_model.onnx and onnx/class_head.onnx (see the export recipe in the @ortvision/owlv2 README)';

/** The inputs of text-queried detection (what `Owlv2Processor.process` returns). */
export type Owlv2DetectionInputs = {
  /** [batch * queries, seq] int64, image-major. */
  input_ids: Tensor<'int64'>;
  attention_mask: Tensor<'int64'>;
  /** [batch, 3, S, S] float32. */
  pixel_values: Tensor<'float32'>;
};

/** Python's `Owlv2ObjectDetectionOutput` (the tensors model.onnx returns). */
export interface Owlv2DetectionOutput extends NamedTensors {
  /** [batch, boxes, queries]: -1e6 where a query is masked. */
  logits: Tensor<'float32'>;
  /** [batch, boxes, 4]: (cx, cy, w, h) relative to the padded square. */
  pred_boxes: Tensor<'float32'>;
}

/** What the vision side gives for each image, computed once and queried many times (`embedImage`). */
export interface Owlv2ImageEmbeddings extends NamedTensors {
  /** [batch, boxes, vision hidden] (the feature map, row-major). */
  image_embeds: Tensor<'float32'>;
  /** [batch, boxes, 4]: (cx, cy, w, h) relative to the padded square. */
  pred_boxes: Tensor<'float32'>;
  /** [batch, boxes]. */
  objectness_logits: Tensor<'float32'>;
  /** [batch, boxes, projection]: the class head's embeddings, NOT normalized (image-guided query selection). */
  class_embeds: Tensor<'float32'>;
}

/** Query embeddings for the class head: text queries (`embedText`) or image queries (`embedImageQuery`). */
export interface Owlv2QueryEmbeddings {
  /** [batch, queries, projection]. */
  query_embeds: Tensor<'float32'>;
  /** [batch, queries] bool: false masks a query (logits -1e6). */
  query_mask: Tensor<'bool'>;
}

/** One query image's choice of box in `embedImageQuery` (Python's `embed_image_query`), step by step. */
export interface ImageQuerySelection {
  /** IoU of each predicted box with the whole image [0, 0, 1, 1] (generalized IoU when all are 0). */
  ious: Float32Array;
  giouFallback: boolean;
  /** 0.8 * max(ious): boxes at or above it are candidates. */
  iouThreshold: number;
  selectedIndices: number[];
  /** Mean of all the image's class embeddings. */
  meanClassEmbed: Float32Array;
  /** Each candidate's class embedding . meanClassEmbed. */
  meanSim: Float32Array;
  /** The candidate least like the mean: the object, not the background. */
  bestBoxIndex: number;
  queryEmbed: Float32Array;
}

/** Python's `Owlv2ImageGuidedObjectDetectionOutput`, plus the query selection. */
export interface Owlv2ImageGuidedOutput {
  /** [batch, boxes, 1]. */
  logits: Tensor<'float32'>;
  target_pred_boxes: Tensor<'float32'>;
  query_pred_boxes: Tensor<'float32'>;
  /** [batch, 1, projection]: the chosen class embedding of each query image. */
  query_embeds: Tensor<'float32'>;
  /** [batch, boxes, projection] normalized class embeddings of the targets. */
  class_embeds: Tensor<'float32'>;
  image_embeds: Tensor<'float32'>;
  query_image_embeds: Tensor<'float32'>;
  /** How each query image's box was chosen. */
  selections: ImageQuerySelection[];
}

function checkRank(tensor: Tensor, rank: number, name: string, what: string): void {
  if (tensor.dims.length !== rank) {
    throw new InputShapeError(`${name} must be ${what}, got [${tensor.dims.join(', ')}]`);
  }
}

/** `input_ids[:, 0] > 0` per query, as the model masks queries (the " " padding query starts with BOS: kept). */
export function queryMaskOf(inputIds: Tensor<'int64'>, batch: number): Tensor<'bool'> {
  checkRank(inputIds, 2, 'input_ids', '[batch * queries, seq]');
  const [texts, seq] = inputIds.dims as [number, number];
  if (batch < 1 || texts % batch !== 0) {
    throw new InputShapeError(
      `input_ids holds ${texts} queries, which does not split evenly over ${batch} images: pass the same number of queries per image`,
    );
  }
  const mask = new Uint8Array(texts);
  for (let i = 0; i < texts; i++) mask[i] = inputIds.data[i * seq]! > 0n ? 1 : 0;
  return new Tensor('bool', mask, [batch, texts / batch]);
}

/**
 * Python's `embed_image_query` on the vision graph's outputs for one query image `i`: the boxes that overlap the
 * whole image most (IoU >= 0.8 max), and among them the one whose un-normalized class embedding is least like the
 * image's mean embedding (fixture owlv2, pipeline case `image-guided-detection`, `embed_image_query`).
 */
export function selectImageQuery(query: Owlv2ImageEmbeddings, i: number): ImageQuerySelection {
  const [, boxes, dim] = query.class_embeds.dims as [number, number, number];
  const whole = [0, 0, 1, 1];
  const corners = centerToCorners(query.pred_boxes.data.subarray(i * boxes * 4, (i + 1) * boxes * 4));
  let ious = iouWithEach(whole, corners);
  const giouFallback = ious.every((v) => v === 0);
  if (giouFallback) ious = iouWithEach(whole, corners, { generalized: true });
  let max = Number.NEGATIVE_INFINITY;
  for (const v of ious) max = Math.max(max, v);
  const iouThreshold = Math.fround(max * 0.8);
  const selectedIndices: number[] = [];
  for (let n = 0; n < boxes; n++) if (ious[n]! >= iouThreshold) selectedIndices.push(n);
  const embeds = query.class_embeds.data.subarray(i * boxes * dim, (i + 1) * boxes * dim);
  const meanClassEmbed = new Float32Array(dim);
  for (let d = 0; d < dim; d++) {
    let sum = 0;
    for (let n = 0; n < boxes; n++) sum += embeds[n * dim + d]!;
    meanClassEmbed[d] = sum / boxes;
  }
  const meanSim = new Float32Array(selectedIndices.length);
  let best = 0; // argmin: the first of equal values, as torch.argmin
  selectedIndices.forEach((n, k) => {
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += embeds[n * dim + d]! * meanClassEmbed[d]!;
    meanSim[k] = dot;
    if (meanSim[k]! < meanSim[best]!) best = k;
  });
  const bestBoxIndex = selectedIndices[best]!;
  return {
    ious,
    giouFallback,
    iouThreshold,
    selectedIndices,
    meanClassEmbed,
    meanSim,
    bestBoxIndex,
    queryEmbed: embeds.slice(bestBoxIndex * dim, (bestBoxIndex + 1) * dim),
  };
}

/**
 * OWLv2's text tower with its projection (`text_model.onnx`): queries -> L2-normalized `text_embeds`
 * [num_texts, projection], the embeddings the detection head compares with image regions.
 *
 * @example
 * ```ts
 * const textModel = await Owlv2TextModel.fromPretrained('./owlv2-split');
 * const { text_embeds } = await textModel.forward(processor.tokenize(['a cat', 'a dog']));
 * ```
 */
export class Owlv2TextModel extends CLIPTextTowerModel<Owlv2Config> {
  static override readonly configClass = Owlv2Config;
  static override readonly missingGraphHint = SPLIT_HINT;
  static override readonly checkpointGraphs = checkpointGraphs(
    owlv2GraphBuilders.Owlv2TextModel,
    unusedVisionSide,
  );
}

/**
 * OWLv2's image side (`vision_model.onnx`): pixel_values -> per-patch `image_embeds`, `pred_boxes`,
 * `objectness_logits` and un-normalized `class_embeds`.
 *
 * @example
 * ```ts
 * const visionModel = await Owlv2VisionModel.fromPretrained('./owlv2-split');
 * const { pred_boxes, objectness_logits } = await visionModel.forward({ pixel_values });
 * ```
 */
export class Owlv2VisionModel extends CLIPTowerModel<Owlv2Config> {
  static override readonly configClass = Owlv2Config;
  static override readonly missingGraphHint = SPLIT_HINT;
  static override readonly checkpointGraphs = checkpointGraphs(owlv2GraphBuilders.Owlv2VisionModel, [
    ...unusedTextSide,
    ...unusedQueryScoring,
  ]);
  static override readonly graphs = { vision_model: 'vision_model' };
  static override readonly graphGroups = [['vision_model']];

  override async forward(
    inputs: { pixel_values: Tensor<'float32'> },
    options?: RunOptions,
  ): Promise<Owlv2ImageEmbeddings> {
    const pixel_values = this.pixelValues(inputs.pixel_values);
    return visionOutputs(await this.runTower('vision_model', { pixel_values }, options));
  }
}

function visionOutputs(outputs: NamedTensors): Owlv2ImageEmbeddings {
  return {
    image_embeds: graphOutput(outputs, 'image_embeds', 'vision_model'),
    pred_boxes: graphOutput(outputs, 'pred_boxes', 'vision_model'),
    objectness_logits: graphOutput(outputs, 'objectness_logits', 'vision_model'),
    class_embeds: graphOutput(outputs, 'class_embeds', 'vision_model'),
  };
}

/**
 * OWLv2's two towers (`text_model.onnx` + `vision_model.onnx`): `getTextFeatures` and `getImageFeatures`.
 *
 * @example
 * ```ts
 * const model = await Owlv2Model.fromPretrained('./owlv2-split');
 * const textEmbeds = await model.getTextFeatures(processor.tokenize(['a cat']));
 * const { class_embeds } = await model.getImageFeatures(pixel_values);
 * ```
 */
export class Owlv2Model extends CLIPTowerModel<Owlv2Config> {
  static override readonly configClass = Owlv2Config;
  static override readonly missingGraphHint = SPLIT_HINT;
  static override readonly checkpointGraphs = checkpointGraphs(
    owlv2GraphBuilders.Owlv2Model,
    unusedQueryScoring,
  );
  static override readonly graphs = { text_model: 'text_model', vision_model: 'vision_model' };
  static override readonly graphGroups = [['text_model', 'vision_model']];

  /** L2-normalized query embeddings [num_texts, projection]. */
  getTextFeatures(inputs: CLIPTextInputs, options?: RunOptions): Promise<Tensor<'float32'>> {
    return this.textEmbeddings(inputs, options);
  }

  /** Per-patch features, boxes, objectness and class embeddings. */
  async getImageFeatures(
    pixelValues: Tensor<'float32'>,
    options?: RunOptions,
  ): Promise<Owlv2ImageEmbeddings> {
    const pixel_values = this.pixelValues(pixelValues);
    return visionOutputs(await this.runTower('vision_model', { pixel_values }, options));
  }

  /** Both towers: `text_embeds` [num_texts, projection] and the image side's tensors. */
  override async forward(inputs: Owlv2DetectionInputs): Promise<NamedTensors> {
    const [textEmbeds, image] = await Promise.all([
      this.getTextFeatures(inputs),
      this.getImageFeatures(inputs.pixel_values),
    ]);
    return { text_embeds: textEmbeds, ...image };
  }
}

/**
 * OWLv2 open-vocabulary object detection (`Owlv2ForObjectDetection`): text-queried detection through
 * `model.onnx` (the Hub/transformers.js layout) or the split graphs, image-guided detection, and embed-once
 * query-many through the split graphs (`text_model`, `vision_model`, `class_head`).
 *
 * @example
 * ```ts
 * const model = await Owlv2ForObjectDetection.fromPretrained('onnx-community/owlv2-base-patch16-ensemble');
 * const inputs = await processor.process({ images: 'street.jpg', text: [['a bus', 'a bicycle']] });
 * const outputs = await model.forward(inputs);
 * const [found] = processor.postProcessObjectDetection(outputs, { threshold: 0.2, targetSizes: [[side, side]] });
 * ```
 */
export class Owlv2ForObjectDetection extends CLIPTowerModel<Owlv2Config> {
  static override readonly configClass = Owlv2Config;
  static override readonly missingGraphHint = SPLIT_HINT;
  static override readonly checkpointGraphs = checkpointGraphs(
    owlv2GraphBuilders.Owlv2ForObjectDetection,
    [],
  );
  static override readonly graphs = {
    model: 'model',
    text_model: 'text_model',
    vision_model: 'vision_model',
    class_head: 'class_head',
  };
  static override readonly graphGroups = [['model'], ['text_model', 'vision_model', 'class_head']];

  /**
   * Text-queried detection (Python's `forward`): `model.onnx` when the folder has it, else the split graphs
   * (text_model + vision_model + class_head, the same numbers: fixture case `compose-text-queried`).
   */
  override async forward(inputs: Owlv2DetectionInputs, options?: RunOptions): Promise<Owlv2DetectionOutput> {
    this.#checkInputs(inputs);
    let outputs: NamedTensors;
    try {
      outputs = await this.runGraph(
        'model',
        {
          input_ids: inputs.input_ids,
          attention_mask: inputs.attention_mask,
          pixel_values: inputs.pixel_values,
        },
        options,
      );
    } catch (error) {
      if (!(error instanceof ModelNotFoundError)) throw error;
      return this.forwardSplit(inputs);
    }
    return {
      ...outputs,
      logits: graphOutput(outputs, 'logits', 'model'),
      pred_boxes: graphOutput(outputs, 'pred_boxes', 'model'),
    };
  }

  /** Text-queried detection through the split graphs, with model.onnx's output names and shapes. */
  async forwardSplit(inputs: Owlv2DetectionInputs): Promise<Owlv2DetectionOutput> {
    this.#checkInputs(inputs);
    const batch = inputs.pixel_values.dims[0]!;
    const [queries, image] = await Promise.all([
      this.embedText(inputs, { batchSize: batch }),
      this.embedImage(inputs.pixel_values),
    ]);
    const out = await this.detect(image, queries);
    const [, boxes, hidden] = image.image_embeds.dims as [number, number, number];
    const side = Math.round(Math.sqrt(boxes));
    return {
      ...out,
      text_embeds: queries.query_embeds,
      image_embeds:
        side * side === boxes ? image.image_embeds.reshape([batch, side, side, hidden]) : image.image_embeds,
    };
  }

  #checkInputs(inputs: Owlv2DetectionInputs): void {
    const { input_ids, attention_mask, pixel_values } = inputs;
    if (!input_ids || !attention_mask || !pixel_values) {
      throw new InputShapeError(
        'detection needs input_ids, attention_mask and pixel_values (Owlv2Processor.process with text and images)',
      );
    }
    this.pixelValues(pixel_values);
    queryMaskOf(input_ids, pixel_values.dims[0]!);
  }

  /**
   * Query embeddings from tokenized text (`Owlv2Processor.tokenize`): `query_embeds` [batch, queries, projection]
   * (`batchSize` images sharing the rows image-major; default 1) and `query_mask` (`input_ids[:, 0] > 0`).
   */
  async embedText(
    inputs: CLIPTextInputs,
    { batchSize = 1 }: { batchSize?: number } = {},
  ): Promise<Owlv2QueryEmbeddings> {
    const query_mask = queryMaskOf(this.textFeeds(inputs).input_ids, batchSize);
    const textEmbeds = await this.textEmbeddings(inputs);
    const [texts, dim] = textEmbeds.dims as [number, number];
    return { query_embeds: textEmbeds.reshape([batchSize, texts / batchSize, dim]), query_mask };
  }

  /** The image side, once per image: features, boxes, objectness and class embeddings (`vision_model.onnx`). */
  async embedImage(pixelValues: Tensor<'float32'>): Promise<Owlv2ImageEmbeddings> {
    const pixel_values = this.pixelValues(pixelValues);
    return visionOutputs(await this.runTower('vision_model', { pixel_values }));
  }

  /** Python's `class_predictor` (`class_head.onnx`): logits [batch, boxes, queries] and normalized class_embeds. */
  async classPredictor(
    imageEmbeds: Tensor<'float32'>,
    queryEmbeds: Tensor<'float32'>,
    queryMask?: Tensor<'bool'>,
  ): Promise<{ logits: Tensor<'float32'>; class_embeds: Tensor<'float32'> }> {
    checkRank(imageEmbeds, 3, 'image_embeds', '[batch, boxes, hidden]');
    checkRank(queryEmbeds, 3, 'query_embeds', '[batch, queries, projection]');
    const [batch, queries] = queryEmbeds.dims as [number, number];
    if (imageEmbeds.dims[0] !== batch) {
      throw new InputShapeError(
        `image_embeds has ${imageEmbeds.dims[0]} images but query_embeds has ${batch}: pass one set of queries per image`,
      );
    }
    const mask = queryMask ?? new Tensor('bool', new Uint8Array(batch * queries).fill(1), [batch, queries]);
    if (mask.dims.join() !== [batch, queries].join()) {
      throw new InputShapeError(`query_mask must be [${batch}, ${queries}], got [${mask.dims.join(', ')}]`);
    }
    const outputs = await this.runTower('class_head', {
      image_embeds: imageEmbeds,
      query_embeds: queryEmbeds,
      query_mask: mask,
    });
    return {
      logits: graphOutput(outputs, 'logits', 'class_head'),
      class_embeds: graphOutput(outputs, 'class_embeds', 'class_head'),
    };
  }

  /**
   * Detection from embeddings computed before: an image embedded once (`embedImage`) queried with any text or
   * image queries through the class head alone. The result goes to `postProcessObjectDetection`.
   */
  async detect(image: Owlv2ImageEmbeddings, queries: Owlv2QueryEmbeddings): Promise<Owlv2DetectionOutput> {
    const { logits, class_embeds } = await this.classPredictor(
      image.image_embeds,
      queries.query_embeds,
      queries.query_mask,
    );
    return {
      logits,
      pred_boxes: image.pred_boxes,
      objectness_logits: image.objectness_logits,
      class_embeds,
    };
  }

  /**
   * Python's `embed_image_query` on embedded query images: one query embedding per image ([batch, 1, projection],
   * mask all true) and how each was chosen.
   */
  embedImageQuery(query: Owlv2ImageEmbeddings): Owlv2QueryEmbeddings & { selections: ImageQuerySelection[] } {
    const [batch, , dim] = query.class_embeds.dims as [number, number, number];
    const selections = Array.from({ length: batch }, (_, i) => selectImageQuery(query, i));
    const data = new Float32Array(batch * dim);
    selections.forEach((s, i) => data.set(s.queryEmbed, i * dim));
    return {
      query_embeds: new Tensor('float32', data, [batch, 1, dim]),
      query_mask: new Tensor('bool', new Uint8Array(batch).fill(1), [batch, 1]),
      selections,
    };
  }

  /**
   * Python's `image_guided_detection`: find in each target image what its query image shows. Runs the vision
   * graph on both, picks each query image's box (`embedImageQuery`), and scores the targets' boxes with the class
   * head. The result goes to `postProcessImageGuidedDetection`.
   */
  async imageGuidedDetection(
    pixelValues: Tensor<'float32'> | Owlv2ImageEmbeddings,
    queryPixelValues: Tensor<'float32'> | Owlv2ImageEmbeddings,
  ): Promise<Owlv2ImageGuidedOutput> {
    const [target, query] = await Promise.all([
      pixelValues instanceof Tensor ? this.embedImage(pixelValues) : pixelValues,
      queryPixelValues instanceof Tensor ? this.embedImage(queryPixelValues) : queryPixelValues,
    ]);
    if (target.image_embeds.dims[0] !== query.image_embeds.dims[0]) {
      throw new InputShapeError(
        `got ${target.image_embeds.dims[0]} target images but ${query.image_embeds.dims[0]} query images: pass one query image per target image`,
      );
    }
    const { query_embeds, query_mask, selections } = this.embedImageQuery(query);
    const { logits, class_embeds } = await this.classPredictor(target.image_embeds, query_embeds, query_mask);
    return {
      logits,
      target_pred_boxes: target.pred_boxes,
      query_pred_boxes: query.pred_boxes,
      query_embeds,
      class_embeds,
      image_embeds: target.image_embeds,
      query_image_embeds: query.image_embeds,
      selections,
    };
  }
}

/**
 * The package's model classes by transformers architecture name (config.json's `architectures`): how tools find the
 * class of a model folder (`ortvision export`) without core depending on this package.
 */
export const modelClasses = {
  Owlv2Model,
  Owlv2ForObjectDetection,
  Owlv2TextModel,
  Owlv2VisionModel,
} satisfies ModelClassRegistry;

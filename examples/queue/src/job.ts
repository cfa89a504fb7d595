import { InvalidArgumentError, describeValue } from '@ortvision/core';

/** A JSON value: what a job's arguments and options can be (they travel through Redis as JSON). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * One job: one image through one task of one model. The same three things a task helper call names, so any task
 * fits: `imageClassification` (options `topK`), `zeroShotObjectDetection` (args `[labels]`, options `threshold`),
 * `imageSegmentation` (options `subtask`), `promptSegmentation` (args `[prompts]`)...
 *
 * @example
 * const job: TaskJob = { task: 'zeroShotObjectDetection', model: 'google/owlv2-base-patch16-ensemble',
 *   image: 'https://example.com/street.jpg', args: [['a bus', 'a bicycle']], options: { threshold: 0.2 } };
 */
export interface TaskJob {
  /** The task helper's name, as the model's package exports it (`imageClassification`). */
  task: string;
  /** A Hub id, or a folder that exists on every worker machine. */
  model: string;
  /** The image: an `http(s):` or `data:` URL, or a path every worker machine can read (a shared disk). */
  image: string;
  /** The task call's arguments after the image (`zeroShotObjectDetection`'s labels). */
  args?: JsonValue[];
  /** The task call's options (`topK`, `threshold`, `subtask`). */
  options?: { [key: string]: JsonValue };
  /** The model's Hub revision (part of which model it is; a worker keeps one pool per model and revision). */
  revision?: string;
}

const JOB_KEYS = ['task', 'model', 'image', 'args', 'options', 'revision'] as const;

/**
 * `data` as a `TaskJob`, or an `InvalidArgumentError` naming the first field that is wrong: a job comes from Redis,
 * written by any producer, so a worker checks it before it loads anything.
 */
export function checkJob(data: unknown): TaskJob {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InvalidArgumentError(
      `a job must be an object { task, model, image }, got ${describeValue(data)}`,
    );
  }
  const job = data as Record<string, unknown>;
  const unknown = Object.keys(job).filter((key) => !(JOB_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `a job has unknown field(s) ${unknown.join(', ')} (valid: ${JOB_KEYS.join(', ')})`,
    );
  }
  for (const key of ['task', 'model', 'image'] as const) {
    if (typeof job[key] !== 'string' || job[key] === '') {
      throw new InvalidArgumentError(
        `a job's ${key} must be a non-empty string, got ${describeValue(job[key])}`,
      );
    }
  }
  if (job.args !== undefined && !Array.isArray(job.args)) {
    throw new InvalidArgumentError(`a job's args must be a list, got ${describeValue(job.args)}`);
  }
  const { options } = job;
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new InvalidArgumentError(`a job's options must be an object, got ${describeValue(options)}`);
  }
  if (job.revision !== undefined && typeof job.revision !== 'string') {
    throw new InvalidArgumentError(`a job's revision must be a string, got ${describeValue(job.revision)}`);
  }
  return job as unknown as TaskJob;
}

import {
  type DeviceOption,
  ModelNotFoundError,
  PretrainedConfig,
  TaskWorkerPool,
  type TaskWorkerPoolOptions,
} from '@ortvision/core';
import type { TaskJob } from './job.js';

// Which package runs a model: its config's model_type, as the classify example picks one. Resolved here, where the
// packages are this example's dependencies, so the pool's worker threads import them by URL.
const packages: Record<string, string> = {
  vit: import.meta.resolve('@ortvision/vit'),
  levit: import.meta.resolve('@ortvision/levit'),
  perceiver: import.meta.resolve('@ortvision/perceiver'),
  clipseg: import.meta.resolve('@ortvision/clipseg'),
  owlv2: import.meta.resolve('@ortvision/owlv2'),
  altclip: import.meta.resolve('@ortvision/altclip'),
  mask2former: import.meta.resolve('@ortvision/mask2former'),
};

/** How a worker process runs its models. */
export interface PoolSettings extends Omit<TaskWorkerPoolOptions, 'signal'> {
  device?: DeviceOption;
  /** Models kept loaded at once; the least recently used one is released when another is needed (default 2). */
  maxModels?: number;
}

interface Entry {
  pool: Promise<TaskWorkerPool>;
  /** Jobs using this pool now (it is released only when none is). */
  users: number;
}

/**
 * The worker process's pools, one per task, model and revision, loaded on the first job that needs one and kept for
 * the next (loading is the slow part); a load that fails is forgotten, so a later job tries again.
 */
export class PoolCache {
  readonly #settings: PoolSettings;
  readonly #entries = new Map<string, Entry>();

  constructor(settings: PoolSettings = {}) {
    this.#settings = settings;
  }

  /** Runs `use` with the pool for the job's task and model. */
  async with<T>(job: TaskJob, use: (pool: TaskWorkerPool) => Promise<T>): Promise<T> {
    const key = JSON.stringify([job.task, job.model, job.revision ?? null]);
    let entry = this.#entries.get(key);
    if (entry) {
      // Most recently used last.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    } else {
      entry = { pool: this.#load(job), users: 0 };
      this.#entries.set(key, entry);
      entry.pool.catch(() => this.#entries.delete(key));
      this.#evict();
    }
    entry.users++;
    try {
      return await use(await entry.pool);
    } finally {
      entry.users--;
    }
  }

  /** Releases every pool (after the calls running in them). */
  async dispose(): Promise<void> {
    const pools = [...this.#entries.values()].map((entry) => entry.pool);
    this.#entries.clear();
    await Promise.all(pools.map(async (pool) => (await pool.catch(() => undefined))?.dispose()));
  }

  #evict(): void {
    const max = this.#settings.maxModels ?? 2;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= max) return;
      if (entry.users > 0) continue;
      this.#entries.delete(key);
      entry.pool.then((pool) => pool.dispose()).catch(() => {});
    }
  }

  async #load(job: TaskJob): Promise<TaskWorkerPool> {
    const revision = job.revision === undefined ? {} : { revision: job.revision };
    const config = await PretrainedConfig.fromPretrained(job.model, revision);
    const module = packages[config.model_type];
    if (!module) {
      throw new ModelNotFoundError(
        `${job.model} is a '${config.model_type}' model; the workers run ${Object.keys(packages).join(', ')}`,
      );
    }
    const { device = 'cpu', maxModels: _, ...poolOptions } = this.#settings;
    return TaskWorkerPool.create(
      { module, task: job.task, model: job.model, options: { device, ...revision } },
      poolOptions,
    );
  }
}

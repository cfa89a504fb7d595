#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidArgumentError, OrtVisionError } from '../errors.js';
import { exportModel } from '../export/export-model.js';
import { chooseModelClass, importModelPackage } from '../export/model-package.js';
import { progressBar } from '../hub/progress-bar.js';
import { PretrainedConfig } from '../modeling/config.js';
import { GRAPH_SOURCES, type GraphSource } from '../modeling/model-graphs.js';
import { type ModelDtype, isModelDtype } from '../runtime/model-file.js';

const USAGE = `usage: ortvision export <hub id | folder> --out <dir> [options]

Writes the model's ONNX graphs in the Hub's layout (onnx/model.onnx + model.onnx_data, _fp16 / _quantized names,
split graphs) with its config, processor and tokenizer files: a folder that loads with graphSource 'onnx'. Graphs
are built from the checkpoint (model.safetensors / pytorch_model.bin) when the model has no exported graph for the
dtype, by the ortvision package of its model_type (@ortvision/<model_type>, which must be installed).

  --out <dir>                   the folder to write (new, or empty)
  --dtype fp32|fp16|q8          the variant (default fp32)
  --graph-source auto|onnx|checkpoint
                                where the graphs come from (default auto: exported when present, else built)
  --class <ModelClass>          the class to export (default: the first of config.json's architectures)
  --revision <rev>              a branch, tag or commit of a Hub id (default main)
  --cache-dir <dir>             the Hub cache (default: as huggingface_hub)
  --graph-cache-dir <dir>       the build cache (default: $ORTVISION_CACHE/graphs or ~/.cache/ortvision/graphs)
  --local-files-only            use only the caches, never the network

Prints what it wrote as JSON. Exit code: 0 written, 1 the export failed, 2 bad arguments.`;

/** A bad command line: the message, then a pointer to the usage. */
class UsageError extends InvalidArgumentError {}

interface ExportCommand {
  source: string;
  out: string;
  dtype: ModelDtype;
  graphSource: GraphSource | undefined;
  className: string | undefined;
  revision: string | undefined;
  cacheDir: string | undefined;
  graphCacheDir: string | undefined;
  localFilesOnly: boolean;
}

function parseExport(args: string[]): ExportCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        dtype: { type: 'string' },
        'graph-source': { type: 'string' },
        class: { type: 'string' },
        revision: { type: 'string' },
        'cache-dir': { type: 'string' },
        'graph-cache-dir': { type: 'string' },
        'local-files-only': { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(
      `export takes one model (a Hub id or a folder), got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`,
    );
  }
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('export needs --out <dir>, the folder to write');
  const dtype = (values.dtype as string | undefined) ?? 'fp32';
  if (!isModelDtype(dtype))
    throw new UsageError(`--dtype must be fp32, fp16 or q8, got ${JSON.stringify(dtype)}`);
  const graphSource = values['graph-source'] as string | undefined;
  if (graphSource !== undefined && !GRAPH_SOURCES.includes(graphSource as GraphSource)) {
    throw new UsageError(
      `--graph-source must be auto, onnx or checkpoint, got ${JSON.stringify(graphSource)}`,
    );
  }
  return {
    source: positionals[0]!,
    out,
    dtype,
    graphSource: graphSource as GraphSource | undefined,
    className: values.class as string | undefined,
    revision: values.revision as string | undefined,
    cacheDir: values['cache-dir'] as string | undefined,
    graphCacheDir: values['graph-cache-dir'] as string | undefined,
    localFilesOnly: Boolean(values['local-files-only']),
  };
}

async function runExport(command: ExportCommand): Promise<void> {
  // Paths are the user's: relative to where the command was typed (INIT_CWD under npm and pnpm scripts).
  const base = process.env.INIT_CWD || process.cwd();
  const local = existsSync(resolve(base, command.source));
  const source = local ? resolve(base, command.source) : command.source;
  const hub = {
    ...(command.revision !== undefined ? { revision: command.revision } : {}),
    ...(command.cacheDir !== undefined ? { cacheDir: resolve(base, command.cacheDir) } : {}),
    ...(command.localFilesOnly ? { localFilesOnly: true } : {}),
  };
  const config = await PretrainedConfig.fromPretrained(source, hub);
  const modelClass = chooseModelClass(await importModelPackage(config, base), config, command.className);
  const exported = await exportModel(modelClass, source, {
    ...hub,
    out: resolve(base, command.out),
    dtype: command.dtype,
    ...(command.graphSource !== undefined ? { graphSource: command.graphSource } : {}),
    ...(command.graphCacheDir !== undefined ? { graphCacheDir: resolve(base, command.graphCacheDir) } : {}),
    onProgress: progressBar(),
  });
  process.stdout.write(`${JSON.stringify({ modelClass: modelClass.name, ...exported }, null, 2)}\n`);
}

/** The `ortvision` command: `ortvision export ...`; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help')) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    if (command !== 'export')
      throw new UsageError(`unknown command ${JSON.stringify(command)} (expected export)`);
    await runExport(parseExport(rest));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`InvalidArgumentError: ${error.message}\n(ortvision --help shows the usage)`);
      return 2;
    }
    // Our typed errors say what is wrong in one line; anything else is a bug and keeps its stack.
    console.error(error instanceof OrtVisionError ? `${error.name}: ${error.message}` : error);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

import type { DownloadProgress } from './transfer.js';

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * One line describing a download's state, e.g. `onnx/model.onnx [#####-----] 48% 1.2 MB / 2.5 MB`; a graph being
 * built from a checkpoint (`kind: 'build'`) reads `building onnx/model.onnx [...]`, its bytes the weights written.
 */
export function formatProgress(progress: DownloadProgress & { kind?: string }, width = 24): string {
  const { loaded, total } = progress;
  const file = progress.kind === 'build' ? `building ${progress.file}` : progress.file;
  if (total === undefined || total <= 0) return `${file} ${formatBytes(loaded)}`;
  const fraction = Math.min(loaded / total, 1);
  const filled = Math.round(fraction * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  return `${file} [${bar}] ${Math.floor(fraction * 100)}% ${formatBytes(loaded)} / ${formatBytes(total)}`;
}

export interface ProgressBarOptions {
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Minimum time between redraws on a terminal (default 100 ms). */
  intervalMs?: number;
}

/**
 * An `onProgress` callback that draws a progress bar per file on a terminal (redrawn in place), or prints one
 * line per finished file when the output is not a terminal (logs, CI).
 *
 * @example
 * const model = await ViTForImageClassification.fromPretrained('google/vit-base-patch16-224', {
 *   onProgress: progressBar(),
 * });
 */
export function progressBar(
  options: ProgressBarOptions = {},
): (progress: DownloadProgress & { kind?: string }) => void {
  const stream = options.stream ?? process.stderr;
  const intervalMs = options.intervalMs ?? 100;
  const interactive = Boolean((stream as { isTTY?: boolean }).isTTY);
  let lastDraw = 0;
  let lastFile: string | undefined;
  return (progress) => {
    const done = progress.total !== undefined && progress.loaded >= progress.total;
    if (!interactive) {
      if (done) stream.write(`${formatProgress(progress)}\n`);
      return;
    }
    const now = Date.now();
    if (!done && progress.file === lastFile && now - lastDraw < intervalMs) return;
    lastDraw = now;
    lastFile = progress.file;
    stream.write(`\r\x1b[2K${formatProgress(progress)}${done ? '\n' : ''}`);
  };
}

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatProgress, progressBar } from './progress-bar.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, chunks };
}

describe('progress bar', () => {
  it('formats a fraction, sizes and the file', () => {
    expect(formatProgress({ file: 'onnx/model.onnx', loaded: 512 * 1024, total: 2 * 1024 * 1024 }, 8)).toBe(
      'onnx/model.onnx [##------] 25% 512 kB / 2.0 MB',
    );
    expect(formatProgress({ file: 'config.json', loaded: 300, total: undefined })).toBe('config.json 300 B');
    expect(
      formatProgress({ kind: 'build', file: 'onnx/model_quantized.onnx', loaded: 1024, total: 4096 }, 4),
    ).toBe('building onnx/model_quantized.onnx [#---] 25% 1.0 kB / 4.0 kB');
  });

  it('redraws in place on a terminal and prints finished files elsewhere', () => {
    const tty = sink(true);
    const onTty = progressBar({ stream: tty.stream, intervalMs: 0 });
    onTty({ file: 'a', loaded: 1, total: 2 });
    onTty({ file: 'a', loaded: 2, total: 2 });
    expect(tty.chunks).toHaveLength(2);
    expect(tty.chunks[0]!.startsWith('\r\x1b[2K')).toBe(true);
    expect(tty.chunks[1]!.endsWith('100% 2 B / 2 B\n')).toBe(true);
    const log = sink(false);
    const onLog = progressBar({ stream: log.stream });
    onLog({ file: 'a', loaded: 1, total: 2 });
    onLog({ file: 'a', loaded: 2, total: 2 });
    expect(log.chunks).toEqual(['a [########################] 100% 2 B / 2 B\n']);
  });
});

import { readFile } from 'node:fs/promises';
import { ConfigError, ModelNotFoundError } from '../errors.js';

/**
 * Reads a JSON file that must hold an object (config.json, preprocessor_config.json, tokenizer files):
 * a missing file is `ModelNotFoundError`, unreadable JSON or a non-object is `ConfigError`, each naming the file.
 */
export async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelNotFoundError(
      code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(`${path} must hold a JSON object, got ${JSON.stringify(json)?.slice(0, 60)}`);
  }
  return json as Record<string, unknown>;
}

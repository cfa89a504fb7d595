import { InvalidArgumentError } from '../errors.js';

/**
 * Python keyword arguments (`{"top_k": 3}`, as fixture manifests and Python snippets write them) renamed to our
 * camelCase options by `names`; `null` values are dropped (Python's "use the default"). An unknown name throws, so
 * nothing is silently ignored. Every `*OptionsFromKwargs` function is this with its own table.
 *
 * @example
 * optionsFromKwargs({ top_k: 3 }, { top_k: 'topK' }, 'classification'); // { topK: 3 }
 */
export function optionsFromKwargs<T>(
  kwargs: Readonly<Record<string, unknown>>,
  names: Readonly<Record<string, keyof T & string>>,
  what: string,
): T {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const name = names[key];
    if (name === undefined || !Object.hasOwn(names, key)) {
      throw new InvalidArgumentError(
        `unknown ${what} argument "${key}" (known: ${Object.keys(names).join(', ')})`,
      );
    }
    if (value !== null && value !== undefined) options[name] = value;
  }
  return options as T;
}

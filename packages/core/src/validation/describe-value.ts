/**
 * A value as an error message should show it, keeping its type visible: a string in quotes (`'3'`, so that
 * `topK: '3'` does not read as the number 3), numbers as written (`NaN`, `-5`), `null` / `undefined`, arrays and
 * arrays item by item, plain objects as short JSON, anything else by its class (`a Float32Array of 12`, `a URL https://x/`).
 *
 * @example
 * describeValue('3'); // "'3'"
 * describeValue(3); // '3'
 * describeValue(new Float32Array(4)); // 'a Float32Array of 4'
 */
export function describeValue(value: unknown, maxLength = 60): string {
  const cut = (text: string) => (text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text);
  if (typeof value === 'string') return `'${cut(value)}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? (value as { length: number }).length : value.byteLength;
    return `a ${value.constructor.name} of ${length}`;
  }
  if (value instanceof URL) return `a URL ${cut(value.href)}`;
  // Items described one by one, so that NaN stays NaN (JSON would print null) and '3' stays a string.
  if (Array.isArray(value)) return cut(`[${value.map((item) => describeValue(item, maxLength)).join(', ')}]`);
  if (Object.getPrototypeOf(value) === Object.prototype) {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined;
    }
    if (json !== undefined) return cut(json);
  }
  const name = (value as object).constructor?.name;
  return name ? `a ${name}` : 'an object';
}

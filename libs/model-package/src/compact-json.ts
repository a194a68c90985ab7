/**
 * JSON for files people read: objects and arrays whose members are all primitives go on one
 * line; everything else is indented by two spaces. Parses back to the same value.
 */
export function compactJson(value: unknown, indent = ''): string {
  const flat = (v: unknown) => v === null || typeof v !== 'object';
  if (flat(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every(flat)) return JSON.stringify(value);
    return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.every(([, v]) => flat(v))) return JSON.stringify(value);
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

/**
 * User text echoed in an error message, capped: a request may carry a 100 KB plan, name or id, and
 * an error must name the problem without repeating it whole. Every echo of input goes through here.
 */

/** The most characters of user text an error repeats; longer text is cut and ends in "…". */
export const ECHO_MAX_CHARS = 80;

/** `text` as echoed in an error: at most ECHO_MAX_CHARS characters (code points), then "…". */
export function echoText(text: string, max = ECHO_MAX_CHARS): string {
  if (text.length <= max) return text;
  const head = Array.from(text.slice(0, max * 2)).slice(0, max).join('');
  return head.length < text.length ? `${head}…` : text;
}

/**
 * Any (JSON) value as echoed in an error: JSON text (strings quoted), numbers as sent (1e+39,
 * Infinity, NaN — never JSON's "null"), capped as echoText. Never throws, even for a value nested
 * too deep to stringify.
 */
export function echoValue(value: unknown, max = ECHO_MAX_CHARS): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(echoText(value, max));
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = Array.isArray(value) ? 'a deeply nested array' : 'a value that cannot be shown';
  }
  return echoText(text ?? String(value), max);
}

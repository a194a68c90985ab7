import { InvalidArgumentError } from 'commander';

/** commander option parsers that refuse out-of-range values with the range named. */
export const numberIn = (min: number, max: number) => (text: string) => {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max) throw new InvalidArgumentError(`must be a number from ${min} to ${max}`);
  return v;
};

export const integerIn = (min: number, max: number) => (text: string) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
  return v;
};

export const positiveNumber = (text: string) => {
  const v = Number(text);
  if (text.trim() === '' || !(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError('must be a positive number');
  return v;
};

export const positiveInteger = (text: string) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError('must be a positive integer');
  return v;
};

/** A comma-separated list, blanks dropped. */
export const commaList = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/**
 * Compiled checks of values against the contracts' schemas (TypeBox definitions, validated by
 * Ajv's compiled validators), with error messages that name the field and the problem.
 *
 * A schema may say how its failures read with `x-error`: one message template, or one per failing
 * keyword (`{ type: '…', maximum: '…' }`). Templates may use `{value}` (the value as sent, capped:
 * echoValue), `{count}` (an array's length), `{missing}` (a required property that is absent),
 * `{tensor}` (the quoted name of the input or output tensor the field is in, or its `#index`), and
 * any key of the context a check is called with; or the template is a function of the failing
 * value, where the message needs working out. Without `x-error` the message is Ajv's, after the
 * field's path (`inputs[0].shape`).
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { Static, TSchema } from '@sinclair/typebox';
import { echoText, echoValue } from '../echo';

/** What a check refuses: `path` is the failing field, `message` the whole sentence. */
export class ContractError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** A message template, or (where the message needs working out) a function of the failing value. */
export type ErrorTemplate = string | ((value: unknown) => string);
export type ErrorTemplates = ErrorTemplate | Partial<Record<string, ErrorTemplate>>;

/** Schema options that carry an `x-error` (TypeBox passes unknown options through to the schema). */
export const errors = (templates: ErrorTemplates) => ({ 'x-error': templates });

// One Ajv for every contract: first error only (a refusal names one problem, and stops early),
// `verbose` for the failing value and schema, and the annotation keywords the schemas carry.
const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, strictTypes: false });
for (const keyword of ['x-error', 'x-used-by', 'x-default', 'example']) ajv.addKeyword({ keyword });
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);

export type Check<T> = (value: unknown, context?: Record<string, string>) => T;

const compilers: (() => ValidateFunction)[] = [];

/**
 * A check of `schema`: returns the value, typed, or throws a ContractError naming the first problem.
 * Compiled on its first call (a command compiles only the checks it uses), or by compileAllChecks.
 */
export function compileCheck<S extends TSchema>(schema: S): Check<Static<S>> {
  let cached: ValidateFunction | undefined;
  const compiled = () => (cached ??= ajv.compile(schema));
  compilers.push(compiled);
  return (value, context = {}) => {
    const validate = compiled();
    if (validate(value)) return value as Static<S>;
    const error = validate.errors![0];
    throw new ContractError(fieldPath(error.instancePath), errorMessage(error, value, context));
  };
}

/** JSON text through a check: the value, or undefined when it is not JSON or fails the check. */
export function parseChecked<T>(check: Check<T>, text: string | null | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return check(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Compile every check now (tens of ms in all): a serving process pays it while it starts, not on
 * its first request or job (7-34 ms each on a 2-core Xeon).
 */
export function compileAllChecks(): void {
  for (const compiled of compilers) compiled();
}

/** `/inputs/0/parameters/plan` as `inputs[0].parameters.plan` (the root: `body`). */
function fieldPath(pointer: string): string {
  if (pointer === '') return 'body';
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function errorMessage(error: ErrorObject, root: unknown, context: Record<string, string>): string {
  const templates = (error.parentSchema as Record<string, unknown> | undefined)?.['x-error'] as ErrorTemplates | undefined;
  const template = typeof templates === 'string' || typeof templates === 'function' ? templates : templates?.[error.keyword];
  const path = fieldPath(error.instancePath);
  // A missing property is reported on its object: name the property itself.
  const missing = error.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : undefined;
  if (typeof template === 'function') return template(error.data);
  if (template === undefined) return missing ? `${path === 'body' ? '' : `${path}.`}${missing} is required` : `${path} ${error.message}, not ${echoValue(error.data)}`;
  const vars: Record<string, string> = {
    ...context,
    value: echoValue(error.data),
    count: Array.isArray(error.data) ? String(error.data.length) : '',
    missing: missing ?? '',
    tensor: tensorName(root, error.instancePath.split('/').slice(1)),
  };
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => vars[key] ?? whole);
}

/** The input or output tensor a path lies in, as messages name it: `'input'`, or `#0` when it has no string name. */
function tensorName(root: unknown, parts: string[]): string {
  if ((parts[0] !== 'inputs' && parts[0] !== 'outputs') || parts[1] === undefined) return '';
  const tensor = (root as Record<string, unknown[] | undefined>)[parts[0]]?.[Number(parts[1])] as { name?: unknown } | undefined;
  return typeof tensor?.name === 'string' ? `'${echoText(tensor.name)}'` : `#${parts[1]}`;
}

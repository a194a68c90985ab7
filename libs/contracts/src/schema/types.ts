import { SchemaOptions, TSchema, Type, Static } from '@sinclair/typebox';

/**
 * One of some strings, as `{type: string, enum}`: OpenAPI 3.0 has no `const`, which TypeBox's
 * unions of literals become.
 */
export const StringEnum = <T extends readonly string[]>(values: T, options: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** A value or null, as OpenAPI 3.0 says it (`nullable`, which Ajv knows too). */
export const Nullable = <S extends TSchema>(schema: S, options: SchemaOptions = {}) =>
  Type.Unsafe<Static<S> | null>({ ...schema, nullable: true, ...options });

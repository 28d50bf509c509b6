/**
 * A minimal runtime schema with inferred static types, so every protocol message is described
 * once and validated on input. Written here rather than taken from a validation library because
 * the protocol is loaded by every worker at boot and by the extension at activation, where
 * tens of milliseconds of library start-up are the difference that matters.
 *
 * Objects are loose: unknown fields pass through untouched (the protocol promises that fields
 * may be added without a version bump).
 */

export type Schema<T> = {
  /** Returns the value typed, or throws a SchemaError naming the path that failed. */
  parse(value: unknown, path?: string): T;
  readonly optional?: true;
};
export type Infer<S> = S extends Schema<infer T> ? T : never;

export class SchemaError extends Error {
  override name = 'SchemaError';
}

const fail = (path: string, expected: string, value: unknown): never => {
  const got =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'an array'
        : typeof value === 'string'
          ? `'${value.slice(0, 40)}'`
          : typeof value;
  throw new SchemaError(`${path || 'message'}: expected ${expected}, got ${got}`);
};

export const string = (): Schema<string> => ({
  parse: (value, path = '') => (typeof value === 'string' ? value : fail(path, 'a string', value)),
});

export const number = (): Schema<number> => ({
  parse: (value, path = '') =>
    typeof value === 'number' && Number.isFinite(value) ? value : fail(path, 'a number', value),
});

export const integer = (min = -Infinity, max = Infinity): Schema<number> => ({
  parse: (value, path = '') =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? (value as number)
      : fail(
          path,
          `a whole number${min > -Infinity ? ` from ${min}` : ''}${max < Infinity ? ` to ${max}` : ''}`,
          value,
        ),
});

export const boolean = (): Schema<boolean> => ({
  parse: (value, path = '') => (typeof value === 'boolean' ? value : fail(path, 'true or false', value)),
});

export const literal = <const L extends string>(expected: L): Schema<L> & { value: L } => ({
  value: expected,
  parse: (value, path = '') => (value === expected ? expected : fail(path, `'${expected}'`, value)),
});

export const oneOf = <const L extends readonly string[]>(values: L): Schema<L[number]> => ({
  parse: (value, path = '') =>
    values.includes(value as string)
      ? (value as L[number])
      : fail(path, `one of ${values.join(', ')}`, value),
});

export const array = <T>(item: Schema<T>): Schema<T[]> => ({
  parse: (value, path = '') =>
    Array.isArray(value)
      ? value.map((v, i) => item.parse(v, `${path}[${i}]`))
      : fail(path, 'an array', value),
});

/** An object used as a map: any keys, every value of one schema. */
export const record = <T>(value: Schema<T>): Schema<Record<string, T>> => ({
  parse: (input, path = '') => {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      return fail(path, 'an object', input);
    const result: Record<string, T> = {};
    for (const [key, item] of Object.entries(input as Record<string, unknown>))
      result[key] = value.parse(item, path ? `${path}.${key}` : key);
    return result;
  },
});

export const optional = <T>(inner: Schema<T>): Schema<T | undefined> & { optional: true } => ({
  optional: true,
  parse: (value, path) => (value === undefined ? undefined : inner.parse(value, path)),
});

export const nullable = <T>(inner: Schema<T>): Schema<T | null> => ({
  parse: (value, path) => (value === null ? null : inner.parse(value, path)),
});

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export type ObjectSchema<S extends Shape> = Schema<ObjectOf<S>> & { shape: S };

export const object = <S extends Shape>(shape: S): ObjectSchema<S> => ({
  shape,
  parse: (value, path = '') => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return fail(path, 'an object', value);
    const result: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [key, schema] of Object.entries(shape)) {
      const parsed = schema.parse((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (parsed === undefined) delete result[key];
      else result[key] = parsed;
    }
    return result as ObjectOf<S>;
  },
});

/** Either of several schemas, tried in order. */
export const union = <T extends readonly Schema<unknown>[]>(...options: T): Schema<Infer<T[number]>> => ({
  parse: (value, path = '') => {
    const errors: string[] = [];
    for (const option of options) {
      try {
        return option.parse(value, path) as Infer<T[number]>;
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    throw new SchemaError(errors.join('; or '));
  },
});

type Tagged = ObjectSchema<{ type: Schema<string> & { value: string } }>;

/** A union told apart by its `type` field: the error names the field that failed, not every option. */
export const tagged = <const T extends readonly Tagged[]>(
  options: T,
): Schema<Infer<T[number]>> & { readonly types: readonly string[] } => {
  const byType = new Map(options.map((option) => [option.shape.type.value, option]));
  return {
    /** Every `type` it takes, as the other side of a protocol must know them. */
    types: [...byType.keys()],
    parse: (value, path = '') => {
      const type = (value as { type?: unknown } | null)?.type;
      const option = typeof type === 'string' ? byType.get(type) : undefined;
      if (!option)
        return fail(path ? `${path}.type` : 'type', `one of ${[...byType.keys()].join(', ')}`, type);
      return option.parse(value, path) as Infer<T[number]>;
    },
  };
};

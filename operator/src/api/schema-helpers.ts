import { Type, type Static, type TSchema } from 'typebox';

// Small builders that keep the WorkerPool schema readable and structural. Kubernetes needs a
// description on every field (kubectl explain shows it), bounded strings and lists (the API
// server estimates the cost of CEL rules from these bounds), and no JSON-Schema features it
// rejects (anyOf of constants, additionalProperties next to properties).

export interface Rule {
  rule: string;
  message: string;
  /** A CEL expression for the message, to name the offending value; `message` when it fails. */
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export const text = (
  description: string,
  options: { maxLength?: number; minLength?: number; pattern?: string; default?: string } = {},
) => Type.String({ description, maxLength: options.maxLength ?? 253, ...options });

export const int = (description: string, options: { minimum?: number; maximum?: number; default?: number } = {}) =>
  Type.Integer({ description, ...options });

export const num = (description: string, options: { minimum?: number; maximum?: number; default?: number } = {}) =>
  Type.Number({ description, ...options });

/** A number above zero. Kubernetes speaks OpenAPI 3.0, where exclusiveMinimum is a boolean. */
export const positiveNumber = (description: string, options: { maximum: number; default?: number }) =>
  Type.Unsafe<number>({ type: 'number', description, minimum: 0, exclusiveMinimum: true, ...options });

export const bool = (description: string, defaultValue?: boolean) =>
  Type.Boolean(defaultValue === undefined ? { description } : { description, default: defaultValue });

/** A string restricted to a set of values, typed as their union. */
export const oneOf = <const Values extends readonly string[]>(
  description: string,
  values: Values,
  defaultValue?: Values[number],
) =>
  Type.Unsafe<Values[number]>({
    type: 'string',
    enum: [...values],
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

export const timestamp = (description: string) => Type.String({ description, format: 'date-time', maxLength: 64 });

export const list = <Item extends TSchema>(
  description: string,
  items: Item,
  options: { minItems?: number; maxItems: number; set?: boolean },
) =>
  Type.Array(items, {
    description,
    maxItems: options.maxItems,
    ...(options.minItems === undefined ? {} : { minItems: options.minItems }),
    ...(options.set ? { 'x-kubernetes-list-type': 'set' } : {}),
  });

/**
 * A map from names to values of one schema. Kubernetes takes a map as an object with
 * additionalProperties only (no patternProperties, which a typebox Record would emit), and CEL
 * needs maxProperties to bound the cost of rules that iterate it.
 */
export const map = <Value extends TSchema>(description: string, values: Value, options: { maxProperties: number }) =>
  Type.Unsafe<Record<string, Static<Value>>>({
    type: 'object',
    description,
    additionalProperties: values,
    maxProperties: options.maxProperties,
  });

export const withRules = (rules: Rule[]) => ({ 'x-kubernetes-validations': rules });

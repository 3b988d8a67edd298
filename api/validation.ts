import type { Context } from 'hono';
import { validator } from 'hono/validator';
import { z } from 'zod';
import { badRequest, validationProblem } from '../platform/problem';

/**
 * Reads a JSON body and validates it, or throws the 400 problem that says which fields are wrong.
 * `schema` may be chosen by the body's shape (one event or an array of them).
 */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S | ((raw: unknown) => S)): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
  const parsed = (typeof schema === 'function' ? schema(raw) : schema).safeParse(raw);
  if (!parsed.success) throw validationProblem(parsed.error);
  return parsed.data;
}

/** Validates a query parameter. */
export function parseParam<S extends z.ZodType>(schema: S, value: unknown, name: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationProblem(parsed.error, name);
  return parsed.data;
}

/**
 * Validates a route's path parameters once, before its handler, which reads them with
 * `c.req.valid('param')`. A bad one is a 400 naming the parameter (`partnerId`, `id`, …).
 */
export function pathParams<T extends z.core.$ZodShape>(shape: T) {
  const schema = z.object(shape);
  return validator('param', (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
      throw badRequest(`invalid request path: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
    }
    return parsed.data;
  });
}

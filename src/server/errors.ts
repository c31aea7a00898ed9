/**
 * Every error the API sends has one shape, `{ error: { code, message, field? } }`, so clients
 * branch on a stable `code` and people read `message`; `field` names the offending part of the
 * request (`messages[3].from`, `limit`, `number`).
 */

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Extra response headers (`Allow` for 405, `WWW-Authenticate` for 401). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): ErrorBody {
    return errorBody(this.code, this.message, this.field);
  }
}

export function errorBody(code: string, message: string, field?: string): ErrorBody {
  return { error: field !== undefined ? { code, message, field } : { code, message } };
}

/** 400 naming a field: the message starts with the field so it reads well on its own. */
export function invalid(field: string, what: string): HttpError {
  return new HttpError(400, 'invalid_request', `${field}: ${what}`, field);
}

/** How a JSON value is described in "expected X, got Y" messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return value.length > 24 ? `the string '${value.slice(0, 21)}...'` : `the string '${value}'`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

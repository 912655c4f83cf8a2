import { Token } from 'cdktf';

/**
 * Terraform interpolates `${...}` and `%{...}` in every string. Rendered
 * files are full of literal `${` (shell), so the whole document is escaped
 * first and only then are the secret placeholders swapped for Terraform
 * references (tokens), which must stay unescaped.
 */
export function escapeForTerraform(text: string): string {
  // A replacer function: in a replacement string `$$` would mean a single `$`.
  return text.replace(/([$%])\{/g, (_match, sigil: string) => `${sigil}${sigil}{`);
}

/** Escapes `text`, then replaces each placeholder with its token. */
export function withSecrets<T extends { readonly [K in keyof T]: string }>(text: string, placeholders: T, tokens: T): string {
  let out = escapeForTerraform(text);
  for (const key of Object.keys(placeholders) as (keyof T)[]) {
    out = out.split(placeholders[key]).join(tokens[key]);
  }
  return out;
}

/**
 * A deep copy of `props` with every plain string escaped, so that Terraform
 * reads it as the literal it is: a `${file("/etc/passwd")}` given as a pool
 * name stays that text instead of being evaluated. A string holding a CDKTF
 * token (a variable's or a resource's attribute, given on purpose) is kept
 * as it is: it is a reference.
 */
export function terraformLiterals<T>(props: T): T {
  const copy = (value: unknown): unknown => {
    if (typeof value === 'string') return Token.isUnresolved(value) ? value : escapeForTerraform(value);
    if (Array.isArray(value)) return value.map(copy);
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
    }
    return value;
  };
  return copy(props) as T;
}

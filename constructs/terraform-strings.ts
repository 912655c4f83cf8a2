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

import { Document } from 'yaml';

/** Stable YAML: no line folding, block literals for multi-line text. */
export function toYaml(value: unknown): string {
  return new Document(value).toString({ lineWidth: 0, minContentWidth: 0 });
}

/** If-None-Match (RFC 9110 §13.1.2), with the weak comparison a GET calls for (§8.8.3.2). */

export type IfNoneMatch = { readonly any: true } | { readonly any: false; readonly tags: readonly string[] };

/** `W/"opaque"` or `"opaque"`; etagc is %x21 / %x23-7E / obs-text. The W/ is case-sensitive. */
const ENTITY_TAG = /(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/y;

/**
 * The field's value: `*`, or the opaque tags of a list of entity tags, weak or strong. Elements
 * that are not entity tags are ignored (a malformed list then matches nothing it does not name).
 */
export function parseIfNoneMatch(value: string | undefined): IfNoneMatch | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '*') return { any: true };
  const tags: string[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i];
    if (c === ' ' || c === '\t' || c === ',') {
      i++;
      continue;
    }
    ENTITY_TAG.lastIndex = i;
    const match = ENTITY_TAG.exec(value);
    if (match) {
      tags.push(match[1] ?? '');
      i = ENTITY_TAG.lastIndex;
      continue;
    }
    const next = value.indexOf(',', i);
    if (next === -1) break;
    i = next + 1;
  }
  return { any: false, tags };
}

/**
 * Whether the condition names the current representation, whose entity tag has opaque part
 * `opaque`: then a GET answers 304. Weak comparison: `W/"x"` and `"x"` both match `"x"`.
 */
export function matchesCurrent(condition: IfNoneMatch | undefined, opaque: string): boolean {
  if (condition === undefined) return false;
  return condition.any || condition.tags.includes(opaque);
}

/** What stands where a secret was: in errors, logs and printed command lines alike. */
export const REDACTED = '[redacted]';

/**
 * `text` with every occurrence of each secret replaced by REDACTED. A string is matched literally
 * (an empty one is ignored); a global RegExp serves where only a secret's place is known, not its
 * value (what a server echoes after a fixed prefix).
 */
export function scrub(text: string, secrets: readonly (string | RegExp)[]): string {
  return secrets.filter((s) => s !== '').reduce<string>((acc, secret) => acc.replaceAll(secret, REDACTED), text);
}

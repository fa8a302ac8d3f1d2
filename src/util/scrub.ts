/** Every occurrence of each secret in `text` replaced by `[redacted]` (empty secrets ignored). */
export function scrub(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((acc, secret) => acc.split(secret).join('[redacted]'), text);
}

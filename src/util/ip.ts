/** Address math over ipaddr.js, with addresses as bigints so v4 and v6 share one code path. */
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Address {
  readonly family: Family;
  readonly value: bigint;
}

export interface Network {
  readonly family: Family;
  readonly prefix: number;
  /** First and last address of the block (network and, for v4, broadcast). */
  readonly first: bigint;
  readonly last: bigint;
  readonly text: string;
}

/** Strict parse: dotted-quad IPv4 or IPv6 text; `null` for anything else ("10", "0x0a.1", ""). */
export function parseAddress(text: string): Address | null {
  const trimmed = text.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(trimmed)) {
    return { family: 4, value: bytesToBigint(ipaddr.IPv4.parse(trimmed).toByteArray()) };
  }
  if (!trimmed.includes('%') && ipaddr.IPv6.isValid(trimmed)) {
    return { family: 6, value: bytesToBigint(ipaddr.IPv6.parse(trimmed).toByteArray()) };
  }
  return null;
}

/** Parses `addr/prefix` into its block; host bits are allowed and masked off, as netaddr does. */
export function parseNetwork(text: string): Network | null {
  const [addressText, prefixText, ...rest] = text.trim().split('/');
  if (addressText === undefined || prefixText === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefixText)) {
    return null;
  }
  const address = parseAddress(addressText);
  const prefix = Number(prefixText);
  if (!address) return null;
  const bits = address.family === 4 ? 32 : 128;
  if (prefix > bits) return null;
  const hostBits = BigInt(bits - prefix);
  const first = (address.value >> hostBits) << hostBits;
  const last = first + (1n << hostBits) - 1n;
  return { family: address.family, prefix, first, last, text: `${formatAddress(address.family, first)}/${prefix}` };
}

export function formatAddress(family: Family, value: bigint): string {
  const size = family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = size - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Canonical text of an address (`10.0.0.1`, compact IPv6), or null if it does not parse. */
export function normalizeAddress(text: string): string | null {
  const address = parseAddress(text);
  return address ? formatAddress(address.family, address.value) : null;
}

export function contains(network: Network, address: Address): boolean {
  return network.family === address.family && address.value >= network.first && address.value <= network.last;
}

function bytesToBigint(bytes: readonly number[]): bigint {
  return bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

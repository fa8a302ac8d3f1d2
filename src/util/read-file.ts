/**
 * The one way to read a file an operator names: only a regular file, only up to a size limit, and
 * never blocking. A FIFO, a socket or a device is refused before it is opened (and again after
 * opening, in case the path was swapped in between), so start-up cannot hang on a pipe that
 * nobody writes; a file over the limit is refused from its size, or as soon as reading passes
 * the limit (a file that grows, or one whose size the kernel does not report, as in /proc).
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { FileReadError } from '../errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** The limits of files read from operator input: secrets are one line, config files are YAML. */
export const FILE_LIMITS = {
  /** Tokens, passwords, API keys, the MAAS shared secret. */
  secret: 64 * KiB,
  /** The declared network configuration, rackd.conf. */
  config: 1 * MiB,
} as const;

// O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY: a terminal never becomes ours.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const CHUNK = 64 * KiB;

/** `64 KiB`, `1 MiB`, `61.2 MiB`. */
export function formatBytes(bytes: number): string {
  const [value, unit] = bytes >= MiB ? [bytes / MiB, 'MiB'] : bytes >= KiB ? [bytes / KiB, 'KiB'] : [bytes, 'bytes'];
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Throws unless `stats` is a regular file within `maxBytes`. */
function checkStats(path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new FileReadError('not-regular', `${path} is not a regular file (it is ${kindOf(stats)})`);
  if (stats.size > maxBytes) throw tooLarge(path, maxBytes, `it is ${formatBytes(stats.size)}`);
}

function tooLarge(path: string, maxBytes: number, detail: string): FileReadError {
  return new FileReadError('too-large', `${path} is larger than the limit of ${formatBytes(maxBytes)} (${detail})`);
}

function ioError(path: string, err: unknown): FileReadError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new FileReadError(code === 'ENOENT' ? 'missing' : 'unreadable', `cannot read ${path} (${code})`, { cause: err });
}

/** Chunks read so far; throws once they pass the limit (a file that grows, or one whose size the kernel does not report). */
class BoundedText {
  readonly #chunks: Buffer[] = [];
  #total = 0;

  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {}

  add(chunk: Buffer, bytes: number): void {
    this.#total += bytes;
    if (this.#total > this.maxBytes) throw tooLarge(this.path, this.maxBytes, 'it grew past the limit while being read');
    this.#chunks.push(chunk.subarray(0, bytes));
  }

  text(): string {
    return Buffer.concat(this.#chunks, this.#total).toString('utf8');
  }
}

const asFileReadError = (path: string, err: unknown): FileReadError => (err instanceof FileReadError ? err : ioError(path, err));

/** Reads `path` as UTF-8; throws FileReadError (missing, unreadable, not-regular, too-large). */
export function readBoundedFileSync(path: string, maxBytes: number): string {
  let fd: number;
  try {
    checkStats(path, statSync(path), maxBytes);
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    throw asFileReadError(path, err);
  }
  try {
    checkStats(path, fstatSync(fd), maxBytes);
    const text = new BoundedText(path, maxBytes);
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const read = readSync(fd, chunk, 0, CHUNK, null);
      if (read === 0) return text.text();
      text.add(chunk, read);
    }
  } catch (err) {
    throw asFileReadError(path, err);
  } finally {
    closeSync(fd);
  }
}

/** The same as readBoundedFileSync, without blocking the event loop: for files read at run time. */
export async function readBoundedFile(path: string, maxBytes: number): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    checkStats(path, await stat(path), maxBytes);
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw asFileReadError(path, err);
  }
  try {
    checkStats(path, await handle.stat(), maxBytes);
    const text = new BoundedText(path, maxBytes);
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, null);
      if (bytesRead === 0) return text.text();
      text.add(chunk, bytesRead);
    }
  } catch (err) {
    throw asFileReadError(path, err);
  } finally {
    await handle.close();
  }
}

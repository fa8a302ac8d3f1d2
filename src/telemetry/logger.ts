import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** `json` (one object a line, for machines) or `pretty` (pino-pretty, for a person at a terminal). */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

let defaultFormat: LogFormat = 'json';

/**
 * The format of every logger made without one: the CLI sets it once from `--log-format` or
 * `LOG_FORMAT`, before the command runs (the commands make their loggers themselves).
 */
export function setDefaultLogFormat(format: LogFormat): void {
  defaultFormat = format;
}

/**
 * Fixed at build time, never derived from input (pino's advice). Explicit serializers keep most
 * secrets out in the first place; these paths are the safety net.
 */
export const REDACT_PATHS: readonly string[] = [
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

/** What fastify hands the `req` serializer (its Request), reduced to what is logged. */
export interface LoggedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly host?: string;
  readonly ip?: string;
  readonly socket?: { readonly remotePort?: number } | null;
}

/** Longest path logged; a longer one is cut (a 10 KB path is noise, not evidence). */
const MAX_LOGGED_PATH = 512;

export interface SerializedRequest {
  method?: string;
  url: string;
  host?: string;
  remoteAddress?: string;
  remotePort?: number;
}

/**
 * The request as logged: method, path, host and peer, and never the query string, which is
 * where a client that got it wrong puts a token (`?token=`). A query shows as `?[redacted]`.
 */
export function serializeRequest(req: LoggedRequest): SerializedRequest {
  const raw = req.url ?? '';
  const query = raw.indexOf('?');
  let path = query === -1 ? raw : raw.slice(0, query);
  if (path.length > MAX_LOGGED_PATH) path = `${path.slice(0, MAX_LOGGED_PATH)}…`;
  const url = query === -1 ? path : `${path}?[redacted]`;
  const logged: SerializedRequest = req.method === undefined ? { url } : { method: req.method, url };
  if (req.host !== undefined) logged.host = req.host;
  if (req.ip !== undefined) logged.remoteAddress = req.ip;
  if (req.socket?.remotePort !== undefined) logged.remotePort = req.socket.remotePort;
  return logged;
}

/** Serializers every logger gets; buildServer() sets them on its own child too. */
export const SERIALIZERS = { req: serializeRequest } as const;

export interface LoggerOptions {
  readonly level?: string;
  readonly name?: string;
  /** Where lines go; stdout when absent. Tests pass a sink to assert on lines. */
  readonly destination?: DestinationStream;
  /** Default: what setDefaultLogFormat() chose (json unless told). */
  readonly format?: LogFormat;
}

/**
 * pino redacts and serializes first; pretty mode only rewrites each finished JSON line, so what
 * is redacted in JSON is redacted in pretty output too.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = (options.format ?? defaultFormat) === 'pretty';
  let destination: DestinationStream;
  if (options.destination === undefined) destination = stdoutDestination(pretty ? prettifier(isatty(1)) : undefined);
  else if (pretty) {
    const sink = options.destination;
    const prettify = prettifier(false);
    destination = { write: (line: string) => sink.write(prettify(line)) };
  } else destination = options.destination;
  return pino(
    {
      level: options.level ?? 'info',
      ...(options.name === undefined ? {} : { name: options.name }),
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      serializers: { ...SERIALIZERS },
      base: { pid: process.pid },
    },
    destination,
  );
}

type PinoPrettyModule = typeof import('pino-pretty');

/**
 * A JSON line → a line for people. pino-pretty is loaded here, on first use, so a JSON logger
 * (the default, in every pod) never pays for loading it. Times are local, `pid`/`hostname` left out.
 */
function prettifier(colorize: boolean): (line: string) => string {
  const pretty = createRequire(import.meta.url)('pino-pretty') as PinoPrettyModule;
  return pretty.prettyFactory({
    colorize: colorize && pretty.isColorSupported,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}

/** For each stdout destination made here: how many bytes it holds unwritten (0 once stdout is gone). */
const unwritten = new WeakMap<object, () => number>();

/**
 * stdout, written asynchronously (a slow log reader never blocks the event loop). pino stops
 * writing after an EPIPE, but only once the failed write's error has come back; at exit it flushes
 * with `flushSync`, which in sonic-boom 4 retries every error but EAGAIN for ever (100 ms sleeps,
 * event loop blocked). With the reader gone, a process exiting right after a log line (SIGTERM:
 * "stopping", "stopped", exit) then spins on EPIPE ten times a second and never exits. So no
 * synchronous flush at exit: the commands wait, with a deadline, for what is unwritten to drain
 * before they exit (`flushLogger`); what a forced exit cuts short is lost rather than hanging.
 */
function stdoutDestination(transform?: (line: string) => string): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: false });
  destination.flushSync = () => undefined;
  let pending = 0;
  let gone = false;
  const write = destination.write.bind(destination);
  // pino swaps `write` for a no-op after an EPIPE; until then, count what goes in and comes out.
  destination.write = (chunk: string) => {
    const text = transform ? transform(chunk) : chunk;
    pending += Buffer.byteLength(text);
    return write(text);
  };
  destination.on('write', (bytes: number) => {
    pending = Math.max(0, pending - bytes);
  });
  destination.on('error', (err: NodeJS.ErrnoException) => {
    // pino's own listener has already stopped the writing; anything else stays an uncaught error.
    if (err.code !== 'EPIPE') throw err;
    gone = true;
  });
  unwritten.set(destination, () => (gone ? 0 : pending));
  return destination;
}

/** Resolves once what `logger` holds is written, or stdout is gone (EPIPE), or after `ms`: never hangs an exit. */
export function flushLogger(logger: Logger, ms: number): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as NodeJS.EventEmitter | undefined;
  const left = stream === undefined ? undefined : unwritten.get(stream);
  return new Promise((resolve) => {
    if (left?.() === 0) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      stream?.off('drain', done);
      stream?.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (stream !== undefined && left !== undefined) {
      stream.on('drain', done);
      stream.on('error', done);
      return;
    }
    // Another destination (a test's sink): its own flush.
    try {
      logger.flush(() => done());
    } catch {
      done();
    }
  });
}

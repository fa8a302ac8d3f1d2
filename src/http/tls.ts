/**
 * TLS material from files an operator (or cert-manager) names: PEM certificates and keys, checked
 * as a matching pair before use, and re-read when the files change, so a rotated certificate is
 * served without a restart and without dropping the connections (long-polls) already open.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { FILE_LIMITS, readBoundedFile, readBoundedFileSync } from '../util/read-file.js';
import { sendError } from './errors.js';

/** A certificate chain or CA bundle (PEM) is small, but a CA bundle may hold many certificates. */
const CERT_FILE_LIMIT = FILE_LIMITS.config;
/** A private key is one short PEM block. */
const KEY_FILE_LIMIT = FILE_LIMITS.secret;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The files of a certificate and its key, and optionally a CA bundle; each with the variable naming it. */
export interface TlsFiles {
  readonly cert: { readonly variable: string; readonly path: string };
  readonly key: { readonly variable: string; readonly path: string };
  readonly ca?: { readonly variable: string; readonly path: string };
}

/** What a TLS context is made of, checked; `leaf` describes the certificate for the log. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly leaf: CertificateSummary;
}

export interface CertificateSummary {
  readonly subject: string;
  readonly notAfter: string;
  readonly fingerprint256: string;
}

/** The certificates of a PEM text, parsed; an error (without the content) when there is none or one does not parse. */
export function parseCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new Error(`${what}: certificate ${i + 1} does not parse (${(err as Error).message})`, { cause: err });
    }
  });
}

function parseKey(pem: string, what: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    // An encrypted key, a public key or garbage: the message never repeats the content.
    throw new Error(`${what} must hold an unencrypted PEM private key (${(err as { code?: string }).code ?? 'does not parse'})`, { cause: err });
  }
}

/**
 * Checks that `cert` and `key` are a matching pair OpenSSL accepts and that `ca` parses; returns
 * the material. Messages name the variables and paths, never key material.
 */
export function checkTlsMaterial(files: TlsFiles, text: { cert: string; key: string; ca?: string }): TlsMaterial {
  const certWhat = `${files.cert.variable}: ${files.cert.path}`;
  const keyWhat = `${files.key.variable}: ${files.key.path}`;
  const [leaf] = parseCertificates(text.cert, certWhat) as [X509Certificate];
  const key = parseKey(text.key, keyWhat);
  if (!leaf.checkPrivateKey(key)) throw new Error(`${keyWhat} is not the private key of the certificate in ${files.cert.path} (${files.cert.variable})`);
  if (files.ca !== undefined && text.ca !== undefined) parseCertificates(text.ca, `${files.ca.variable}: ${files.ca.path}`);
  try {
    createSecureContext({ cert: text.cert, key: text.key, ...(text.ca === undefined ? {} : { ca: text.ca }) });
  } catch (err) {
    throw new Error(`${certWhat}: OpenSSL refuses this certificate and key (${(err as { code?: string }).code ?? (err as Error).message})`, { cause: err });
  }
  return { cert: text.cert, key: text.key, ...(text.ca === undefined ? {} : { ca: text.ca }), leaf: summarize(leaf) };
}

export function summarize(cert: X509Certificate): CertificateSummary {
  return { subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo).toISOString(), fingerprint256: cert.fingerprint256 };
}

/** The certificate a sidecar presents: the region sidecar's to racks, or a rack's for mutual TLS. */
export type CertificateUsage = 'server' | 'client';

/**
 * Sets maas_sidecar_tls_certificate_expiry_timestamp_seconds to the end (notAfter) of the
 * certificate now presented. Call it each time one is put in use, at start and after each re-read:
 * a re-read that fails keeps the old certificate, and so the gauge keeps its end, which is what the
 * expiry alerts need to see.
 */
export function recordCertificateExpiry(gauge: Pick<Gauge<'usage'>, 'set'>, usage: CertificateUsage, leaf: CertificateSummary): void {
  gauge.set({ usage }, Date.parse(leaf.notAfter) / 1000);
}

/** Reads and checks the files at start-up (configuration time); throws a message naming the variable. */
export function loadTlsMaterialSync(files: TlsFiles): TlsMaterial {
  const read = (file: { variable: string; path: string }, limit: number): string => {
    try {
      return readBoundedFileSync(file.path, limit);
    } catch (err) {
      throw new Error(`${file.variable}: ${(err as Error).message}`, { cause: err });
    }
  };
  return checkTlsMaterial(files, {
    cert: read(files.cert, CERT_FILE_LIMIT),
    key: read(files.key, KEY_FILE_LIMIT),
    ...(files.ca === undefined ? {} : { ca: read(files.ca, CERT_FILE_LIMIT) }),
  });
}

/** The same, while running (never blocks the event loop). */
export async function loadTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const read = (file: { variable: string; path: string }, limit: number): Promise<string> =>
    readBoundedFile(file.path, limit).catch((err: unknown) => {
      throw new Error(`${file.variable}: ${(err as Error).message}`, { cause: err });
    });
  const [cert, key, ca] = await Promise.all([
    read(files.cert, CERT_FILE_LIMIT),
    read(files.key, KEY_FILE_LIMIT),
    files.ca === undefined ? undefined : read(files.ca, CERT_FILE_LIMIT),
  ]);
  return checkTlsMaterial(files, { cert, key, ...(ca === undefined ? {} : { ca }) });
}

/** A CA bundle file read and parsed at start-up; throws a message naming the variable. */
export function loadCaFileSync(variable: string, path: string): string {
  let text: string;
  try {
    text = readBoundedFileSync(path, CERT_FILE_LIMIT);
  } catch (err) {
    throw new Error(`${variable}: ${(err as Error).message}`, { cause: err });
  }
  parseCertificates(text, `${variable}: ${path}`);
  return text;
}

/** Reads the CA bundle while running. */
export async function loadCaFile(variable: string, path: string): Promise<string> {
  const text = await readBoundedFile(path, CERT_FILE_LIMIT).catch((err: unknown) => {
    throw new Error(`${variable}: ${(err as Error).message}`, { cause: err });
  });
  parseCertificates(text, `${variable}: ${path}`);
  return text;
}

/** How often watched files are compared with what was last loaded when no change event arrives. */
export const FILE_POLL_MS = 30_000;
/** Events come in bursts (a Secret volume swaps a symlink, cp writes twice): one check after the burst. */
const SETTLE_MS = 100;

export interface FileWatchOptions {
  readonly paths: readonly string[];
  /** Loads and applies the files; a throw keeps what was loaded before and is retried at the next change or poll. */
  readonly reload: () => Promise<void>;
  readonly logger: Logger;
  /** What is watched, for the log ("TLS certificate", "sidecar token"). */
  readonly what: string;
  readonly pollMs?: number;
}

/**
 * Re-reads files when they change: fs.watch on their folders (where Kubernetes swaps a Secret
 * volume's `..data` symlink, so the files' own watches would be lost), and a poll as the fallback
 * for file systems without change events. A change is a different inode, size or mtime of any
 * path (followed through symlinks); the first check only records what is there.
 */
export class FileWatch {
  readonly #options: FileWatchOptions;
  readonly #watchers: FSWatcher[] = [];
  #signature: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #lastProblem: string | undefined;
  #stopped = false;

  constructor(options: FileWatchOptions) {
    this.#options = options;
  }

  /** Records the files as they are now (already loaded by the caller) and starts watching. */
  async start(): Promise<void> {
    this.#signature = await this.#currentSignature();
    for (const dir of new Set(this.#options.paths.map((path) => dirname(path)))) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.#soon());
        watcher.on('error', () => undefined);
        this.#watchers.push(watcher);
      } catch (err) {
        this.#options.logger.debug({ dir, reason: (err as Error).message }, 'no change events for this folder: polling only');
      }
    }
    this.#schedulePoll();
  }

  stop(): void {
    this.#stopped = true;
    for (const watcher of this.#watchers) watcher.close();
    clearTimeout(this.#timer);
    clearTimeout(this.#poll);
  }

  /** Checks now (also what the poll and the change events call); resolves when the check is done. */
  check(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#check().finally(() => {
      this.#running = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.check();
      }
    });
    return this.#running;
  }

  #soon(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.check(), SETTLE_MS);
    this.#timer.unref();
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    this.#poll = setTimeout(() => {
      void this.check().finally(() => this.#schedulePoll());
    }, this.#options.pollMs ?? FILE_POLL_MS);
    this.#poll.unref();
  }

  async #check(): Promise<void> {
    const log = this.#options.logger;
    const signature = await this.#currentSignature();
    if (signature === this.#signature) return;
    try {
      await this.#options.reload();
      this.#signature = signature;
      this.#lastProblem = undefined;
    } catch (err) {
      // Not recorded as seen: the next event or poll tries again (a pair half-written, a file missing for a moment).
      const reason = (err as Error).message;
      log[reason === this.#lastProblem ? 'debug' : 'warn']({ reason }, `${this.#options.what} changed on disk but could not be loaded: keeping the one in use`);
      this.#lastProblem = reason;
    }
  }

  async #currentSignature(): Promise<string> {
    const parts = await Promise.all(
      this.#options.paths.map(async (path) => {
        try {
          const s = await stat(path);
          return `${s.ino}:${s.size}:${s.mtimeMs}`;
        } catch (err) {
          return `missing:${(err as { code?: string }).code ?? ''}`;
        }
      }),
    );
    return parts.join('|');
  }
}

/** node:https options of a server with this material; with a client CA, client certificates are asked for (and checked per route). */
export function serverTlsOptions(material: TlsMaterial, requestClientCert: boolean): HttpsServerOptions {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    ...(requestClientCert ? { ca: material.ca, requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** A new certificate (and client CA) for connections from now on; open ones keep theirs. */
export function setServerContext(server: unknown, material: TlsMaterial): void {
  (server as TlsServer).setSecureContext({ cert: material.cert, key: material.key, ...(material.ca === undefined ? {} : { ca: material.ca }) });
}

/** Whether `host` (a listen address) is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host);
}

/**
 * An `onRequest` hook for mutual TLS: under `prefix`, a request whose connection presented no
 * client certificate signed by the client CA is answered 401, as a wrong token is, before
 * anything else about it is looked at. Probes and metrics (outside the prefix) stay open:
 * the kubelet and Prometheus present no client certificate.
 */
export function requireClientCertificate(prefix: string, onReject: (reason: string) => void) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (!request.url.startsWith(prefix)) return undefined;
    const socket = request.raw.socket as TLSSocket;
    if (socket.authorized === true) return undefined;
    const presented = typeof socket.getPeerCertificate === 'function' && Object.keys(socket.getPeerCertificate()).length > 0;
    const reason = presented ? String(socket.authorizationError ?? 'not authorized') : 'no client certificate';
    onReject(reason);
    reply.header('WWW-Authenticate', 'Bearer');
    return sendError(reply, 401);
  };
}

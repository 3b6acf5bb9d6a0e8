/**
 * Every error the balancer raises or reports, each with a stable `code` (tests and log queries match on it)
 * and the context a user needs (field, backend address, limit).
 */

export type BalancerErrorCode =
  | 'IOLAB_BALANCER_CONFIG_INVALID'
  | 'IOLAB_BALANCER_NO_BACKEND'
  | 'IOLAB_BALANCER_CONNECT_FAILED'
  | 'IOLAB_BALANCER_CONNECT_TIMEOUT'
  | 'IOLAB_BALANCER_FIRST_BYTE_TIMEOUT'
  | 'IOLAB_BALANCER_LISTEN_FAILED'
  | 'IOLAB_BALANCER_QUEUE_TIMEOUT'
  | 'IOLAB_BALANCER_QUEUE_FULL'
  | 'IOLAB_BALANCER_IDLE_TIMEOUT'
  | 'IOLAB_BALANCER_CLIENT_FIN_TIMEOUT'
  | 'IOLAB_BALANCER_PROXY_HEADER_INVALID'
  | 'IOLAB_BALANCER_PROXY_HEADER_TOO_LONG'
  | 'IOLAB_BALANCER_PROXY_HEADER_TIMEOUT'
  | 'IOLAB_BALANCER_UNKNOWN_POOL'
  | 'IOLAB_BALANCER_UNKNOWN_BACKEND'
  | 'IOLAB_BALANCER_DUPLICATE_BACKEND'
  | 'IOLAB_BALANCER_NOT_STARTED'
  | 'IOLAB_BALANCER_CLOSED'
  | 'IOLAB_BALANCER_NFT_FAILED';

export class BalancerError extends Error {
  readonly code: BalancerErrorCode;
  constructor(code: BalancerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A config value is wrong; `field` is its path, e.g. `pools[0].backends[2].port`. */
export class BalancerConfigError extends BalancerError {
  /** JSON pointer (RFC 6901) of the first problem, e.g. `/pools/0/backends/2/port`; `` is the root. */
  readonly field: string;
  readonly reason: string;
  /** Every problem found, in one go (the first is `field`/`reason`). */
  readonly issues: readonly ConfigIssue[];
  constructor(field: string, reason: string, issues?: readonly ConfigIssue[]) {
    const all = issues ?? [{ pointer: field, message: reason }];
    super(
      'IOLAB_BALANCER_CONFIG_INVALID',
      all.length === 1
        ? `invalid balancer config: ${field || '(root)'} ${reason}`
        : `invalid balancer config:\n${all.map((i) => `  ${i.pointer || '(root)'}: ${i.message}`).join('\n')}`,
    );
    this.field = field;
    this.reason = reason;
    this.issues = all;
  }
}

/** One configuration problem: a JSON pointer (RFC 6901; `` = the root) to the field, and why. */
export interface ConfigIssue {
  readonly pointer: string;
  readonly message: string;
}

/** No backend could take the connection: all down, drained, disabled, or every attempt failed. */
export class NoBackendError extends BalancerError {
  readonly pool: string;
  constructor(pool: string, detail: string) {
    super('IOLAB_BALANCER_NO_BACKEND', `no backend available in pool ${JSON.stringify(pool)}: ${detail}`);
    this.pool = pool;
  }
}

/** A backend refused the connection or failed while connecting (before any byte was forwarded). */
export class ConnectFailedError extends BalancerError {
  readonly backend: string;
  constructor(backend: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('IOLAB_BALANCER_CONNECT_FAILED', `connect to backend ${backend} failed: ${why}`, { cause });
    this.backend = backend;
  }
}

export class ConnectTimeoutError extends BalancerError {
  readonly backend: string;
  readonly timeoutMs: number;
  constructor(backend: string, timeoutMs: number) {
    super('IOLAB_BALANCER_CONNECT_TIMEOUT', `connect to backend ${backend} timed out after ${timeoutMs} ms`);
    this.backend = backend;
    this.timeoutMs = timeoutMs;
  }
}

/** The backend accepted the connection but sent no byte within `timeouts.firstByte` while the client waited. */
export class FirstByteTimeoutError extends BalancerError {
  readonly backend: string;
  readonly timeoutMs: number;
  constructor(backend: string, timeoutMs: number) {
    super(
      'IOLAB_BALANCER_FIRST_BYTE_TIMEOUT',
      `backend ${backend} sent no first byte within ${timeoutMs} ms`,
    );
    this.backend = backend;
    this.timeoutMs = timeoutMs;
  }
}

/** A listener could not bind (start, or a reload that moved it); `address` is what it tried. */
export class ListenFailedError extends BalancerError {
  readonly listener: string;
  readonly address: string;
  constructor(listener: string, address: string, cause: unknown) {
    const why =
      (cause as NodeJS.ErrnoException)?.code ?? (cause instanceof Error ? cause.message : String(cause));
    super(
      'IOLAB_BALANCER_LISTEN_FAILED',
      `listener ${JSON.stringify(listener)} cannot bind ${address}: ${why}`,
      {
        cause,
      },
    );
    this.listener = listener;
    this.address = address;
  }
}

export class QueueTimeoutError extends BalancerError {
  readonly pool: string;
  readonly timeoutMs: number;
  constructor(pool: string, timeoutMs: number) {
    super('IOLAB_BALANCER_QUEUE_TIMEOUT', `waited ${timeoutMs} ms for a free maxconn slot in pool ${pool}`);
    this.pool = pool;
    this.timeoutMs = timeoutMs;
  }
}

export class QueueFullError extends BalancerError {
  readonly pool: string;
  readonly limit: number;
  constructor(pool: string, limit: number) {
    super('IOLAB_BALANCER_QUEUE_FULL', `queue of pool ${pool} is full (maxQueue ${limit})`);
    this.pool = pool;
    this.limit = limit;
  }
}

export class IdleTimeoutError extends BalancerError {
  readonly timeoutMs: number;
  constructor(code: 'IOLAB_BALANCER_IDLE_TIMEOUT' | 'IOLAB_BALANCER_CLIENT_FIN_TIMEOUT', timeoutMs: number) {
    super(
      code,
      `no traffic for ${timeoutMs} ms (${code === 'IOLAB_BALANCER_IDLE_TIMEOUT' ? 'idle' : 'half-closed'})`,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** Bytes that are not a valid PROXY v1/v2 header; `offset` is where parsing stopped. */
export class ProxyHeaderInvalidError extends BalancerError {
  readonly offset: number;
  constructor(reason: string, offset: number) {
    super(
      'IOLAB_BALANCER_PROXY_HEADER_INVALID',
      `invalid PROXY protocol header at byte ${offset}: ${reason}`,
    );
    this.offset = offset;
  }
}

export class ProxyHeaderTooLongError extends BalancerError {
  readonly limit: number;
  constructor(limit: number, version: 1 | 2) {
    super('IOLAB_BALANCER_PROXY_HEADER_TOO_LONG', `PROXY v${version} header longer than ${limit} bytes`);
    this.limit = limit;
  }
}

export class ProxyHeaderTimeoutError extends BalancerError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('IOLAB_BALANCER_PROXY_HEADER_TIMEOUT', `no complete PROXY header within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

export class UnknownPoolError extends BalancerError {
  constructor(pool: string) {
    super('IOLAB_BALANCER_UNKNOWN_POOL', `no pool named ${JSON.stringify(pool)}`);
  }
}

export class UnknownBackendError extends BalancerError {
  constructor(pool: string, backend: string) {
    super(
      'IOLAB_BALANCER_UNKNOWN_BACKEND',
      `no backend ${JSON.stringify(backend)} in pool ${JSON.stringify(pool)}`,
    );
  }
}

export class DuplicateBackendError extends BalancerError {
  constructor(pool: string, backend: string) {
    super(
      'IOLAB_BALANCER_DUPLICATE_BACKEND',
      `pool ${JSON.stringify(pool)} already has backend ${JSON.stringify(backend)}`,
    );
  }
}

export class BalancerStateError extends BalancerError {
  constructor(code: 'IOLAB_BALANCER_NOT_STARTED' | 'IOLAB_BALANCER_CLOSED', message: string) {
    super(code, message);
  }
}

/** The nft engine could not install or remove its ruleset (`nft` missing, no CAP_NET_ADMIN, a bad rule). */
export class NftApplyError extends BalancerError {
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super('IOLAB_BALANCER_NFT_FAILED', `${message}: ${stderr.trim().split('\n')[0] ?? ''}`);
    this.stderr = stderr;
  }
}

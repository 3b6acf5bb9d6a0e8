/**
 * What a policy sees and returns. A policy is a plain function value (piscina's "strategies are values"):
 * the balancer has already removed every backend that must not be picked (down, draining, disabled,
 * at `maxconn`, already tried for this connection; backups unless every primary is down), so a policy
 * only chooses among `backends` — and returning `undefined` means "none of these".
 */

/** Read-only view of one backend as policies see it. */
export interface BackendView {
  /** Stable id (default `host:port`). */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Configured weight, >= 1 here (weight 0 backends are never offered). */
  readonly weight: number;
  readonly backup: boolean;
  /** Proxied connections currently open or connecting to this backend. */
  readonly active: number;
  /** Connections ever sent to this backend. */
  readonly total: number;
}

/** Per-connection facts a policy may use. */
export interface PickContext {
  /** Client IP (the PROXY header's source when the listener accepts PROXY). */
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly listener: string;
  readonly pool: string;
  /** 0 for the first pick, then 1, 2, … for retries after connect failures. */
  readonly attempt: number;
}

/**
 * Choose one of `backends` (never empty when called) or `undefined` to refuse. The array is reused between
 * calls (a pick happens per connection): read it during the call, keep ids or the views, not the array.
 */
export type Policy = (ctx: PickContext, backends: readonly BackendView[]) => BackendView | undefined;

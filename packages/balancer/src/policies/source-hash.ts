import type { BackendView, PickContext, Policy } from '../policy.js';

/** Ring points per unit of weight: ketama uses 160 per server; 100 keeps the ±10% spread for small pools. */
export const DEFAULT_SOURCE_HASH_POINTS = 100;
/**
 * `c` of "consistent hashing with bounded loads" (Mirrokni, Thorup, Zadimoghaddam 2016): no backend takes more
 * than `c ×` its fair share of active connections. 1.25 is HAProxy's default `hash-balance-factor 125`.
 */
export const DEFAULT_SOURCE_HASH_LOAD_FACTOR = 1.25;
/**
 * Most points on one ring, whatever the weights and backend count (Envoy caps its ring too:
 * `maximum_ring_size`). Past it, points per weight are scaled down so the ring keeps the weight ratios.
 * 16 Ki points spread 100 backends within a few % of their share; building one (hash, sort of a
 * Float64Array) takes a few ms, which is what a connection that meets a new backend set may wait.
 */
export const MAX_SOURCE_HASH_RING_POINTS = 16 * 1024;
/** Rings kept for distinct backend sets; sets change only on health/admin events, so a few suffice. */
const MAX_CACHED_RINGS = 8;

export interface SourceHashOptions {
  pointsPerWeight?: number;
  /** >= 1; `Infinity` turns bounded load off (pure consistent hashing). */
  loadFactor?: number;
}

interface Ring {
  points: Uint32Array;
  owners: BackendView[];
}

/** FNV-1a then murmur3's finaliser: FNV alone clusters on similar strings such as `10.0.0.1`, `10.0.0.2`. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function buildRing(backends: readonly BackendView[], pointsPerWeight: number): Ring {
  let totalWeight = 0;
  for (const b of backends) totalWeight += weightOf(b);
  // Scale so that the sum stays under the cap; each backend keeps at least one point.
  const wanted = totalWeight * pointsPerWeight;
  const per =
    wanted > MAX_SOURCE_HASH_RING_POINTS ? MAX_SOURCE_HASH_RING_POINTS / totalWeight : pointsPerWeight;
  const counts = backends.map((b) => Math.max(1, Math.floor(weightOf(b) * per)));
  let size = 0;
  for (const n of counts) size += n;
  // point × 2^16 + owner index packs into one double exactly (2^48 < 2^53): one numeric typed-array sort,
  // no object per point. Backends beyond 65 536 cannot occur with any sane config; they share index bits.
  const packed = new Float64Array(size);
  let k = 0;
  backends.forEach((b, idx) => {
    // Points hang off the backend's id, so a backend keeps its arcs when others come and go.
    for (let i = 0; i < counts[idx]!; i++) packed[k++] = hash32(`${b.id}#${i}`) * 65536 + (idx & 0xffff);
  });
  packed.sort();
  const points = new Uint32Array(size);
  const owners = new Array<BackendView>(size);
  for (let i = 0; i < size; i++) {
    const v = packed[i]!;
    points[i] = Math.floor(v / 65536);
    owners[i] = backends[v % 65536]!;
  }
  return { points, owners };
}

/** A weight usable in ring arithmetic: policies may be handed views they did not build (custom callers). */
function weightOf(b: BackendView): number {
  const w = b.weight;
  return Number.isFinite(w) && w > 0 ? Math.min(w, 1 << 16) : 1;
}

/** First ring index whose point is >= h (wrapping to 0). */
function lowerBound(points: Uint32Array, h: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]! < h) lo = mid + 1;
    else hi = mid;
  }
  return lo === points.length ? 0 : lo;
}

/**
 * Consistent hashing on the client address with bounded load: a client goes to the first backend clockwise
 * from `hash(clientAddress)` on a ring of weighted virtual points, unless that backend already holds more
 * than `loadFactor ×` its fair share of active connections — then the walk continues to the next one.
 *
 * So a client sticks to one backend while loads are sane; when a backend leaves, only its clients move;
 * and one hot client address cannot pile everything onto one backend.
 */
export function sourceHash(options: SourceHashOptions = {}): Policy {
  const pointsPerWeight = options.pointsPerWeight ?? DEFAULT_SOURCE_HASH_POINTS;
  const loadFactor = options.loadFactor ?? DEFAULT_SOURCE_HASH_LOAD_FACTOR;
  const rings = new Map<string, Ring>();
  return (ctx: PickContext, backends: readonly BackendView[]) => {
    if (backends.length <= 1) return backends[0];
    let key = '';
    let totalActive = 0;
    let totalWeight = 0;
    for (const b of backends) {
      key += `${b.id}\0${b.weight}\0`;
      totalActive += b.active;
      totalWeight += weightOf(b);
    }
    let ring = rings.get(key);
    if (ring === undefined) {
      if (rings.size >= MAX_CACHED_RINGS) rings.delete(rings.keys().next().value!);
      ring = buildRing(backends, pointsPerWeight);
      rings.set(key, ring);
    }
    // The ring holds view objects from when it was built; read live counts from the current list.
    const live = new Map<string, BackendView>();
    for (const b of backends) live.set(b.id, b);
    const start = lowerBound(ring.points, hash32(ctx.clientAddress));
    const seen = new Set<string>();
    for (let i = 0; i < ring.owners.length && seen.size < backends.length; i++) {
      const owner = ring.owners[(start + i) % ring.owners.length]!;
      if (seen.has(owner.id)) continue;
      seen.add(owner.id);
      const b = live.get(owner.id)!;
      const capacity = Math.ceil((loadFactor * (totalActive + 1) * weightOf(b)) / totalWeight);
      if (b.active + 1 <= capacity) return b;
    }
    // Every backend is at capacity (possible only with loadFactor close to 1): fall back to the home one.
    return live.get(ring.owners[start]!.id);
  };
}

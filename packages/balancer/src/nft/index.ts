// `@iolab/balancer/nft`: the same balancer config run by the kernel (nftables NAT) instead of by sockets.

export { NftApplyError } from '../errors.js';
export {
  NFT_APPLY_TIMEOUT_MS,
  type NftDirector,
  type NftDirectorEvent,
  type NftDirectorOptions,
  startNftDirector,
} from './nft-director.js';
export {
  activeBackends,
  NFT_POLICIES,
  type NftPolicy,
  type NftService,
  nftServices,
  numgenMap,
  renderNftRuleset,
} from './nft-ruleset.js';

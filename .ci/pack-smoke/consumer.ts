// Type-checked under moduleResolution nodenext and bundler: the packages' types resolve in both.
import { type Balancer, type BalancerConfig, createBalancer } from '@iolab/balancer';
import { type BalancerFileConfig, parseBalancerConfig } from '@iolab/balancer/ops';
import { type FrameDecoder, LengthFieldDecoder, lengthFieldCodec } from '@iolab/framing';

const config: BalancerConfig = {
  listeners: [{ port: 0, pool: 'p' }],
  pools: [{ name: 'p', backends: [{ host: '127.0.0.1', port: 9000, weight: 3 }] }],
  timeouts: { connect: '5s', idle: 600_000 },
};
export const lb: Balancer = createBalancer(config);
export const file: BalancerFileConfig = parseBalancerConfig({
  listeners: [{ port: 0, pool: 'p' }],
  pools: [{ name: 'p', backends: [] }],
});
const { encoder, decoder } = lengthFieldCodec({ lengthFieldLength: 4 });
export const d: FrameDecoder = decoder;
export const parts: Uint8Array[] = encoder.encode(new Uint8Array(1));
export const plain = new LengthFieldDecoder({ lengthFieldLength: 2 });

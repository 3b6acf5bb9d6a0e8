// CommonJS consumers: require() of the ESM packages (Node 20.19+ / 22.12+, the packages' engines).
const { createBalancer, roundRobin } = require('@iolab/balancer');
const { LengthFieldDecoder, lengthFieldCodec } = require('@iolab/framing');
const ops = require('@iolab/balancer/ops');
for (const [name, v] of Object.entries({
  createBalancer,
  roundRobin,
  LengthFieldDecoder,
  lengthFieldCodec,
  parseBalancerConfig: ops.parseBalancerConfig,
})) {
  if (typeof v !== 'function') throw new Error(`require: ${name} is ${typeof v}`);
}
console.log('ok  require() of @iolab/balancer, @iolab/balancer/ops and @iolab/framing');

// gRPC against HTTP at concurrency 1, from one run: branchy-bench (112x112 input) on held-out
// digits, plan "serial", one request at a time, each round sending the same digit as HTTP JSON,
// HTTP binary (binary tensor data extension, both ways) and gRPC ModelInfer with
// raw_input_contents, in a rotating order. Per kind: the client's round trip (p50, mean) and the
// gateway's own ingress_ms (request received → enqueued) and total_ms, p50, and per request the
// round trip less total_ms (what the transport and client add outside the gateway's clock), p50.
// Run after `npm run build`: node scripts/grpc-vs-http.js [rounds]
const { OutletSystem } = require('../dist/libs/supervisor/src');
const { join } = require('node:path');
const grpc = require('@grpc/grpc-js');
const { heldOutDigit, upscaleNearest } = require('../dist/libs/bench/src');
const { fp32ToBytes } = require('../dist/apps/gateway/src/binary-tensor');
const { loadGrpcInferenceService } = require('../dist/apps/gateway/src/grpc/proto');

const MODEL = 'branchy-bench';
const SHAPE = [1, 1, 112, 112];
const ROUNDS = Number(process.argv[2] ?? 300);
const WARMUP = 20;
const KINDS = ['http-json', 'http-binary', 'grpc-raw'];

(async () => {
  const system = await OutletSystem.start({ quiet: true, env: { OUTLET_MODELS_DIR: join(__dirname, '..', 'models'), OUTLET_TRUNK_EP: 'cpu' }, nodes: [{ nodeId: 'm' }] });
  const Service = loadGrpcInferenceService();
  const client = new Service(system.grpcAddress, grpc.credentials.createInsecure());
  const url = `${system.baseUrl}/v2/models/${MODEL}/infer`;

  // 20 held-out digits (two of each label), upscaled 28 → 112 as the bench model expects.
  const digits = [];
  for (let nth = 0; nth < 2; nth++) for (let label = 0; label < 10; label++) digits.push({ label, pixels: upscaleNearest(heldOutDigit(label, nth), 28, 4) });
  const requests = digits.map(({ label, pixels }) => {
    const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: SHAPE, datatype: 'FP32', data: Array.from(pixels) }], parameters: { plan: 'serial' } }));
    const h = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: SHAPE, datatype: 'FP32', parameters: { binary_data_size: pixels.length * 4 } }], parameters: { plan: 'serial', binary_data_output: true } }));
    const binary = Buffer.concat([h, fp32ToBytes(pixels)]);
    const grpcRequest = { model_name: MODEL, parameters: { plan: { string_param: 'serial' } }, inputs: [{ name: 'input', datatype: 'FP32', shape: SHAPE }], raw_input_contents: [fp32ToBytes(pixels)] };
    return { label, json, binary, headerLength: h.length, grpcRequest };
  });

  const http = async (body, headers) => {
    const r = await fetch(url, { method: 'POST', body, headers });
    const buf = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${buf.toString()}`);
    const len = r.headers.get('inference-header-content-length');
    return JSON.parse(buf.subarray(0, len ? Number(len) : buf.length).toString()).parameters;
  };
  const modelInfer = (request) =>
    new Promise((resolve, reject) =>
      client.ModelInfer(request, { deadline: Date.now() + 30_000 }, (err, res) => {
        if (err) return reject(err);
        const p = {};
        for (const [k, v] of Object.entries(res.parameters)) p[k] = v[v.parameter_choice];
        resolve(p);
      }),
    );
  const send = {
    'http-json': (r) => http(r.json, { 'content-type': 'application/json' }),
    'http-binary': (r) => http(r.binary, { 'Inference-Header-Content-Length': String(r.headerLength) }),
    'grpc-raw': (r) => modelInfer(r.grpcRequest),
  };

  const res = Object.fromEntries(KINDS.map((k) => [k, { ingress: [], total: [], client: [], outside: [] }]));
  let disagreements = 0;
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const req = requests[round % requests.length];
    const order = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length]);
    const answers = {};
    for (const k of order) {
      const t0 = performance.now();
      const p = await send[k](req);
      const t1 = performance.now();
      answers[k] = `${p.label}@${p.exit_index}`;
      if (round < WARMUP) continue;
      res[k].ingress.push(p.ingress_ms);
      res[k].total.push(p.total_ms);
      res[k].client.push(t1 - t0);
      res[k].outside.push(t1 - t0 - p.total_ms);
    }
    if (new Set(Object.values(answers)).size !== 1) disagreements++;
  }

  const sorted = (a) => [...a].sort((x, y) => x - y);
  const p50 = (a) => sorted(a)[Math.floor(a.length / 2)].toFixed(3);
  const mean = (a) => (a.reduce((s, x) => s + x, 0) / a.length).toFixed(3);
  console.log(`${MODEL}, plan serial, concurrency 1, ${ROUNDS} rounds after ${WARMUP} warm-up, ${digits.length} held-out digits, kinds alternating (ms)`);
  console.log(['kind'.padEnd(12), 'body bytes', 'client p50', 'client mean', 'ingress p50', 'total p50', 'client-total p50', 'n'].join('  '));
  for (const k of KINDS) {
    const r0 = requests[0];
    const bytes = k === 'http-json' ? r0.json.length : k === 'http-binary' ? r0.binary.length : Service.service.ModelInfer.requestSerialize(r0.grpcRequest).length;
    console.log([k.padEnd(12), String(bytes).padStart(9), p50(res[k].client).padStart(10), mean(res[k].client).padStart(11), p50(res[k].ingress).padStart(11), p50(res[k].total).padStart(9), p50(res[k].outside).padStart(16), String(res[k].client.length)].join('  '));
  }
  console.log(`answers (label@exit) differing between kinds in a round: ${disagreements}`);
  client.close();
  await system.stop();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

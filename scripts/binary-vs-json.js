// The binary tensor extension against JSON on branchy-bench (112x112 input), requests alternating:
// ingress_ms (request received → enqueued), total_ms and the client's round trip, p50.
// Run after `npm run build`: node scripts/binary-vs-json.js
const { OutletSystem } = require('../dist/libs/supervisor/src');
const { join } = require('node:path');
const { heldOutDigit, upscaleNearest } = require('../dist/libs/bench/src');
const { fp32ToBytes } = require('../dist/apps/gateway/src/binary-tensor');
(async () => {
  const system = await OutletSystem.start({ quiet: true, env: { OUTLET_MODELS_DIR: join(__dirname, '..', 'models'), OUTLET_TRUNK_EP: 'cpu' }, nodes: [{ nodeId: 'm' }] });
  const url = `${system.baseUrl}/v2/models/branchy-bench/infer`;
  const pixels = Array.from(upscaleNearest(heldOutDigit(7, 0), 28, 4));
  const jsonBody = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 1, 112, 112], datatype: 'FP32', data: pixels }], parameters: { plan: 'serial' } }));
  const h = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 1, 112, 112], datatype: 'FP32', parameters: { binary_data_size: pixels.length * 4 } }], parameters: { plan: 'serial', binary_data_output: true } }));
  const binBody = Buffer.concat([h, fp32ToBytes(Float32Array.from(pixels))]);
  const kinds = { json: [jsonBody, { 'content-type': 'application/json' }], binary: [binBody, { 'Inference-Header-Content-Length': String(h.length) }] };
  const res = { json: { ingress: [], total: [], client: [] }, binary: { ingress: [], total: [], client: [] } };
  for (let round = 0; round < 300; round++) {
    for (const k of round % 2 ? ['json', 'binary'] : ['binary', 'json']) {
      const [body, headers] = kinds[k];
      const t0 = performance.now();
      const r = await fetch(url, { method: 'POST', body, headers });
      const buf = Buffer.from(await r.arrayBuffer());
      const t1 = performance.now();
      const len = r.headers.get('inference-header-content-length');
      const j = JSON.parse(buf.subarray(0, len ? Number(len) : buf.length).toString());
      if (round < 20) continue;
      res[k].ingress.push(j.parameters.ingress_ms); res[k].total.push(j.parameters.total_ms); res[k].client.push(t1 - t0);
    }
  }
  const p50 = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)].toFixed(3); };
  for (const k of ['json', 'binary']) console.log(k, 'bytes', kinds[k][0].length, 'ingress p50', p50(res[k].ingress), 'total p50', p50(res[k].total), 'client p50', p50(res[k].client), 'n', res[k].ingress.length);
  await system.stop();
})().catch((e) => { console.error(e); process.exit(1); });

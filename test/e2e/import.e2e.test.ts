import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { dump as dumpNpy } from 'npyjs';
import { MNIST_PIXELS, heldOutDigit } from '@outlet/bench';
import { loadModelPackage } from '@outlet/model-package';
import { OutletSystem } from '@outlet/supervisor';
import { REPO_ROOT } from '../support/direct';
import { post } from '../support/http';

/**
 * The import path end to end: the committed single-file residual multi-exit ONNX is split by
 * `outlet import` (a real CLI process), served by a real system (gateway, trunk and branch
 * workers, Redis), and every preset plan's answers are checked against the original file's own
 * output for the exit that answered.
 */
const ORIGINAL = join(REPO_ROOT, 'training', 'residual-exits.onnx');
const EXITS = ['exit1', 'exit2', 'final'];
const PLANS = ['serial', 'parallel', 'full'];

/** Held-out digits (the test split), a few of every class. */
function heldOutDigits(perClass: number): { label: number; pixels: Float32Array }[] {
  return Array.from({ length: 10 * perClass }, (_, k) => ({ label: k % 10, pixels: Float32Array.from(heldOutDigit(k % 10, Math.floor(k / 10))) }));
}

/** max|a − b| / max|b|, computed here rather than with the importer's own function, which this test checks. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

describe('outlet import: a single-file multi-exit ONNX, split, served and answering as the original', () => {
  const work = mkdtempSync(join(tmpdir(), 'outlet-import-'));
  const modelsDir = join(work, 'models');
  const digits = heldOutDigits(3);
  let system: OutletSystem;
  let reference: Float32Array[][]; // [digit][exit]
  let thresholds: number[];
  let importOutput: string;

  before(async () => {
    // The held-out digits as NPY, the generic data format, for the import's own numerical check.
    const inputs = join(work, 'digits.npy');
    const flat = new Float32Array(digits.length * MNIST_PIXELS);
    digits.forEach((d, k) => flat.set(d.pixels, k * MNIST_PIXELS));
    writeFileSync(inputs, Buffer.from(dumpNpy(flat, [digits.length, 1, 28, 28])));
    const cli = join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
    const args = ['import', ORIGINAL, '--name', 'residual-exits', '--exits', EXITS.join(','), '--out', join(modelsDir, 'residual-exits'), '--data', inputs];
    importOutput = (await promisify(execFile)(process.execPath, [cli, ...args], { cwd: REPO_ROOT })).stdout;
    thresholds = loadModelPackage(join(modelsDir, 'residual-exits')).manifest.exits.map((e) => e.threshold);

    // The reference: the original single file, every exit's output, in this process.
    const session = await ort.InferenceSession.create(readFileSync(ORIGINAL), { intraOpNumThreads: 1 });
    reference = [];
    for (const d of digits) {
      const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', d.pixels, [1, 1, 28, 28]) });
      reference.push(EXITS.map((name) => out[name].data as Float32Array));
    }
    await session.release();

    system = await OutletSystem.start({ quiet: true, env: { OUTLET_MODELS_DIR: modelsDir, OUTLET_TRUNK_EP: 'cpu' }, nodes: [{ nodeId: 'edge-import' }] });
  });

  after(async () => {
    await system?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the import reports its split and a largest error within 1e-5', () => {
    const m = /largest relative error ([0-9.e+-]+)/.exec(importOutput);
    assert.ok(m, importOutput);
    assert.ok(Number(m[1]) <= 1e-5, importOutput);
    assert.match(importOutput, /wrote .*residual-exits: 3 segments, 3 exits/);
  });

  test('a file that cannot be imported as asked is refused with the reason, exit code 1, and nothing written', async () => {
    const cli = join(REPO_ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
    const out = join(work, 'refused');
    const run = promisify(execFile)(process.execPath, [cli, 'import', ORIGINAL, '--name', 'refused', '--exits', 'exit1,logits', '--out', out], { cwd: REPO_ROOT });
    const err = await run.then(() => assert.fail('the import succeeded'), (e: { code: number; stderr: string }) => e);
    assert.equal(err.code, 1);
    assert.match(err.stderr, /unknown exit output 'logits'; the graph's outputs are 'exit1', 'exit2', 'final'; nothing written/);
    assert.equal(existsSync(out), false);
  });

  for (const plan of PLANS) {
    test(`${plan}: every answer equals the original file's output for the exit that answered (1e-5, relative)`, async () => {
      const answered = new Array<number>(EXITS.length).fill(0);
      for (const [k, d] of digits.entries()) {
        const body = { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: Array.from(d.pixels) }], parameters: { plan } };
        const res = await post(`${system.baseUrl}/v2/models/residual-exits/infer`, body);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const exit = res.body.parameters.exit_index as number;
        answered[exit]++;
        const error = relativeError(res.body.outputs[0].data, reference[k][exit]);
        assert.ok(error <= 1e-5, `${plan}, digit ${k}: exit ${exit} differs from the original's '${EXITS[exit]}' by ${error}`);
        if (plan === 'full') assert.equal(exit, EXITS.length - 1, 'full answers from the final exit');
        if (plan === 'serial') {
          // serial answers from the first exit whose max probability reaches its threshold
          const first = reference[k].findIndex((p, e) => e === EXITS.length - 1 || Math.max(...p) >= thresholds[e]);
          assert.equal(exit, first, `serial, digit ${k}`);
        }
        // An early exit answers only when its head is confident (parallel: if it wins the race).
        if (exit < EXITS.length - 1) assert.ok(Math.max(...reference[k][exit]) >= thresholds[exit], `${plan}, digit ${k}: exit ${exit} answered unconfident`);
      }
      // serial is deterministic; in parallel a confident branch head answers only if it beats the
      // trunk's final exit, which a loaded machine may never let it do (a race, not a rule).
      if (plan === 'serial') assert.ok(answered[0] + answered[1] > 0, `serial: some digits leave early (answered per exit ${answered})`);
    });
  }
});

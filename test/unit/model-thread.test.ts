import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ModelThread } from '@outlet/inference';
import { MODELS_DIR } from '../support/direct';

test('a model thread that dies is heard by its owner; later calls fail at once, naming why', async () => {
  const heard: string[] = [];
  const thread = await ModelThread.start(
    { packageDirs: [join(MODELS_DIR, 'branchy-mnist')], ep: 'cpu', threads: 1, pieces: { segments: true, exits: 'none', fused: true } },
    undefined,
    (err) => heard.push(`owner: ${err.message}`),
  );
  const input = { data: new Float32Array(784), dims: [1, 1, 28, 28] };
  const ok = await thread.runSegment({ model: 'branchy-mnist', taskId: 't1', segment: 0, input, withExit: true });
  assert.equal(ok.probabilities?.length, 10);
  // The thread dies, as a native crash would end it.
  await (thread as unknown as { worker: Worker }).worker.terminate();
  assert.deepEqual(heard, ['owner: inference thread stopped: exit code 1']);
  await assert.rejects(thread.runSegment({ model: 'branchy-mnist', taskId: 't3', segment: 0, input, withExit: false }), /inference thread stopped/);
});

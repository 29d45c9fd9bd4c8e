import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import {
  DATA_DIR_ENV,
  DatasetError,
  KNOWN_DATASETS,
  SPLIT_NAMES,
  dataArgumentKind,
  dataDirs,
  findDataset,
  listDatasets,
  loadDataset,
  projectRoot,
  requireExamplesFile,
} from '../../../src/io/data/index.js';
import { tempFiles } from './tmp-files.js';

const files = tempFiles('registry');
const jsonl = (rows: [string, number | string][]) =>
  rows.map(([text, label]) => JSON.stringify({ text, label })).join('\n') + '\n';
const countRows = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;

describe('data directories', () => {
  test('order: option, env, project data/, ../shared/data; root found from the module, not the cwd', () => {
    const root = projectRoot();
    assert.ok(existsSync(join(root, 'package.json')));
    assert.ok(existsSync(join(root, 'src', 'io', 'data', 'registry.ts')));
    const dirs = dataDirs({ dataDir: 'a', env: { [DATA_DIR_ENV]: '/env/data' } });
    assert.deepEqual(
      dirs.map((d) => d.path),
      [resolve('a'), '/env/data', join(root, 'data'), resolve(root, '..', 'shared', 'data')],
    );
    assert.deepEqual(
      dataDirs({ env: {} }).map((d) => d.origin),
      ['project data/', '../shared/data'],
    );
  });
});

describe('registry', () => {
  test('sst2-sentence loads from the shipped data/ folder', async () => {
    const info = await findDataset('sst2-sentence', { env: {} });
    assert.equal(info.location, join(projectRoot(), 'data', 'sst2-sentence'));
    assert.equal(info.origin, 'project data/');
    assert.deepEqual(Object.keys(info.splits), ['train', 'dev', 'test']);
    for (const split of SPLIT_NAMES) {
      const result = await loadDataset('sst2-sentence', { split, env: {} });
      assert.equal(result.source, info.splits[split]);
      assert.equal(result.examples.length, countRows(result.source));
      assert.ok(result.examples.length > 500, `${split}: ${result.examples.length}`);
      assert.deepEqual(result.labelNames, ['negative', 'positive']);
      assert.deepEqual(new Set(result.examples.map((e) => e.label)), new Set([0, 1]));
      assert.equal(result.skipped, 0);
    }
  });

  test('default split is train', async () => {
    const result = await loadDataset('sst2-sentence', { limit: 2, env: {} });
    assert.ok(result.source.endsWith(join('sst2-sentence', 'train.jsonl')));
  });

  test('unknown name: error lists the names and where it looked', async () => {
    await assert.rejects(
      loadDataset('no-such-set', { dataDir: join(files.root(), 'absent') }),
      (error: unknown) => {
        assert.ok(error instanceof DatasetError);
        assert.match(error.message, /unknown data set "no-such-set"/);
        assert.match(error.message, /Available: .*sst2-sentence/);
        assert.match(error.message, /spamassassin/);
        assert.ok(error.message.includes(`${join(files.root(), 'absent')} (option, missing)`), error.message);
        assert.ok(error.message.includes(join(projectRoot(), 'data')), error.message);
        return true;
      },
    );
  });

  test('missing split is an error listing the splits', async () => {
    await files.write('dd/onlytrain/train.jsonl', jsonl([['a', 0]]));
    await assert.rejects(
      loadDataset('onlytrain', { split: 'test', dataDir: join(files.root(), 'dd') }),
      /has no split "test" \(splits: train\)/,
    );
  });

  test('dataDir, then env, shadow the shipped data; folders with split files are data sets', async () => {
    const optionDir = join(files.root(), 'opt');
    const envDir = join(files.root(), 'env');
    await files.write('opt/sst2-sentence/train.jsonl', jsonl([['from option', 1]]));
    await files.write('env/sst2-sentence/train.jsonl', jsonl([['from env', 0]]));
    await files.write('env/extra/dev.csv', 'text,label\nx,1\n');
    await files.write('env/not-a-set/notes.txt', 'nothing');
    const env = { [DATA_DIR_ENV]: envDir };
    const fromOption = await loadDataset('sst2-sentence', { dataDir: optionDir, env });
    assert.equal(fromOption.examples[0]?.text, 'from option');
    const fromEnv = await loadDataset('sst2-sentence', { env });
    assert.equal(fromEnv.examples[0]?.text, 'from env');
    const names = (await listDatasets({ env })).map((d) => d.name);
    assert.ok(names.includes('extra') && !names.includes('not-a-set'), names.join());
    const extra = await loadDataset('extra', { split: 'dev', env });
    assert.deepEqual(extra.examples, [{ text: 'x', label: 1, line: 2 }]);
    assert.deepEqual(extra.labelNames, ['0', '1']);
  });

  test('label names: README "Labels:" line, else inferred from all splits so ids agree', async () => {
    const dir = join(files.root(), 'labels');
    await files.write('labels/withreadme/README.md', '# T\nLabels: 0 = bad, 1 = good.\n');
    await files.write('labels/withreadme/train.jsonl', jsonl([['a', 1]]));
    const withReadme = await loadDataset('withreadme', { dataDir: dir });
    assert.deepEqual(withReadme.labelNames, ['bad', 'good']);
    await files.write(
      'labels/strings/train.jsonl',
      jsonl([
        ['a', 'pos'],
        ['b', 'zeta'],
      ]),
    );
    await files.write(
      'labels/strings/test.jsonl',
      jsonl([
        ['c', 'neg'],
        ['d', 'pos'],
      ]),
    );
    const train = await loadDataset('strings', { dataDir: dir });
    const test_ = await loadDataset('strings', { dataDir: dir, split: 'test' });
    assert.deepEqual(train.labelNames, ['neg', 'pos', 'zeta']);
    assert.deepEqual(test_.labelNames, train.labelNames);
    assert.deepEqual(
      train.examples.map((e) => e.label),
      [1, 2],
    );
    assert.deepEqual(
      test_.examples.map((e) => e.label),
      [0, 1],
    );
  });

  test('a path to a file or to a folder works in place of a name', async () => {
    const file = await files.write('paths/one.tsv', 'text\tlabel\nhi\tspam\n');
    const fromFile = await loadDataset(file);
    assert.deepEqual(fromFile.examples, [{ text: 'hi', label: 0, line: 2 }]);
    assert.equal(fromFile.source, file);
    await files.write('paths/set/test.jsonl', jsonl([['t', 0]]));
    const fromFolder = await loadDataset(join(files.root(), 'paths', 'set'), { split: 'test' });
    assert.equal(fromFolder.examples.length, 1);
    await assert.rejects(loadDataset(join(files.root(), 'nope.jsonl')), /no such data file or folder/);
  });

  test("a folder given by path is read as it is, even when it shares a registered set's name", async () => {
    await files.write(
      'mine/olid/train.jsonl',
      jsonl([
        ['a', 0],
        ['b', 2],
      ]),
    );
    const own = await loadDataset(join(files.root(), 'mine', 'olid'));
    assert.deepEqual(own.labelNames, ['0', '1', '2']);
  });
});

describe('a command that takes one file (predict --data)', () => {
  test('dataArgumentKind: file, folder, missing path, or a name', async () => {
    const file = await files.write('kind/set/test.csv', 'text,label\nx,1\n');
    assert.equal(await dataArgumentKind(file), 'file');
    assert.equal(await dataArgumentKind(join(files.root(), 'kind', 'set')), 'folder');
    assert.equal(await dataArgumentKind(join(files.root(), 'kind', 'none.jsonl')), 'missing');
    assert.equal(await dataArgumentKind('sst2-sentence'), 'name');
  });

  test('a data set name or a folder is refused, naming a file to give instead; a file passes', async () => {
    const dataDir = join(files.root(), 'one');
    await files.write('one/myset/train.jsonl', jsonl([['a', 0]]));
    const test_ = await files.write('one/myset/test.jsonl', jsonl([['b', 1]]));
    await files.write('one/myset/notes.txt', 'not data');
    const takes = 'predict --data takes a file (.jsonl, .csv, .tsv)';
    await assert.rejects(requireExamplesFile('myset', 'predict --data', { dataDir }), (e: Error) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(
        e.message,
        `${takes}; myset is a data set name: give one of its files, such as ${realpathSync(test_)}`,
      );
      return true;
    });
    const folder = join(dataDir, 'myset');
    await assert.rejects(
      requireExamplesFile(folder, 'predict --data'),
      new DatasetError(
        `${takes}; ${folder} is a folder: give one of its files (test.jsonl, train.jsonl), such as ${test_}`,
      ),
    );
    await assert.rejects(
      requireExamplesFile('no-such-set', 'predict --data', { dataDir }),
      new DatasetError(`${takes}; no-such-set is neither a file nor a registered data set name`),
    );
    assert.equal(await requireExamplesFile(test_, 'predict --data'), test_);
    const cwd = process.cwd();
    // A bare name that is a folder in the cwd is that folder, as the reader would take it.
    process.chdir(files.root());
    try {
      await assert.rejects(
        requireExamplesFile('one', 'predict --data', { dataDir }),
        new DatasetError(`${takes}; one is a folder with no data file in it`),
      );
    } finally {
      process.chdir(cwd);
    }
    // The shipped set, as a user in the project root types it.
    process.chdir(projectRoot());
    try {
      await assert.rejects(
        requireExamplesFile('sst2-sentence', 'predict --data', { env: {} }),
        /sst2-sentence is a data set name: give one of its files, such as data\/sst2-sentence\/test\.jsonl$/,
      );
    } finally {
      process.chdir(cwd);
    }
  });
});

const shared = resolve(projectRoot(), '..', 'shared', 'data');
const sharedSets = existsSync(shared)
  ? readdirSync(shared).filter((name) =>
      SPLIT_NAMES.some((split) => existsSync(join(shared, name, `${split}.jsonl`))),
    )
  : [];

describe(
  '../shared/data sets',
  { skip: sharedSets.length === 0 ? `no data sets in ${shared}` : false },
  () => {
    test('every folder is registered by name; its smallest split loads with the known label names', async () => {
      const registered = await listDatasets({ env: {} });
      for (const name of sharedSets) {
        const info = registered.find((d) => d.name === name);
        assert.ok(info !== undefined, `${name} not registered`);
        const [split] = (Object.keys(info.splits) as (typeof SPLIT_NAMES)[number][]).sort(
          (a, b) => statSync(info.splits[a] as string).size - statSync(info.splits[b] as string).size,
        );
        // At most 3,000 rows each (imdb's splits are 33 MB): enough to check labels and names.
        const result = await loadDataset(name, {
          split: split as (typeof SPLIT_NAMES)[number],
          limit: 3000,
          env: {},
        });
        assert.ok(result.examples.length > 100, `${name}/${split}: ${result.examples.length}`);
        const known = KNOWN_DATASETS[name]?.labelNames;
        if (known !== undefined) assert.deepEqual(result.labelNames, known, name);
        const labels = new Set(result.examples.map((e) => e.label));
        assert.ok(labels.size >= 2, `${name}: labels ${[...labels]}`);
        assert.ok([...labels].every((l) => l >= 0 && l < result.labelNames.length));
        assert.ok(result.examples.every((e) => e.text.trim() !== ''));
      }
    });

    test('a whole shared split loads and matches its line count (sst2 dev)', async () => {
      const result = await loadDataset('sst2', { split: 'dev', env: {} });
      assert.equal(result.examples.length, countRows(join(shared, 'sst2', 'dev.jsonl')));
    });
  },
);

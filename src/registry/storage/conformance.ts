/**
 * The storage-driver conformance suite: every driver must pass the same
 * tests (node:test), so the registry's logic can rely on the interface
 * alone. Used by each driver's test file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StorageDriver } from './driver.js';
import { InvalidPath, PathNotFound } from './errors.js';

async function text(r: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(Buffer.from(c));
  return Buffer.concat(out).toString('utf8');
}

export function driverConformance(label: string, make: () => Promise<{ driver: StorageDriver; cleanup: () => Promise<void> }>): void {
  const withDriver = (name: string, fn: (d: StorageDriver) => Promise<void>) => test(`${label}: ${name}`, async () => {
    const { driver, cleanup } = await make();
    try {
      await fn(driver);
    } finally {
      await cleanup();
    }
  });

  withDriver('put, get, overwrite and stat', async (d) => {
    await d.putContent('a/b/c', 'one');
    assert.equal((await d.getContent('a/b/c')).toString(), 'one');
    await d.putContent('a/b/c', 'second');
    assert.equal((await d.getContent('a/b/c')).toString(), 'second');
    const st = await d.stat('a/b/c');
    assert.equal(st?.size, 6);
    assert.equal(st?.isDir, false);
    assert.equal((await d.stat('a/b'))?.isDir, true);
    assert.equal(await d.stat('a/nope'), undefined);
    await assert.rejects(d.getContent('a/nope'), PathNotFound);
    await assert.rejects(d.reader('a/nope'), PathNotFound);
    await assert.rejects(d.move('a/nope', 'a/other'), PathNotFound);
  });

  withDriver('readers from an offset, writers that append', async (d) => {
    const w = await d.writer('up/data', false);
    w.end('hello ');
    await new Promise((r) => w.on('finish', r));
    const w2 = await d.writer('up/data', true);
    w2.end('world');
    await new Promise((r) => w2.on('finish', r));
    assert.equal(await text(await d.reader('up/data')), 'hello world');
    assert.equal(await text(await d.reader('up/data', 6)), 'world');
    assert.equal((await d.stat('up/data'))?.size, 11);
  });

  withDriver('list children, move and recursive delete', async (d) => {
    await d.putContent('r/x/1', '1');
    await d.putContent('r/x/2', '2');
    await d.putContent('r/y', 'y');
    assert.deepEqual(await d.list('r'), ['x', 'y']);
    assert.deepEqual(await d.list('r/x'), ['1', '2']);
    assert.deepEqual(await d.list('none'), []);
    await d.move('r/y', 'r/z/moved');
    assert.equal(await d.stat('r/y'), undefined);
    assert.equal((await d.getContent('r/z/moved')).toString(), 'y');
    await d.putContent('r/dst', 'old');
    await d.move('r/x/1', 'r/dst');
    assert.equal((await d.getContent('r/dst')).toString(), '1');
    await d.delete('r/x');
    assert.deepEqual(await d.list('r'), ['dst', 'z']);
  });

  withDriver('paths cannot climb out', async (d) => {
    await assert.rejects(d.putContent('a/../../etc/x', 'x'), InvalidPath);
    await assert.rejects(d.getContent('../x'), InvalidPath);
  });
}

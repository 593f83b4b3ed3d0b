/**
 * The console's registry browser in a real browser against a real
 * distribution registry (Debian's docker-registry, Basic auth, deletes
 * enabled): the console server answers the registry's challenge with the
 * credentials `docker login` stored; the page lists a pushed tag, its
 * layers and config, an index's platforms, a referrer, and deletes a
 * manifest. Also the events timeline.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { TestDaemon } from '../support/daemon.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { consoleHttp, launchChromium, screenshot, startConsoleProcess, type ConsoleProcess } from '../support/console.js';

const USER = { user: 'alice', password: 'wonderland' };
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const EMPTY = 'application/vnd.oci.empty.v1+json';
const SBOM = 'application/vnd.example.sbom.v1+json';

const digestOf = (b: string | Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('berth console: registry browser and events', () => {
  let d: TestDaemon;
  let con: ConsoleProcess;
  let registry: Registry;
  let browser: Browser;
  let page: Page;
  let configDir = '';
  let env: NodeJS.ProcessEnv = {};
  let imageDigest = '';
  let indexDigest = '';
  let sbomDigest = '';

  const ok = async (args: string[]) => (await d.dockerOk(args, { timeoutMs: 120_000, env })).trim();
  const basic = `Basic ${Buffer.from(`${USER.user}:${USER.password}`).toString('base64')}`;
  /** A request to the registry with the test's own credentials. */
  const reg = async (method: string, path: string, body?: string | Buffer, type?: string) => {
    const res = await fetch(new URL(path, `http://${registry.host}`), { method, headers: { Authorization: basic, ...(type ? { 'Content-Type': type } : {}), Accept: `${OCI_MANIFEST}, ${OCI_INDEX}, application/vnd.docker.distribution.manifest.v2+json` }, ...(body !== undefined ? { body } : {}) });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return res;
  };
  const putBlob = async (repo: string, data: string) => {
    const start = await reg('POST', `/v2/${repo}/blobs/uploads/`);
    const loc = new URL(start.headers.get('location')!, `http://${registry.host}`);
    loc.searchParams.set('digest', digestOf(data));
    await reg('PUT', loc.pathname + loc.search, data, 'application/octet-stream');
  };

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    registry = await startRegistry({ basic: USER, deletes: true });
    configDir = mkdtempSync(join(tmpdir(), 'berth-console-config-'));
    env = { DOCKER_CONFIG: configDir, BERTH_CONFIG: configDir };
    await ok(['login', '-u', USER.user, '-p', USER.password, registry.host]);
    await ok(['tag', 'busybox', `${registry.host}/console/busybox:v1`]);
    await ok(['push', `${registry.host}/console/busybox:v1`]);
    const m = await reg('GET', '/v2/console/busybox/manifests/v1');
    imageDigest = m.headers.get('docker-content-digest')!;
    const imageBody = await m.text();
    // an index naming the image for linux/amd64, tagged "multi"
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: m.headers.get('content-type'), digest: imageDigest, size: Buffer.byteLength(imageBody), platform: { os: 'linux', architecture: 'amd64' } }] });
    indexDigest = digestOf(index);
    await reg('PUT', '/v2/console/busybox/manifests/multi', index, OCI_INDEX);
    // an SBOM that refers to the image, listed under the referrers fallback tag
    await putBlob('console/busybox', '{}');
    const sbom = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: SBOM, config: { mediaType: EMPTY, digest: digestOf('{}'), size: 2 }, layers: [{ mediaType: EMPTY, digest: digestOf('{}'), size: 2 }], subject: { mediaType: m.headers.get('content-type'), digest: imageDigest, size: Buffer.byteLength(imageBody) } });
    sbomDigest = digestOf(sbom);
    await reg('PUT', `/v2/console/busybox/manifests/${sbomDigest}`, sbom, OCI_MANIFEST);
    const referrers = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sbomDigest, size: Buffer.byteLength(sbom), artifactType: SBOM }] });
    await reg('PUT', `/v2/console/busybox/manifests/${imageDigest.replace(':', '-')}`, referrers, OCI_INDEX);

    con = await startConsoleProcess({ ...d.env, ...env });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(con.url);
  });
  after(async () => {
    await browser?.close();
    await con?.stop();
    await registry?.stop();
    await d?.destroy();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  const shot = (name: string) => screenshot(page, name);

  test('the registry browser lists a pushed tag, its layers, config and referrers, with the login\'s credentials', async () => {
    await page.goto(`${con.origin}/#/registry`);
    await page.getByLabel('Registry address').fill(registry.host);
    await page.getByRole('button', { name: 'Browse' }).click();
    await page.getByRole('button', { name: 'console/busybox', exact: true }).click();
    await page.getByRole('button', { name: 'v1', exact: true }).click();
    await page.locator('#manifest-digest', { hasText: imageDigest }).waitFor({ timeout: 15_000 });
    const pushedLayers = JSON.parse(await (await reg('GET', '/v2/console/busybox/manifests/v1')).text()).layers as { digest: string }[];
    const rows = page.locator('#manifest-layers tbody tr');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-digest'))), pushedLayers.map((l) => l.digest));
    await page.locator('#manifest-config', { hasText: '"architecture": "amd64"' }).waitFor({ timeout: 15_000 });
    const ref = page.locator(`#manifest-referrers tr[data-digest="${sbomDigest}"]`);
    await ref.waitFor({ timeout: 15_000 });
    assert.equal(await ref.locator('th').textContent(), SBOM);
    await shot('registry-manifest');
  });

  test('an index shows its platforms, and opens the platform\'s manifest', async () => {
    await page.getByRole('button', { name: 'multi', exact: true }).click();
    await page.locator('#manifest-digest', { hasText: indexDigest }).waitFor({ timeout: 15_000 }).catch(async (err: Error) => {
      await shot('registry-index-failed');
      throw new Error(`${err.message}\nstatus: ${await page.locator('#registry-status').textContent()}\nshown: ${await page.locator('#manifest-digest').textContent()}`);
    });
    const platform = page.locator(`#manifest-platforms tr[data-digest="${imageDigest}"]`);
    assert.equal(await platform.locator('th').textContent(), 'linux/amd64');
    await platform.getByRole('button').click();
    await page.locator('#manifest-digest', { hasText: imageDigest }).waitFor({ timeout: 15_000 });
  });

  test('delete a manifest from the page: its tag is gone from the registry', async () => {
    await page.getByRole('button', { name: 'multi', exact: true }).click();
    await page.locator('#manifest-digest', { hasText: indexDigest }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Delete manifest' }).click();
    await page.locator('#registry-status', { hasText: `Deleted console/busybox@${indexDigest}` }).waitFor({ timeout: 15_000 });
    await page.locator('#registry-tags li[data-tag="multi"]').waitFor({ state: 'detached', timeout: 15_000 });
    const gone = await fetch(`http://${registry.host}/v2/console/busybox/manifests/${indexDigest}`, { headers: { Authorization: basic, Accept: OCI_INDEX } });
    assert.equal(gone.status, 404);
  });

  test('registry requests: a cross-origin delete and a path off the list are refused; a bad address is a 400', async () => {
    const cookie = (await page.context().cookies()).find((c) => c.name === 'berth_console')!;
    const Cookie = `${cookie.name}=${cookie.value}`;
    const q = `?registry=${registry.host}`;
    const cross = await consoleHttp(con.origin, 'DELETE', `/registry/v2/console/busybox/manifests/${imageDigest}${q}`, { Cookie, Origin: 'http://evil.example' });
    assert.equal(cross.status, 403);
    const upload = await consoleHttp(con.origin, 'POST', `/registry/v2/console/busybox/blobs/uploads/${q}`, { Cookie, Origin: con.origin });
    assert.equal(upload.status, 403);
    assert.match(JSON.parse(upload.body).message, /does not forward POST/);
    const bad = await consoleHttp(con.origin, 'GET', '/registry/v2/_catalog?registry=a/b', { Cookie });
    assert.equal(bad.status, 400);
    assert.equal((await reg('GET', '/v2/console/busybox/manifests/v1')).status, 200, 'the image is still there');
  });

  test('the events timeline shows what the CLI did, past and live', async () => {
    await ok(['run', '--name', 'evt-past', 'busybox', 'true']);
    await page.goto(`${con.origin}/#/events`);
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await page.locator('#events tr[data-actor="evt-past"][data-action="die"]').waitFor({ timeout: 15_000 });
    await page.locator('#events tr[data-type="image"][data-action="push"]').first().waitFor({ timeout: 15_000 });
    await ok(['rm', 'evt-past']);
    const top = page.locator('#events tbody tr').first();
    await page.locator('#events tbody tr:first-child[data-actor="evt-past"][data-action="destroy"]').waitFor({ timeout: 5_000 });
    assert.equal(await top.getAttribute('data-action'), 'destroy', 'the newest is on top');
    await page.getByLabel('Type').selectOption('image');
    await page.locator('#events tr[data-type="image"]').first().waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#events tr[data-type="container"]').count(), 0);
    await shot('events');
  });

  test('nothing is left behind', async () => {
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});

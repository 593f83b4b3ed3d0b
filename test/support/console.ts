/**
 * `berth console` for browser tests: the real command as a child process
 * (its printed URL parsed), and Debian's Chromium driven by playwright-core
 * (headless, no browser download). Screenshots go to test-artifacts/console/
 * (git-ignored).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BERTH, REPO } from './daemon.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO, 'test-artifacts/console');

/** The whole page as SCREENSHOTS/<name>.png. */
export function screenshot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface ConsoleProcess {
  /** The printed URL, with its one-time token. */
  url: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** The console server's process (bench/console.mjs samples its memory). */
  pid: number;
  stop(): Promise<void>;
}

export function startConsoleProcess(env: NodeJS.ProcessEnv, args: string[] = ['--listen', '127.0.0.1:0']): Promise<ConsoleProcess> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(BERTH, ['console', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth console printed no URL in 30s: ${out} ${err}`));
    }, 30_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/[^\s/]+)\/\?token=[0-9a-f]+/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[0],
        origin: m[1]!,
        pid: child.pid!,
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth console exited (${code}): ${err}`));
    });
  });
}

export function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP request to the console (what a script on another page, or curl, would send). */
export function consoleHttp(origin: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { method, headers }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

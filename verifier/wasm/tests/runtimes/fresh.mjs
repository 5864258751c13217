// A fresh project outside the workspace with @tessera/verifier installed as
// users install it: `npm pack` of dist/npm/verifier, then `npm install` of
// that tarball, offline, with no link to the workspace. Shared by the runtime
// tests (runtimes.test.mjs) and the runtime benchmark (bench/runtimes.mjs),
// with the two ways code reaches the bundled runtimes: esbuild bundles made
// as wrangler and Vercel's builder make them, and workerd on a generated
// config.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { EdgeRuntime } from 'edge-runtime';

const execute = promisify(execFile);
export const workspace = fileURLToPath(new URL('../../../../', import.meta.url));
/** A program the workspace's npm install put in node_modules/.bin. */
export const tool = (name) => join(workspace, 'node_modules', '.bin', name);

/** Environment for Deno: its cache inside the project, no update check. */
export const denoEnvironment = (dir) => ({ ...process.env, DENO_DIR: join(dir, '.deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' });

/** esbuild options of the bundlers that target each runtime. */
export const TARGETS = {
  // wrangler: the workerd condition; .wasm files stay modules for the runtime.
  workerd: { format: 'esm', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'], external: ['*.wasm'] },
  browser: { format: 'esm', platform: 'browser' },
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export class FreshProject {
  /** `links`: packages that are not under test (frameworks, anchors), linked
   * in from the workspace after npm is done. */
  static async create(links = []) {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-fresh-shop-'));
    const project = new FreshProject(dir);
    const packed = await project.run('npm', ['pack', join(workspace, 'dist/npm/verifier'), '--pack-destination', dir, '--silent']);
    const tarball = join(dir, packed.trim().split('\n').pop());
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'fresh-shop', private: true, type: 'module' }));
    await project.run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball]);
    for (const name of links) {
      await symlink(join(workspace, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
    }
    return project;
  }

  constructor(dir) {
    this.dir = dir;
    this.wasm = join(dir, 'node_modules/@tessera/verifier/tessera_verifier_bg.wasm');
  }

  /** Runs a program in the project to its end; resolves to its output. */
  async run(program, args, options = {}) {
    const { stdout } = await execute(program, args, { cwd: this.dir, timeout: 300_000, maxBuffer: 1 << 24, ...options });
    return stdout;
  }

  /** Bundles `entry` with esbuild; resolves to the output's path and the
   * package's files that went in. */
  async bundle(entry, outfile, options) {
    const result = await esbuild.build({
      absWorkingDir: this.dir,
      entryPoints: [entry],
      outfile,
      bundle: true,
      metafile: true,
      logLevel: 'silent',
      ...options,
    });
    const inputs = Object.keys(result.metafile.inputs).filter((file) => file.includes('@tessera/verifier/'));
    return { outfile: join(this.dir, outfile), inputs: inputs.map((file) => basename(file)) };
  }

  /** Starts workerd serving one Worker made of `modules` ([name, kind,
   * file]) with text `bindings`; resolves once it answers `/ready`. Outbound
   * fetches may reach loopback. */
  async startWorkerd(name, modules, bindings = []) {
    const port = await freePort();
    const text = (value) => JSON.stringify(value);
    const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = ${text(`127.0.0.1:${port}`)}, http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${modules.map(([module, kind, file]) => `(name = ${text(module)}, ${kind} = embed ${text(file)})`).join(', ')}],
  bindings = [${bindings.map(([binding, value]) => `(name = ${text(binding)}, text = ${text(value)})`).join(', ')}],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["nodejs_compat"],
);
`;
    await writeFile(join(this.dir, `${name}.capnp`), config);
    const child = spawn(tool('workerd'), ['serve', `${name}.capnp`, '--verbose'], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (chunk) => { log += chunk; });
    child.stderr.on('data', (chunk) => { log += chunk; });
    const origin = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`workerd stopped:\n${log}`);
      try {
        await fetch(`${origin}/ready`);
        break;
      } catch {
        if (attempt > 200) throw new Error(`workerd did not answer:\n${log}`);
        await new Promise((done) => setTimeout(done, 100));
      }
    }
    return { origin, log: () => log, stop: () => child.kill() };
  }

  /** Bundles `entry` as Vercel's builder does and runs it in Vercel's edge
   * runtime; resolves to what `expression` (a promise) settles to there,
   * and the package's files that went in. The builder takes the edge-light
   * condition and turns each `.wasm?module` import into a binding the
   * runtime provides as a compiled WebAssembly.Module: the runtime itself
   * refuses to compile wasm bytes. */
  async runOnEdgeRuntime(entry, outfile, expression) {
    const wasmBinding = {
      name: 'wasm-binding',
      setup(build) {
        build.onResolve({ filter: /\.wasm\?module$/ }, (args) => ({ path: args.path, namespace: 'wasm-binding' }));
        build.onLoad({ filter: /.*/, namespace: 'wasm-binding' }, () => ({ contents: 'export default globalThis.TESSERA_WASM;' }));
      },
    };
    const bundled = await this.bundle(entry, outfile, {
      format: 'iife', platform: 'neutral', conditions: ['edge-light', 'worker', 'browser'], mainFields: ['module', 'main'], plugins: [wasmBinding],
    });
    const compiled = await WebAssembly.compile(await readFile(this.wasm));
    const runtime = new EdgeRuntime({ extend: (context) => Object.assign(context, { TESSERA_WASM: compiled }) });
    runtime.evaluate(await readFile(bundled.outfile, 'utf8'));
    return { value: await runtime.evaluate(expression), inputs: bundled.inputs };
  }

  async remove() {
    await rm(this.dir, { recursive: true, force: true });
  }
}

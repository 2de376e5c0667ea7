// `npm run bench`: every performance goal of kubectl-vm, measured side by side in one run and printed as a table
// with the goal beside each figure and "ok" or "MISSED". Exits non-zero when a goal is missed. Timings live here
// and never in the tests.
//
// - Wall time is the median of interleaved runs; a goal "≤ 1.0× <anchor>" compares each run with the anchor run
//   right beside it (the real kubectl doing the same job against the same test API server) and takes the median
//   of those paired ratios, so that a noisy machine slows both sides of a pair alike.
// - Peak RSS is the child's maximum resident set size (wait4's ru_maxrss, via /usr/bin/time -f %M); the row
//   prints the largest seen over its runs.
// - The headline column runs every child with NODE_EXTRA_CA_CERTS unset (users do not have it; it costs every
//   Node start ~40 ms); the "as-is" column runs them with the environment as it is. The goals are about the
//   headline: an as-is cell says "within" or "over" a goal, and only headline misses fail the bench.
//
// BENCH_RUNS (default 15) sets the runs per start-up row; BENCH_ONLY=startup,scale,fleet picks sections;
// BENCH_FLEET=100,1000,5000 and BENCH_SCALE=1000,10000,50000 set the sizes; BENCH_OUT_DIR is where fleets write
// (default /dev/shm when there is one).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestApiServer } from '../test/apiserver/server.ts';
import { DIST } from '../test/helpers/run.ts';
import { tempDir } from '../test/helpers/tmp.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'startup,scale,fleet,onboard').split(','));
const sizes = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
const FLEET_SIZES = sizes(process.env.BENCH_FLEET, [100, 1000, 5000]);
const SCALE_SIZES = sizes(process.env.BENCH_SCALE, [1000, 10_000, 50_000]);
const MiB = 1024;
/** Where fleets write their files (default: a temp directory); e.g. /dev/shm, to time the command rather than a busy disk. */
/**
 * Where fleets write: BENCH_OUT_DIR, else /dev/shm when this machine has it, so that a fleet's row times the command
 * rather than the disk (a row beside it times a bare loop creating the same files in the same place).
 */
const OUT_BASE = process.env.BENCH_OUT_DIR ?? (isWritableDir('/dev/shm') ? '/dev/shm' : os.tmpdir());
function isWritableDir(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

interface Sample {
  ms: number;
  /** Peak RSS in KiB. */
  rss: number;
  code: number;
  stdout: string;
  stderr: string;
}

const rssFile = path.join(tempDir('kubectl-vm-bench-rss-'), 'rss');
/** Runs a command under /usr/bin/time, which reports the child's peak RSS (ru_maxrss) into a file. */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv, capture = false): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...args], { env, stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      resolve({ ms, rss, code: code ?? 1, stdout, stderr });
    });
  });
}

async function must(command: string, args: string[], env: NodeJS.ProcessEnv, capture = false): Promise<Sample> {
  const s = await measure(command, args, env, capture);
  if (s.code !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} failed with exit code ${s.code}:\n${s.stderr}`);
  return s;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ---- the two environments every row is measured in ----
const extraCa = process.env.NODE_EXTRA_CA_CERTS;
const ENVS = { headline: 'NODE_EXTRA_CA_CERTS unset', asIs: extraCa ? `as-is (NODE_EXTRA_CA_CERTS=${extraCa})` : 'as-is (NODE_EXTRA_CA_CERTS is not set here)' } as const;
type EnvName = keyof typeof ENVS;
const envNames = Object.keys(ENVS) as EnvName[];
function baseEnv(which: EnvName, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  if (which === 'headline') delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

// ---- the table ----
interface Row {
  section: string;
  label: string;
  /** Per environment: the figures and the verdicts. */
  cells: Partial<Record<EnvName, { wall: string; rss: string; extra?: string; verdicts: string[] }>>;
  goal: string;
}
const rows: Row[] = [];
let missed = 0;
/** A goal's verdict. The goals are about the headline column; the as-is column says how it fares, uncounted. */
const verdict = (ok: boolean, what: string, env: EnvName = 'headline') => {
  if (env === 'asIs') return `${ok ? 'within' : 'over'} ${what}`;
  if (!ok) missed++;
  return `${ok ? 'ok' : 'MISSED'} ${what}`;
};
/** The row of that section and label (one per figure; each environment fills its own cell). */
function row(section: string, label: string, goal: string): Row {
  const existing = rows.find((x) => x.section === section && x.label === label);
  if (existing) return existing;
  const r: Row = { section, label, cells: {}, goal };
  rows.push(r);
  return r;
}
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtRss = (kib: number) => `${(kib / MiB).toFixed(1)} MiB`;

/** Interleaved runs of several commands (one closure each); returns the samples per name. */
async function interleave(runs: number, steps: [string, () => Promise<Sample>][]): Promise<Record<string, Sample[]>> {
  const out: Record<string, Sample[]> = Object.fromEntries(steps.map(([n]) => [n, []]));
  for (let i = 0; i < runs; i++) {
    // Alternate the order within a pair, so that neither side always runs on a warmer machine.
    const order = i % 2 ? [...steps].reverse() : steps;
    for (const [name, step] of order) out[name]!.push(await step());
  }
  return out;
}

/** Fills a row's cell: wall median, peak RSS, and the paired ratio to an anchor with its goal. */
function cell(r: Row, env: EnvName, ours: Sample[], opts: { anchor?: Sample[]; anchorName?: string; ratioGoal?: number; rssGoalMiB?: number; wallGoalMs?: number }) {
  const wall = median(ours.map((s) => s.ms));
  const spread = `${fmtMs(Math.min(...ours.map((s) => s.ms)))}–${fmtMs(Math.max(...ours.map((s) => s.ms)))}`;
  const rss = Math.max(...ours.map((s) => s.rss));
  const verdicts: string[] = [];
  let extra: string | undefined;
  if (opts.anchor) {
    const ratio = median(ours.map((s, i) => s.ms / opts.anchor![i]!.ms));
    extra = `${ratio.toFixed(2)}× ${opts.anchorName} (${fmtMs(median(opts.anchor.map((s) => s.ms)))}, ${fmtRss(Math.max(...opts.anchor.map((s) => s.rss)))})`;
    if (opts.ratioGoal !== undefined) verdicts.push(verdict(ratio <= opts.ratioGoal, `≤ ${opts.ratioGoal.toFixed(1)}×`, env));
  }
  if (opts.wallGoalMs !== undefined) verdicts.push(verdict(wall <= opts.wallGoalMs, `≤ ${fmtMs(opts.wallGoalMs)}`, env));
  if (opts.rssGoalMiB !== undefined) verdicts.push(verdict(rss <= opts.rssGoalMiB * MiB, `≤ ${opts.rssGoalMiB} MiB`, env));
  r.cells[env] = { wall: ours.length > 1 ? `${fmtMs(wall)} (${spread})` : fmtMs(wall), rss: fmtRss(rss), extra, verdicts };
}

let printed = false;
// A failing command stops the bench; what was measured until then is still printed.
process.on('exit', () => {
  if (!printed) printTable();
});

function printTable(): void {
  printed = true;
  const lines: string[] = [];
  for (const section of new Set(rows.map((r) => r.section))) {
    lines.push('', `## ${section}`);
    for (const r of rows.filter((x) => x.section === section)) {
      lines.push(`${r.label}    [goal: ${r.goal}]`);
      for (const env of envNames) {
        const c = r.cells[env];
        if (!c) continue;
        if (c.rss === '-') {
          lines.push(`    ${c.wall}; ${c.extra ?? ''}${c.verdicts.length ? `  → ${c.verdicts.join(', ')}` : ''}`);
          continue;
        }
        lines.push(`    ${(env === 'headline' ? 'headline' : 'as-is').padEnd(8)}  wall ${c.wall.padEnd(28)} peak RSS ${c.rss.padEnd(10)} ${c.extra ?? ''}${c.verdicts.length ? `  → ${c.verdicts.join(', ')}` : ''}`);
      }
    }
  }
  console.log(lines.join('\n'));
}

const executables = fs
  .readdirSync(DIST)
  .filter((f) => /^kubectl-vm(-|$)/.test(f))
  .sort();
const distBytes = fs.readdirSync(DIST).reduce((n, f) => n + fs.statSync(path.join(DIST, f)).size, 0);
// Goal 4: the code ships once. The router carries the bundle; every other executable must be launcher-sized.
{
  const r = row('dist/', 'size of dist/, and the largest executable besides the router', 'the bundle ships once: every other file ≤ 64 KiB');
  const others = fs.readdirSync(DIST).filter((f) => f !== 'kubectl-vm');
  const largest = others.reduce((a, f) => (fs.statSync(path.join(DIST, f)).size > fs.statSync(path.join(DIST, a)).size ? f : a), others[0]!);
  const bytes = fs.statSync(path.join(DIST, largest)).size;
  r.cells.headline = { wall: `${(distBytes / 1024).toFixed(0)} KiB in ${fs.readdirSync(DIST).length} files`, rss: '-', extra: `router ${(fs.statSync(path.join(DIST, 'kubectl-vm')).size / 1024).toFixed(0)} KiB; largest other: ${largest}, ${(bytes / 1024).toFixed(1)} KiB`, verdicts: [verdict(bytes <= 64 * 1024, '≤ 64 KiB')] };
}
console.log(`kubectl-vm benchmark, Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`dist/: ${(distBytes / 1024).toFixed(0)} KiB in ${fs.readdirSync(DIST).length} files`);
console.log(`headline: ${ENVS.headline}; second line: ${ENVS.asIs}`);
console.log(`fleets write into ${OUT_BASE}`);

/** POST the Service, POST the ServiceEntry, GET the Service back: add-to-mesh's requests, with nothing around them. */
const FLOOR_SCRIPT = `const https = require("https"), fs = require("fs");
const [svc, se] = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).items;
const server = new URL(process.env.FLOOR_SERVER);
const agent = new https.Agent({ ca: process.env.FLOOR_CA, keepAlive: true });
const send = (method, path, body) => new Promise((resolve, reject) => {
  const r = https.request({ hostname: server.hostname, port: server.port, path, method, agent, headers: { Authorization: "Bearer " + process.env.FLOOR_TOKEN, "Content-Type": "application/json", Accept: "application/json" } }, (res) => {
    res.resume();
    res.on("end", () => (res.statusCode < 300 ? resolve() : reject(new Error(method + " " + path + ": " + res.statusCode))));
  });
  r.on("error", reject);
  r.end(body === undefined ? undefined : JSON.stringify(body));
});
(async () => {
  const ns = svc.metadata.namespace;
  await send("POST", "/api/v1/namespaces/" + ns + "/services", svc);
  await send("POST", "/apis/networking.istio.io/v1/namespaces/" + ns + "/serviceentries", se);
  await send("GET", "/api/v1/namespaces/" + ns + "/services/" + svc.metadata.name);
  agent.destroy();
})().catch((e) => { console.error(e.message); process.exitCode = 1; });
`;

// ---------------------------------------------------------------------------------------------------------------
// Start-up and single-object commands, each paired with the real kubectl doing the same job.
if (ONLY.has('startup')) {
  const bench = 'bench';
  const seed = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: bench } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vm', namespace: bench } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'defaultConfig:\n  proxyMetadata: {}\ntrustDomain: cluster.local\n' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: 'istio-system' }, data: { values: '{"global":{"multiCluster":{"clusterName":"cluster1"}}}' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: bench }, data: { 'root-cert.pem': 'CERT' } },
    { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'wg', namespace: bench }, spec: { template: { serviceAccount: 'vm', ports: { http: 8080 } } } },
  ];
  const server = await TestApiServer.start({ seed: seed as never });
  const home = tempDir('kubectl-vm-bench-');
  const kubeconfig = server.writeKubeconfig(path.join(home, 'kubeconfig'), { namespace: bench });
  const env = (which: EnvName) => baseEnv(which, { HOME: home, KUBECONFIG: kubeconfig, PATH: `${DIST}:${process.env.PATH}` });
  const exe = (name: string) => path.join(DIST, name);
  const files = tempDir('kubectl-vm-bench-objects-');
  const floorScript = path.join(files, 'floor.cjs');
  fs.writeFileSync(floorScript, FLOOR_SCRIPT);
  const kc = server.kubeconfig() as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const floorEnv = { FLOOR_SERVER: kc.clusters[0]!.cluster.server, FLOOR_CA: Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString('utf8'), FLOOR_TOKEN: server.token ?? '' };
  /** What kubectl would apply: our own objects, from --dry-run=client -o yaml. */
  const objectsOf = async (name: string, args: string[]) => {
    const file = path.join(files, `${name}.yaml`);
    fs.writeFileSync(file, (await must(exe(name.split(':')[0]!), [...args, '--dry-run=client', '-o', 'yaml'], env('headline'), true)).stdout);
    return file;
  };
  // Warm both sides once: V8's code cache for ours, the discovery cache for kubectl (as on a user's machine).
  for (const e of envNames) {
    await must('kubectl', ['get', 'services', '-n', bench], env(e));
    for (const x of executables) await measure(exe(x), ['--help'], env(e));
    await must(exe('kubectl-vm-add_to_mesh'), ['es', 'warm', '10.0.0.5', 'http:8080'], env(e));
    await must(exe('kubectl-vm-remove_from_mesh'), ['es', 'warm'], env(e));
    await must(exe('kubectl-vm-register'), ['warm', '10.0.0.5', 'http:8080'], env(e));
    await must(exe('kubectl-vm-workload_entry-configure'), ['--name', 'wg', '--output-dir', path.join(home, 'warm'), '--ingress-ip', '192.0.2.1'], env(e));
  }

  // --help of every executable against `kubectl version --client`.
  for (const e of envNames) {
    const steps: [string, () => Promise<Sample>][] = [
      ['node -e 0', () => must(process.execPath, ['-e', '0'], env(e))],
      ['kubectl version --client', () => must('kubectl', ['version', '--client'], env(e))],
      ...executables.map((x): [string, () => Promise<Sample>] => [x, () => must(exe(x), ['--help'], env(e))]),
      ['kubectl vm add-to-mesh --help', () => must('kubectl', ['vm', 'add-to-mesh', '--help'], env(e))],
    ];
    const s = await interleave(RUNS, steps);
    const anchor = s['kubectl version --client']!;
    cell(row('--help', 'node -e 0', 'reference'), e, s['node -e 0']!, { anchor, anchorName: 'kubectl version --client' });
    cell(row('--help', 'kubectl version --client', 'the anchor'), e, anchor, {});
    for (const x of executables) cell(row('--help', `${x} --help`, '≤ 1.0× kubectl version --client, ≤ 60 MiB'), e, s[x]!, { anchor, anchorName: 'kubectl version --client', ratioGoal: 1, rssGoalMiB: 60 });
    cell(row('--help', 'kubectl vm add-to-mesh --help (through kubectl)', 'none: two processes; ≤ 60 MiB'), e, s['kubectl vm add-to-mesh --help']!, { anchor, anchorName: 'kubectl version --client', rssGoalMiB: 60 });
  }

  // add-to-mesh (new) vs kubectl apply -f, remove-from-mesh vs kubectl delete -f, register 1 IP vs kubectl apply -f,
  // workload-entry configure (one group) beside kubectl create token.
  for (const e of envNames) {
    const tag = e === 'headline' ? 'h' : 'a';
    const objects: Record<string, string[]> = { add: [], register: [] };
    for (let i = 0; i < RUNS; i++) {
      objects.add!.push(await objectsOf('kubectl-vm-add_to_mesh', ['es', `k-${tag}-${i}`, '10.0.0.5', 'http:8080']));
      fs.renameSync(objects.add![i]!, (objects.add![i] = path.join(files, `add-${tag}-${i}.yaml`)));
      objects.register!.push(await objectsOf('kubectl-vm-register', [`kreg-${tag}-${i}`, '10.0.0.5', 'http:8080']));
      fs.renameSync(objects.register![i]!, (objects.register![i] = path.join(files, `register-${tag}-${i}.yaml`)));
    }
    // The floor for Node: a bare script that sends add-to-mesh's three requests (the same objects, the same CA and
    // token) and nothing else, beside kubectl apply -f of the same objects.
    const floorObjects: string[] = [];
    const floorApply: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const json = path.join(files, `floor-${tag}-${i}.json`);
      fs.writeFileSync(json, (await must(exe('kubectl-vm-add_to_mesh'), ['es', `f-${tag}-${i}`, '10.0.0.5', 'http:8080', '--dry-run=client', '-o', 'json'], env('headline'), true)).stdout);
      floorObjects.push(json);
      floorApply.push(await objectsOf('kubectl-vm-add_to_mesh', ['es', `fk-${tag}-${i}`, '10.0.0.5', 'http:8080']));
      fs.renameSync(floorApply[i]!, (floorApply[i] = path.join(files, `floor-apply-${tag}-${i}.yaml`)));
    }
    const s: Record<string, Sample[]> = { add: [], apply: [], remove: [], delete: [], register: [], applyRegister: [], configure: [], token: [], floor: [], applyFloor: [] };
    for (let i = 0; i < RUNS; i++) {
      const pairs: [string, () => Promise<Sample>, string, () => Promise<Sample>][] = [
        ['add', () => must(exe('kubectl-vm-add_to_mesh'), ['es', `v-${tag}-${i}`, '10.0.0.5', 'http:8080'], env(e)), 'apply', () => must('kubectl', ['apply', '-f', objects.add![i]!], env(e))],
        ['remove', () => must(exe('kubectl-vm-remove_from_mesh'), ['es', `v-${tag}-${i}`], env(e)), 'delete', () => must('kubectl', ['delete', '-f', objects.add![i]!], env(e))],
        ['register', () => must(exe('kubectl-vm-register'), [`reg-${tag}-${i}`, '10.0.0.5', 'http:8080'], env(e)), 'applyRegister', () => must('kubectl', ['apply', '-f', objects.register![i]!], env(e))],
        [
          'configure',
          () => must(exe('kubectl-vm-workload_entry-configure'), ['--name', 'wg', '--output-dir', path.join(home, `out-${tag}-${i}`), '--ingress-ip', '192.0.2.1'], env(e)),
          'token',
          () => must('kubectl', ['create', 'token', 'vm', '--audience', 'istio-ca', '--duration', '1h'], env(e)),
        ],
        ['floor', () => must(process.execPath, [floorScript, floorObjects[i]!], { ...env(e), ...floorEnv }), 'applyFloor', () => must('kubectl', ['apply', '-f', floorApply[i]!], env(e))],
      ];
      for (const [a, runA, b, runB] of pairs) {
        if (i % 2) {
          s[b]!.push(await runB());
          s[a]!.push(await runA());
        } else {
          s[a]!.push(await runA());
          s[b]!.push(await runB());
        }
      }
    }
    const one = 'single-object commands against the test API server';
    cell(row(one, 'reference: a bare Node script sending only add-to-mesh\'s three requests', 'none: the floor for any Node program'), e, s.floor!, { anchor: s.applyFloor, anchorName: 'kubectl apply -f' });
    cell(row(one, 'add-to-mesh (new Service and ServiceEntry)', '≤ 1.0× kubectl apply -f of the same objects, ≤ 60 MiB'), e, s.add!, { anchor: s.apply, anchorName: 'kubectl apply -f', ratioGoal: 1, rssGoalMiB: 60 });
    cell(row(one, 'remove-from-mesh', '≤ 1.0× kubectl delete -f of the same objects, ≤ 60 MiB'), e, s.remove!, { anchor: s.delete, anchorName: 'kubectl delete -f', ratioGoal: 1, rssGoalMiB: 60 });
    cell(row(one, 'register 1 IP (new Service and EndpointSlice)', '≤ 1.0× kubectl apply -f of the same objects, ≤ 60 MiB'), e, s.register!, { anchor: s.applyRegister, anchorName: 'kubectl apply -f', ratioGoal: 1, rssGoalMiB: 60 });
    cell(row(one, 'workload-entry configure, one group', 'no ratio goal (kubectl only mints the token); ≤ 60 MiB'), e, s.configure!, { anchor: s.token, anchorName: 'kubectl create token', rssGoalMiB: 60 });
  }
  const countedFile = await objectsOf('kubectl-vm-add_to_mesh', ['es', 'counted-k', '10.0.0.5', 'http:8080']);
  server.clearRequests();
  await must(exe('kubectl-vm-add_to_mesh'), ['es', 'counted', '10.0.0.5', 'http:8080'], env('headline'));
  const addRequests = server.requests.length;
  server.clearRequests();
  await must('kubectl', ['apply', '-f', countedFile], env('headline'));
  const applyRequests = server.requests.length;
  await server.close();
  console.log(`API requests: add-to-mesh ${addRequests}; kubectl apply -f of the same objects ${applyRequests}`);
}

// ---------------------------------------------------------------------------------------------------------------
// register and deregister of N addresses in one call: linear, O(N/1000) requests, flat memory.
if (ONLY.has('scale')) {
  const server = await TestApiServer.start({ seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }] });
  const home = tempDir('kubectl-vm-bench-register-');
  const kubeconfig = server.writeKubeconfig(path.join(home, 'kubeconfig'), { namespace: 'bench' });
  const ipsFile = (n: number) => {
    const file = path.join(home, `ips-${n}.txt`);
    fs.writeFileSync(file, Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join('\n') + '\n');
    return file;
  };
  const RUNS_SCALE = Math.max(1, Math.min(3, RUNS));
  const perAddress: Record<string, Record<EnvName, number[]>> = { register: { headline: [], asIs: [] }, deregister: { headline: [], asIs: [] } };
  // One warm-up run, so that the first size does not pay for writing V8's code cache.
  for (const e of envNames) {
    const env = baseEnv(e, { HOME: home, KUBECONFIG: kubeconfig });
    const file = ipsFile(10);
    await must(path.join(DIST, 'kubectl-vm-register'), [`warm-${e === 'headline' ? 'h' : 'a'}`, 'http:8080', '--from-file', file], env);
    await must(path.join(DIST, 'kubectl-vm-deregister'), [`warm-${e === 'headline' ? 'h' : 'a'}`, '--from-file', file, '--delete-service-when-empty'], env);
  }
  for (const n of SCALE_SIZES) {
    const file = ipsFile(n);
    const big = n >= 50_000;
    const budget = Math.ceil(n / 1000) + 6;
    const rowOf: Record<string, Row> = {};
    for (const cmd of ['register', 'deregister']) rowOf[cmd] = row(`${cmd} N addresses in one call`, `${cmd} ${n.toLocaleString('en')} addresses`, `${big ? '≤ 1.5 s, ' : ''}≤ 80 MiB, ≤ N/1000 + 6 requests`);
    for (const e of envNames) {
      const env = baseEnv(e, { HOME: home, KUBECONFIG: kubeconfig });
      const s: Record<string, Sample[]> = { register: [], deregister: [] };
      const requests: Record<string, number> = {};
      for (let i = 0; i < RUNS_SCALE; i++) {
        const svc = `s${n}-${e === 'headline' ? 'h' : 'a'}-${i}`;
        server.clearRequests();
        s.register!.push(await must(path.join(DIST, 'kubectl-vm-register'), [svc, 'http:8080', '--from-file', file], env));
        requests.register = server.requests.length;
        server.clearRequests();
        s.deregister!.push(await must(path.join(DIST, 'kubectl-vm-deregister'), [svc, '--from-file', file, '--delete-service-when-empty'], env));
        requests.deregister = server.requests.length;
      }
      for (const cmd of ['register', 'deregister']) {
        const r = rowOf[cmd]!;
        cell(r, e, s[cmd]!, { wallGoalMs: big ? 1500 : undefined, rssGoalMiB: 80 });
        const wall = median(s[cmd]!.map((x) => x.ms));
        perAddress[cmd]![e].push(wall / n);
        r.cells[e]!.extra = `${((wall / n) * 1000).toFixed(1)} µs/address, ${requests[cmd]} requests`;
        r.cells[e]!.verdicts.push(verdict(requests[cmd]! <= budget, `≤ ${budget} requests`, e));
      }
    }
  }
  // Flat per-address cost: the cost per address may not grow with N (start-up amortises, so it should fall).
  for (const cmd of ['register', 'deregister']) {
    const r = row(`${cmd} N addresses in one call`, `${cmd}: per-address cost from ${SCALE_SIZES[0]!.toLocaleString('en')} to ${SCALE_SIZES.at(-1)!.toLocaleString('en')}`, 'flat: the largest N costs at most 1.25× per address what the middle N costs');
    for (const e of envNames) {
      const costs = perAddress[cmd]![e];
      const mid = costs[Math.floor((costs.length - 1) / 2)]!;
      const last = costs.at(-1)!;
      r.cells[e] = { wall: costs.map((c) => `${(c * 1000).toFixed(1)}`).join(' / ') + ' µs', rss: '(see above)', verdicts: [verdict(last <= mid * 1.25, 'flat', e)] };
    }
  }
  await server.close();
}

// ---------------------------------------------------------------------------------------------------------------
// workload-entry configure for a fleet of N WorkloadGroups in 10 namespaces, into a directory and into a bundle.
if (ONLY.has('fleet')) {
  const OUT_DIR = fs.mkdtempSync(path.join(OUT_BASE, 'kubectl-vm-bench-out-'));
  process.on('exit', () => fs.rmSync(OUT_DIR, { recursive: true, force: true }));
  const NAMESPACES = 10;
  for (const n of FLEET_SIZES) {
    const seed: Record<string, unknown>[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'defaultConfig:\n  proxyMetadata: {}\ntrustDomain: cluster.local\n' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: 'istio-system' }, data: { values: '{"global":{"multiCluster":{"clusterName":"cluster1"}}}' } },
    ];
    for (let i = 0; i < NAMESPACES; i++) {
      const ns = `fleet-${i}`;
      seed.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: ns }, data: { 'root-cert.pem': `CERT of ${ns}\n` } });
      seed.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vm', namespace: ns } });
    }
    for (let i = 0; i < n; i++) {
      seed.push({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: `wg-${i}`, namespace: `fleet-${i % NAMESPACES}`, labels: { fleet: 'bench' } }, spec: { template: { serviceAccount: 'vm', ports: { http: 8080 } } } });
    }
    const server = await TestApiServer.start({ seed: seed as never });
    const home = tempDir('kubectl-vm-bench-fleet-');
    const kubeconfig = server.writeKubeconfig(path.join(home, 'kubeconfig'));
    const runs = n >= 5000 ? 1 : Math.min(3, RUNS);
    let shape: { files: number[]; modes: number[] } | undefined;
    for (const mode of ['--output-dir', '--bundle'] as const) {
      const r = row(`workload-entry configure, a fleet in ${NAMESPACES} namespaces`, `${n.toLocaleString('en')} WorkloadGroups, ${mode}`, `${n >= 5000 ? '≤ 5 s, ' : ''}≤ 80 MiB, ≤ N + 4 requests`);
      for (const e of envNames) {
        const env = baseEnv(e, { HOME: home, KUBECONFIG: kubeconfig });
        const samples: Sample[] = [];
        let requests = 0;
        let written = 0;
        for (let i = 0; i < runs; i++) {
          const target = path.join(OUT_DIR, `${e}-${i}-${mode.slice(2)}${mode === '--bundle' ? '.tgz' : ''}`);
          server.clearRequests();
          samples.push(await must(path.join(DIST, 'kubectl-vm-workload_entry-configure'), ['-l', 'fleet=bench', '-A', mode, target, '--ingress-ip', '192.0.2.10'], env));
          requests = server.requests.length;
          written = mode === '--bundle' ? fs.statSync(target).size : fs.readdirSync(target).reduce((k, ns) => k + fs.readdirSync(path.join(target, ns)).length, 0);
          if (mode === '--output-dir') shape = bundleShape(target);
          fs.rmSync(target, { recursive: true, force: true });
        }
        cell(r, e, samples, { wallGoalMs: n >= 5000 ? 5000 : undefined, rssGoalMiB: 80 });
        r.cells[e]!.extra = `${requests} requests, ${mode === '--bundle' ? `${(written / 1024).toFixed(0)} KiB archive` : `${written} bundles`}`;
        r.cells[e]!.verdicts.push(verdict(requests <= n + 4, `≤ ${n + 4} requests`, e));
      }
      if (mode === '--output-dir' && shape) {
        const floor = row(`workload-entry configure, a fleet in ${NAMESPACES} namespaces`, `${n.toLocaleString('en')} WorkloadGroups: the filesystem's floor`, 'none: a bare loop creating the same directories and files in the same place');
        const ms = createLikeFleet(path.join(OUT_DIR, 'floor'), n, NAMESPACES, shape);
        floor.cells.headline = { wall: fmtMs(ms), rss: '-', extra: `${n + NAMESPACES + 1} directories and ${n * shape.files.length} files of ${shape.files.reduce((a, f) => a + f, 0)} bytes per group, written synchronously, no API`, verdicts: [] };
      }
    }
    await server.close();
  }
}

/** The sizes and modes of the files of the first bundle under an --output-dir (one namespace directory deep). */
function bundleShape(target: string): { files: number[]; modes: number[] } {
  const ns = fs.readdirSync(target)[0]!;
  const bundle = path.join(target, ns, fs.readdirSync(path.join(target, ns))[0]!);
  const names = fs.readdirSync(bundle).filter((f) => fs.statSync(path.join(bundle, f)).isFile());
  return { files: names.map((f) => fs.statSync(path.join(bundle, f)).size), modes: names.map((f) => fs.statSync(path.join(bundle, f)).mode & 0o777) };
}

/** Creates what a fleet's --output-dir holds (directories and files of that shape) with a bare loop; returns ms. */
function createLikeFleet(dir: string, groups: number, namespaces: number, shape: { files: number[]; modes: number[] }): number {
  const started = process.hrtime.bigint();
  fs.mkdirSync(dir, { mode: 0o700 });
  for (let i = 0; i < namespaces; i++) fs.mkdirSync(path.join(dir, `ns-${i}`), { mode: 0o700 });
  for (let g = 0; g < groups; g++) {
    const bundle = path.join(dir, `ns-${g % namespaces}`, `g-${g}`);
    fs.mkdirSync(bundle, { mode: 0o700 });
    shape.files.forEach((size, k) => fs.writeFileSync(path.join(bundle, `f-${k}`), 'x'.repeat(size), { mode: shape.modes[k] }));
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}

// onboard (BENCH_ONLY=onboard): a fleet of 4 VMs (4 real sshd on loopback with fake systemctl/dpkg), the first onboarding at
// --concurrency 4 and 1, then the unchanged re-run; wall time and API requests per run.
const { startSshd, SSHD } = await import('../test/helpers/sshd.ts');
if (SSHD && ONLY.has('onboard')) {
  const first = await startSshd({ root: true });
  const key = first.key;
  const vms = [first, ...(await Promise.all([1, 2, 3].map(() => startSshd({ root: true, extraAuthorizedKey: fs.readFileSync(`${key}.pub`, 'utf8').trim() }))))];
  const obHome = tempDir('kubectl-vm-bench-onboard-');
  fs.mkdirSync(path.join(obHome, '.ssh'), { mode: 0o700 });
  fs.writeFileSync(path.join(obHome, '.ssh', 'known_hosts'), vms.map((v) => `[127.0.0.1]:${v.port} ${v.hostPublicKey}\n`).join(''));
  for (const v of vms) v.setPackage('istio-sidecar', true);
  const obServer = await TestApiServer.start({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vm' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'vm', namespace: 'vm' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace: 'vm' }, data: { 'root-cert.pem': 'CERT' } },
      { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadGroup', metadata: { name: 'demo', namespace: 'vm' }, spec: { template: { serviceAccount: 'vm' } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'defaultConfig:\n  proxyMetadata: {}\ntrustDomain: cluster.local\n' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-sidecar-injector', namespace: 'istio-system' }, data: { values: '{"global":{"multiCluster":{"clusterName":"cluster1"}}}' } },
    ] as never,
  });
  const obEnv = { ...process.env, HOME: obHome, KUBECONFIG: obServer.writeKubeconfig(path.join(obHome, 'kubeconfig')), NO_COLOR: '1' };
  const onboardExe = path.join(DIST, 'kubectl-vm-onboard');
  const hostsFile = (suffix: string) => {
    const f = path.join(obHome, `vms-${suffix}.txt`);
    fs.writeFileSync(f, vms.map((v, i) => `${v.user}@127.0.0.1:${v.port} name=vm-${suffix}-${i}`).join('\n') + '\n');
    return f;
  };
  const line = async (label: string, suffix: string, concurrency: number) => {
    obServer.clearRequests();
    const r = await measure(onboardExe, ['--hosts-file', hostsFile(suffix), '--group', 'demo', '-n', 'vm', '--gateway-address', '192.0.2.10', '--ssh-key', key, '--concurrency', String(concurrency)], obEnv);
    if (r.code !== 0) throw new Error(`onboard failed with exit code ${r.code}`);
    console.log(`${label.padEnd(60)} ${(r.ms / 1000).toFixed(2).padStart(6)} s, ${obServer.requests.length} API requests`);
  };
  await line('onboard 4 VMs, first time, --concurrency 4', 'a', 4);
  await line('onboard the same 4 VMs again (unchanged), --concurrency 4', 'a', 4);
  await line('onboard 4 other VM names, first time, --concurrency 1', 'b', 1);
  // Day 2 on the same 4 VMs (the 4 'b' names): status, --probe at 4 and 1 at a time, rotate, offboard.
  const day2 = async (label: string, exe: string, args: string[]) => {
    obServer.clearRequests();
    const r = await measure(path.join(DIST, exe), [...args, '-n', 'vm', '--ssh-key', key], obEnv);
    console.log(`${label.padEnd(60)} ${(r.ms / 1000).toFixed(2).padStart(6)} s, ${obServer.requests.length} API requests, exit ${r.code}`);
  };
  const bNames = vms.map((_, i) => `vm-b-${i}`);
  await day2('status of 8 VMs (no SSH)', 'kubectl-vm-status', []);
  await day2('status --probe of 4 VMs, --concurrency 4', 'kubectl-vm-status', [...bNames, '--probe', '--concurrency', '4']);
  await day2('status --probe of 4 VMs, --concurrency 1', 'kubectl-vm-status', [...bNames, '--probe', '--concurrency', '1']);
  await day2('token rotate 4 VMs, --concurrency 4', 'kubectl-vm-token-rotate', [...bNames, '--concurrency', '4']);
  await day2('offboard 4 VMs, --concurrency 4', 'kubectl-vm-offboard', [...bNames, '--concurrency', '4']);
  await obServer.close();
  for (const v of vms) await v.close();
}

printTable();
console.log(`\n${missed === 0 ? 'every goal met' : `${missed} goal(s) MISSED`}`);
process.exitCode = missed === 0 ? 0 : 1;

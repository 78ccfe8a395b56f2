/**
 * The reference clients of the interop tests, installed by the tests themselves into git-ignored
 * caches under `.cache/`, so that a fresh clone needs nothing by hand and a second run reuses them:
 *
 * - Java: the official Kafka client (kafka-clients, the broker's version) and Apache Avro for
 *   Java, resolved from Maven Central by `test/interop/java/pom.xml`; the sources under
 *   `test/interop/java/src/` are compiled with the JDK's `javac`.
 * - Python: confluent-kafka (librdkafka) and fastavro from PyPI, pinned in
 *   `test/interop/python/requirements.txt`, in the virtual environment `.cache/interop-venv`.
 * - Node: kafkajs and avsc, the project's own dependencies.
 *
 * A cache is keyed by a hash of what defines it (pom, requirements); it is rebuilt when that changes.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../service/runHelpers.ts';

export const INTEROP_DIR = join(ROOT, 'test/interop');
const JAVA_DIR = join(INTEROP_DIR, 'java');
const PYTHON_REQUIREMENTS = join(INTEROP_DIR, 'python/requirements.txt');
export const VENV_DIR = join(ROOT, '.cache/interop-venv');

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`); never rejects on a non-zero exit. */
export function runProcess(cmd: string, args: string[], timeoutMs = 120_000, cwd = ROOT): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command and returns its stdout; throws with its output if it fails. */
async function check(cmd: string, args: string[], what: string, timeoutMs?: number): Promise<string> {
  const r = await runProcess(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${cmd} ${args.join(' ')}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

const sha256 = (...texts: string[]) => createHash('sha256').update(texts.join('\0')).digest('hex');

/** The JSON lines a client printed (a subscriber prints one per message). */
export function jsonLines<T>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

export interface JavaClients {
  /** `java -cp <jars>:<classes> <mainClass> <args>`. */
  run(mainClass: string, args: string[], timeoutMs?: number): Promise<ProcessResult>;
}

/**
 * Resolves kafka-clients `kafkaVersion` and Avro into `.cache/interop/java-<kafkaVersion>/libs`
 * (once per pom), and compiles the Java sources (about a second, so always).
 */
export async function prepareJavaClients(kafkaVersion: string): Promise<JavaClients> {
  const dir = join(ROOT, '.cache/interop', `java-${kafkaVersion}`);
  const libs = join(dir, 'libs');
  const classes = join(dir, 'classes');
  const stamp = join(dir, 'libs.sha256');
  const key = sha256(readFileSync(join(JAVA_DIR, 'pom.xml'), 'utf8'), kafkaVersion);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== key) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await check('mvn', ['-q', '-B', '-f', join(JAVA_DIR, 'pom.xml'), `-Dkafka.version=${kafkaVersion}`, `-DoutputDirectory=${libs}`, 'dependency:copy-dependencies'], 'resolving the Java clients from Maven Central', 300_000);
    writeFileSync(stamp, key);
  }
  const sources = readdirSync(join(JAVA_DIR, 'src')).filter((f) => f.endsWith('.java')).map((f) => join(JAVA_DIR, 'src', f));
  rmSync(classes, { recursive: true, force: true });
  await check('javac', ['-cp', `${libs}/*`, '-d', classes, ...sources], 'compiling the Java clients');
  const classpath = `${libs}/*:${classes}`;
  return { run: (mainClass, args, timeoutMs) => runProcess('java', ['-cp', classpath, mainClass, ...args], timeoutMs) };
}

export interface PythonClients {
  /** `<venv>/bin/python <script> <args>`, the script relative to `test/interop/python/`. */
  run(script: string, args: string[], timeoutMs?: number): Promise<ProcessResult>;
}

/** Creates `.cache/interop-venv` and installs the pinned requirements from PyPI (once per requirements file). */
export async function preparePythonClients(): Promise<PythonClients> {
  const python = join(VENV_DIR, 'bin/python');
  const stamp = join(VENV_DIR, 'requirements.sha256');
  const key = sha256(readFileSync(PYTHON_REQUIREMENTS, 'utf8'));
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== key) {
    rmSync(VENV_DIR, { recursive: true, force: true });
    await check('python3', ['-m', 'venv', VENV_DIR], 'creating the virtual environment (Debian: apt-get install python3-venv)');
    await check(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', PYTHON_REQUIREMENTS], 'installing the Python clients from PyPI', 300_000);
    writeFileSync(stamp, key);
  }
  return { run: (script, args, timeoutMs) => runProcess(python, [join(INTEROP_DIR, 'python', script), ...args], timeoutMs) };
}

/** `node <script> <args>`, the script relative to `test/interop/node/`. */
export function runNodeClient(script: string, args: string[], timeoutMs?: number): Promise<ProcessResult> {
  return runProcess(process.execPath, [join(INTEROP_DIR, 'node', script), ...args], timeoutMs);
}

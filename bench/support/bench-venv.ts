/**
 * The Python virtualenv the seed-pipeline baseline runs in (bench/seed-pipeline/*.py), under the
 * local state folder: created once with `python3 -m venv`, kafka-python installed into it from
 * PyPI once, reused by later runs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** kafka-python on PyPI (checked with `pip index versions kafka-python`); works with Kafka 4.4 as is. */
export const KAFKA_PYTHON_VERSION = '3.0.12';

export interface BenchVenv {
  /** The venv's python executable. */
  readonly python: string;
  readonly kafkaPythonVersion: string;
}

async function output(file: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  const { stdout, stderr } = await run(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return `${stdout}${stderr}`.trim();
}

const lastLines = (error: unknown) => {
  const e = error as { stdout?: string; stderr?: string; message?: string };
  return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n') || e.message || String(error);
};

/** The venv with kafka-python KAFKA_PYTHON_VERSION, made if missing; `say` shows what it installs. */
export async function ensureBenchVenv(localStateDir: string, say: (line: string) => void): Promise<BenchVenv> {
  const dir = path.join(localStateDir, 'bench-venv');
  const python = path.join(dir, 'bin', 'python');
  const installed = async () => {
    try {
      return await output(python, ['-c', 'import kafka; print(kafka.__version__)']);
    } catch {
      return null;
    }
  };
  if ((await installed()) === KAFKA_PYTHON_VERSION) return { python, kafkaPythonVersion: KAFKA_PYTHON_VERSION };

  let version: string;
  try {
    version = await output('python3', ['--version']);
  } catch {
    throw new Error('python3 was not found: install Python 3 (Debian: apt-get install python3 python3-venv), then run the benchmark again; the seed-pipeline baseline runs in it.');
  }
  if (!existsSync(python)) {
    say(`creating a Python virtualenv for the seed-pipeline baseline in ${dir} (${version}, first run only)…`);
    try {
      await output('python3', ['-m', 'venv', dir], 120_000);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`python3 -m venv failed (Debian: apt-get install python3-venv): ${lastLines(error)}`);
    }
  }
  try {
    await output(python, ['-m', 'pip', '--version']);
  } catch {
    await rm(dir, { recursive: true, force: true });
    throw new Error('the virtualenv has no pip (Debian: apt-get install python3-venv python3-pip), then run the benchmark again.');
  }
  say(`installing kafka-python ${KAFKA_PYTHON_VERSION} from PyPI into ${dir} (first run only)…`);
  try {
    await output(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `kafka-python==${KAFKA_PYTHON_VERSION}`], 300_000);
  } catch (error) {
    throw new Error(`pip could not install kafka-python ${KAFKA_PYTHON_VERSION} (is PyPI reachable?): ${lastLines(error)}`);
  }
  const now = await installed();
  if (now !== KAFKA_PYTHON_VERSION) throw new Error(`kafka-python ${KAFKA_PYTHON_VERSION} was installed but the virtualenv imports ${now ?? 'nothing'}`);
  say(`kafka-python ${KAFKA_PYTHON_VERSION} installed`);
  return { python, kafkaPythonVersion: KAFKA_PYTHON_VERSION };
}

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { StackError } from './stack.errors';

interface Tool {
  readonly label: string;
  readonly command: string | (() => string);
  readonly versionArgs: readonly string[];
  readonly install: string;
  /** Reads the major version from the command's output, when a minimum matters. */
  readonly major?: (output: string) => number | undefined;
  readonly minimum?: number;
}

const tools = {
  java: {
    label: 'Java',
    // The broker runs the same java this checks: JAVA_HOME's when set.
    command: () => (process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'),
    versionArgs: ['-version'],
    install: 'install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless) and make sure `java` is on PATH',
    major: (out) => Number(/version "(\d+)/.exec(out)?.[1]),
    minimum: 17,
  },
  mvn: {
    label: 'Maven',
    command: 'mvn',
    versionArgs: ['-v'],
    install: 'install Maven 3.6 or newer (Debian: apt-get install maven) and make sure `mvn` is on PATH',
  },
  go: {
    label: 'Go',
    command: 'go',
    versionArgs: ['version'],
    install: 'install Go 1.24 or newer (Debian: apt-get install golang-go, or https://go.dev/dl) and make sure `go` is on PATH',
    major: (out) => {
      const m = /go(\d+)\.(\d+)/.exec(out);
      return m ? Number(m[1]) * 100 + Number(m[2]) : undefined;
    },
    minimum: 124,
  },
  git: {
    label: 'Git',
    command: 'git',
    versionArgs: ['--version'],
    install: 'install Git (Debian: apt-get install git) and make sure `git` is on PATH; it applies the local FerretDB patch',
  },
} as const satisfies Record<string, Tool>;

export type ToolName = keyof typeof tools;

/** The java binary the local stack runs: JAVA_HOME's when set, else the one on PATH. */
export function javaCommand(): string {
  return (tools.java.command as () => string)();
}

/** Throws one clear sentence when a tool the local stack needs is missing or too old. */
export function requireTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): void {
  const tool: Tool = tools[name];
  const command = typeof tool.command === 'function' ? tool.command() : tool.command;
  const result = spawnSync(command, tool.versionArgs, { encoding: 'utf8', env });
  if (result.error || result.status !== 0) {
    throw new StackError(`${tool.label} was not found: ${tool.install}, then run the command again.`, {
      cause: result.error,
    });
  }
  if (tool.major && tool.minimum !== undefined) {
    const found = tool.major(`${result.stdout}${result.stderr}`);
    if (found !== undefined && !Number.isNaN(found) && found < tool.minimum) {
      throw new StackError(`${tool.label} is too old: ${tool.install}, then run the command again.`);
    }
  }
}

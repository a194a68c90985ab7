import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessSpec {
  /** Short name used to prefix its output lines. */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string | undefined>;
  /** A line matching this means the process is ready. */
  readyPattern: RegExp;
  /** Pin to these CPU cores with taskset (Linux), e.g. "0" or "0,1". */
  cpus?: string;
  /** Where to send output lines (default: this process's stdout with a prefix); null drops them. */
  onLine?: ((line: string) => void) | null;
  readyTimeoutMs?: number;
}

/** A child process we started: ready when it says so, stopped with SIGTERM. */
export class ManagedProcess {
  private static readonly live = new Set<ManagedProcess>();

  static {
    // If the supervisor itself dies, take the children with it.
    process.on('exit', () => ManagedProcess.live.forEach((p) => p.child.kill('SIGKILL')));
  }

  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  private readonly recentLines: string[] = [];
  private readonly lineListeners = new Set<(line: string) => void>();

  constructor(readonly spec: ProcessSpec) {
    const [command, args] = spec.cpus ? ['taskset', ['-c', spec.cpus, spec.command, ...spec.args]] : [spec.command, spec.args];
    this.child = spawn(command, args, {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C reaches only the supervisor, which stops children in order
      // (workers before Redis) instead of all at once.
      detached: true,
    });
    ManagedProcess.live.add(this);
    this.child.on('exit', () => ManagedProcess.live.delete(this));
    const print = spec.onLine === undefined ? (line: string) => process.stdout.write(`[${spec.name}] ${line}\n`) : spec.onLine;
    let markReady: () => void;
    let failReady: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => undefined);
    const timer = setTimeout(
      () => failReady(new Error(`${spec.name} was not ready after ${spec.readyTimeoutMs ?? 60_000} ms:\n${this.recentLines.join('\n')}`)),
      spec.readyTimeoutMs ?? 60_000,
    );
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.recentLines.push(line);
        if (this.recentLines.length > 40) this.recentLines.shift();
        print?.(line);
        this.lineListeners.forEach((listener) => listener(line));
        if (spec.readyPattern.test(line)) {
          clearTimeout(timer);
          markReady();
        }
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        clearTimeout(timer);
        failReady(new Error(`${spec.name} exited (${signal ?? code}) before it was ready:\n${this.recentLines.join('\n')}`));
        resolve(code);
      });
      this.child.on('error', (err) => {
        clearTimeout(timer);
        failReady(new Error(`${spec.name} could not start: ${err.message}`));
        resolve(null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines it printed (for error messages). */
  lines(): string[] {
    return [...this.recentLines];
  }

  /** Call `listener` with every line it prints from now on (lines() keeps only the last 40); returns the unsubscribe. */
  tap(listener: (line: string) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  /** Send `signal` and wait for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(kill);
    return code;
  }
}

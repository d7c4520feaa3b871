// Runs a helper script of bench/children/ in a fresh Node process and returns the JSON
// object it sends back, so that one measurement's heap and RSS never leak into another.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runChild(script, args, { execArgv = ['--expose-gc'], timeoutMs = 600_000, env = process.env } = {}) {
  const path = fileURLToPath(new URL(`../children/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = fork(path, [JSON.stringify(args)], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let message;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (m) => (message = m));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (message && !message.error) resolve(message);
      else reject(new Error(`${script} ${JSON.stringify(args)}: ${message?.error ?? `exit ${code ?? signal}`}`));
    });
  });
}

/**
 * For the child side: parse the argument, run `main`, send its result to the parent (or
 * print it, when the script is run by hand: `node --expose-gc bench/children/gc.mjs '{...}'`).
 */
export async function childMain(main) {
  const reply = (msg) => (process.send ? process.send(msg) : console.log(JSON.stringify(msg, null, 2)));
  try {
    const args = JSON.parse(process.argv[2] ?? '{}');
    reply(await main(args));
  } catch (err) {
    reply({ error: String(err?.stack ?? err) });
    process.exitCode = 1;
  }
  if (process.send) process.disconnect();
}

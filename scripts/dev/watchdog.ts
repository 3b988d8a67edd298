/**
 * The supervisor's watchdog: started by it in a process group of its own, with a pipe on its
 * stdin. The pipe closes when the supervisor exits, however it dies (SIGKILL, the OOM killer, a
 * crash): the watchdog then stops every process group the stack file still lists, and removes it.
 * After a clean shutdown the supervisor has already stopped them and removed the file.
 *
 *   node --import tsx scripts/dev/watchdog.ts <stack file> <supervisor pid>
 */
import { readStack, removeStack, stopRecorded } from './stack-file';

const [file, supervisorPid] = process.argv.slice(2);
if (!file || !supervisorPid) {
  console.error('usage: watchdog.ts <stack file> <supervisor pid>');
  process.exit(2);
}

async function cleanUp(): Promise<void> {
  const stack = readStack(file!);
  // Only the stack of the supervisor watched: a newer run may have taken the folder since.
  if (stack && stack.supervisor.pid === Number(supervisorPid)) {
    await stopRecorded([...stack.processes].reverse());
    removeStack(file!);
  }
  process.exit(0);
}

process.stdin.on('end', () => void cleanUp());
process.stdin.on('error', () => void cleanUp());
process.stdin.resume();
// Ctrl-C and SIGTERM reach the supervisor, which stops the stack in order: not the watchdog's job.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

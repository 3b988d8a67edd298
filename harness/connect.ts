import { Connection, type ConnectionOptions } from '@temporalio/client';
import { sleep } from './processes';

/**
 * A connection to Temporal once it answers (a server just started takes seconds), or an error
 * after `timeoutMs`. It reads messages up to 64 MB: a hot run's history passes gRPC's 4 MB default.
 */
export async function connectWhenUp(options: ConnectionOptions, timeoutMs = 60_000): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ ...options, connectTimeout: 500, channelArgs: { 'grpc.max_receive_message_length': 64 * 2 ** 20, ...options.channelArgs } });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal did not answer at ${options.address} within ${timeoutMs} ms`, { cause: err });
      await sleep(250);
    }
  }
}

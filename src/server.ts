// `npm start`: the Probot server with asyncguard loaded. Probot reads its standard variables
// (APP_ID, PRIVATE_KEY(_PATH), WEBHOOK_SECRET, PORT, HOST, GHE_HOST, GHE_PROTOCOL, LOG_LEVEL ...);
// without an app id it serves GitHub App registration at http://localhost:3000.
import { run } from 'probot';
import { createAsyncguard } from './app.js';

const asyncguard = createAsyncguard();
const server = await run(asyncguard.app);

// On `docker stop`: stop taking webhooks, finish the reviews under way, then exit.
async function shutdown(): Promise<void> {
  await server.stop();
  await asyncguard.idle();
  await asyncguard.close();
}

process.once('SIGTERM', () => {
  shutdown().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`asyncguard: shutdown failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});

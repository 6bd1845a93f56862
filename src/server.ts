// `npm start`: the Probot server with asyncguard loaded. Probot reads its standard variables
// (APP_ID, PRIVATE_KEY(_PATH), WEBHOOK_SECRET, PORT, HOST, GHE_HOST, GHE_PROTOCOL, LOG_LEVEL ...);
// without an app id it serves GitHub App registration at http://localhost:3000.
import { run } from 'probot';
import { createAsyncguard } from './app.js';

const asyncguard = createAsyncguard();
const server = await run(asyncguard.app);

// On `docker stop`: stop taking webhooks, finish the reviews under way, then exit.
process.once('SIGTERM', () => {
  void (async () => {
    await server.stop();
    await asyncguard.idle();
    await asyncguard.close();
    process.exit(0);
  })();
});

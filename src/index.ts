// The Probot app function, for `probot run` and adapters (e.g. the GitHub Actions adapter).
import { createAsyncguard } from './app.js';

export default createAsyncguard().app;

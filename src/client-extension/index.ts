export { ConnectionResumption, type ResumableConnectionOptions } from './connection-resumption.js';

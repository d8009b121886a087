export { ConnectionResumption, type ResumableConnectionOptions } from './connection-resumption.js';
export { AuthenticationRefresh, type AuthenticationRefreshOptions } from './authentication-refresh.js';

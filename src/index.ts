/** Tributary's library entry point. */
export { startBroker, Broker, type StartBrokerOptions, type BrokerHandle } from './broker/broker.ts';
export { ConfigError } from './broker/broker-config.ts';
export { createLogger, silentLogger, type Logger, type LogLevel } from './common/logger.ts';
export { VERSION } from './common/version.ts';

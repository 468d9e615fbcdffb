// Public API of the configuration module.
export { loadConfig, formatPath, type LoadOptions } from './load.ts';
export { defaultConfig, defaultConfigObject, renderDefaultConfigYaml, DEFAULT_SOURCE, type DefaultConfigOptions } from './default.ts';
export { ConfigError, formatIssue, type ConfigIssue } from './errors.ts';
export { substituteEnv, SubstitutionError, type Env } from './substitute.ts';
export { parseDuration } from './duration.ts';
export { parseKeyValueList, readOtlpEnv, readSdkEnv, readSignalExporters, type OtlpEnv, type SdkEnv } from './env.ts';
export { validateAgainst } from './schema.ts';
export * from './types.ts';

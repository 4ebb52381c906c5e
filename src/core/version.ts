/** @internal The SDK version written into every document (`sdk.version`); a test keeps it equal to package.json. */
export const SDK_VERSION = '0.1.0'
/** @internal */
export const SDK_NAME = 'tracellm'

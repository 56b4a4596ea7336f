export { sharedData, sharedDataMissingReason, sharedDataPath } from '@recipe-kit/core/testing';

export { useTestBackend } from '@recipe-kit/core/testing';

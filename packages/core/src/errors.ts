/**
 * One error class per kind of failure. Every message names the problem and
 * the fix, so a user can act on it without reading our source.
 */
export class RecipeKitError extends Error {
  /** What the user can do about it. Always part of `message` too. */
  readonly hint: string;

  constructor(problem: string, hint: string, options?: { cause?: unknown }) {
    super(`${problem}\n  → ${hint}`, options);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** A checkpoint file (safetensors, llama2.c .bin, config.json) is malformed or disagrees with itself. */
export class InvalidCheckpointError extends RecipeKitError {}

/** A configuration value is missing, has the wrong type, or is out of range. */
export class InvalidConfigError extends RecipeKitError {}

/** The caller passed input the operation cannot handle (shape, length, value). */
export class InvalidInputError extends RecipeKitError {}

/** A prompt (plus prefix and generated tokens) does not fit the model's context window. */
export class ContextOverflowError extends InvalidInputError {}

/** The model (or other component) lacks a capability the caller needs. */
export class UnsupportedCapabilityError extends RecipeKitError {}

/** A requested tensor backend is not installed or cannot start. */
export class BackendUnavailableError extends RecipeKitError {}

/** A file or directory the user named does not exist or cannot be read. */
export class DataNotFoundError extends RecipeKitError {}

/** An editor's trained artefact (RECIPE checkpoint, hypernetwork) is missing: train it or point to it. */
export class MissingArtifactError extends DataNotFoundError {}

/** A dataset file is malformed: the message names the file, the record and the field. */
export class InvalidDatasetError extends RecipeKitError {}

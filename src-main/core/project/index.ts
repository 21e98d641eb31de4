// The project store's public surface: import from here, not from the repository modules.

export {
  Project,
  type ImportStage,
  type OpenOptions,
  type ProjectTransaction,
  type ReadHeadersOptions,
} from './project.ts'
export { defaultUserDataDir, folderKey, useSqliteBinding, DB_FILE, PROJECT_DIR } from './database.ts'
export type { ImageFilter } from './images-repo.ts'
export { IMAGE_EXTENSIONS, naturalCompare } from './image-files.ts'
export { SCHEMA_VERSION } from './migrations/index.ts'
export * from './types.ts'

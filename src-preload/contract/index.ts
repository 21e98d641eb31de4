// The whole IPC contract in one table: every domain's methods (argument schema, result type),
// every channel name derived from it, and the shapes of the bridge (`window.api`, envelopes)
// and of the renderer's client (plain results, ApiError). Main registers one handler per
// entry, the preload one method per entry, and a test holds the three to each other.
// Runtime-neutral: no Node, DOM or Electron imports.
import { annotations } from './annotations.ts'
import { categories } from './categories.ts'
import { channelOf, type ArgsOf, type Channel, type OutputOf } from './define.ts'
import type { EventsApi } from './events.ts'
import { exportDomain } from './export.ts'
import { images } from './images.ts'
import { model } from './model.ts'
import { project } from './project.ts'
import type { IpcResult } from './result.ts'
import { segment } from './segment.ts'

export const CONTRACT = {
  project,
  images,
  annotations,
  categories,
  segment,
  export: exportDomain,
  model,
}

export type Contract = typeof CONTRACT
export type DomainName = keyof Contract
export type MethodName<D extends DomainName> = keyof Contract[D] & string
export type InvokeChannel = { [D in DomainName]: Channel<D, MethodName<D>> }[DomainName]

export interface ChannelEntry {
  domain: DomainName
  method: string
  channel: InvokeChannel
}

/** Every invoke channel, in declaration order. */
export const INVOKE_CHANNELS: readonly ChannelEntry[] = Object.entries(CONTRACT).flatMap(([domain, methods]) =>
  Object.keys(methods).map((name) => ({
    domain: domain as DomainName,
    method: name,
    channel: channelOf(domain, name) as InvokeChannel,
  })),
)

/** What the preload exposes as `window.api`: each method answers with an envelope. */
export type BridgeApi = {
  readonly [D in DomainName]: {
    readonly [M in MethodName<D>]: (...args: ArgsOf<Contract[D][M]>) => Promise<IpcResult<OutputOf<Contract[D][M]>>>
  }
} & { readonly events: EventsApi }

/** The renderer's client: each method resolves with its value or rejects with an ApiError. */
export type Api = {
  readonly [D in DomainName]: {
    readonly [M in MethodName<D>]: (...args: ArgsOf<Contract[D][M]>) => Promise<OutputOf<Contract[D][M]>>
  }
} & { readonly events: EventsApi }

export { channelOf, type ArgsOf, type InputOf, type OutputOf, type ParsedOf, type MethodSpec } from './define.ts'
export { ApiError, ERROR_CODES, unwrap, type ErrorCode, type ErrorPayload, type IpcResult } from './result.ts'
export { EVENT_NAMES, eventChannel, type EventName, type EventPayloads, type EventsApi } from './events.ts'
export type { Annotation, StoredAnnotation } from './annotations.ts'
export type {
  Bbox,
  CompressedRle,
  OutlinePart,
  PromptBox,
  PromptPoint,
  PromptRecord,
  Ring,
  Segmentation,
} from './schemas.ts'
export { IMAGE_STATUSES, MAX_PROMPT_POINTS } from './limits.ts'
export type { Category } from './categories.ts'
export type { ExportSummary, ImportSummary } from './export.ts'
export {
  IMAGE_SCHEME,
  PREVIEW_MAX_SIDE,
  imageUrl,
  previewSize,
  type ImagePage,
  type ImageStatus,
  type ProjectImage,
  type ImageUrls,
} from './images.ts'
export type { ModelInfo } from './model.ts'
export type { ProjectCounts, ProjectSummary, RecentProject, ScanSkipped, ScanSummary } from './project.ts'
export type { DecodeResult, EmbeddingSource, EmbeddingState, EmbeddingStatus } from './segment.ts'

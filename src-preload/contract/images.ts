// The `images` domain: the project's images, paged, with status and annotation counts; how
// the renderer loads their pixels (the sam-image: protocol, by id only); and the status the
// annotator sets. Also the protocol's URL scheme and preview rule, shared with main.
import { z } from 'zod'
import { method, result } from './define.ts'
import { id, imageStatus, MAX_NAME_FILTER, MAX_PAGE, type ImageStatus } from './schemas.ts'

export type { ImageStatus }

/** One image of the project, as the store holds it and as the renderer lists it. */
export interface ProjectImage {
  id: number
  /** Relative to the project folder, '/' separators. */
  path: string
  /** Oriented size (EXIF applied); null until the header is read, or when unreadable. */
  width: number | null
  height: number | null
  /** Bytes, from the last scan. */
  size: number
  status: ImageStatus
  /** Not found by the last scan; its annotations are kept. */
  missing: boolean
  /** Why the image cannot be read; null when fine or not read yet. */
  error: string | null
  annotationCount: number
}

/**
 * One page of the image list, in list order. Pages are keyset-paged: the next page starts
 * `after` the last image of this one, so no page recounts or skips rows it has already passed.
 */
export interface ImagePage {
  images: ProjectImage[]
  /** The `after` of the next page; null when this page is the last. */
  next: number | null
  /** Images matching the filter, all pages together; counted for the first page (no `after`) only, else null. */
  total: number | null
  /** Images of each status in the whole project, whatever the filter; first page only, else null. */
  statuses: Record<ImageStatus, number> | null
}

export interface ImageUrls {
  /** Fits in PREVIEW_MAX_SIDE; the same image as `full` when that is already small enough. */
  preview: string
  full: string
  /**
   * Oriented size of the image as main knows it now; null until its header is read. A list
   * fetched while headers were still being read has nulls that this fills in.
   */
  width: number | null
  height: number | null
  /** Preview size in pixels; null when the image size is not known yet. */
  previewWidth: number | null
  previewHeight: number | null
  /** True when the preview is smaller than the image: load `full` when zooming in. */
  downscaled: boolean
}

/** The custom scheme main serves image pixels on (registered as privileged, standard, secure). */
export const IMAGE_SCHEME = 'sam-image'
/** Longest side of a preview; larger images are downscaled for display. */
export const PREVIEW_MAX_SIDE = 2048

export type ImageUrlKind = 'image' | 'preview'

/** Characters of the `v` parameter: main's token for the project open and the file's state. */
export const IMAGE_VERSION = /^[0-9a-z.]{1,64}$/

/**
 * `version` names the project open and the file's state: ids restart in every project, and
 * Chromium reuses a document's images by URL, so without it a second project (or a file
 * replaced on disk) would show the pixels last loaded under the same id.
 */
export function imageUrl(kind: ImageUrlKind, imageId: number, version?: string): string {
  return `${IMAGE_SCHEME}://${kind}/${imageId}${version === undefined ? '' : `?v=${version}`}`
}

/** Size of an image's preview: scaled to fit PREVIEW_MAX_SIDE, never enlarged. */
export function previewSize(width: number, height: number): { width: number; height: number; downscaled: boolean } {
  const scale = Math.min(1, PREVIEW_MAX_SIDE / Math.max(width, height))
  if (scale === 1) return { width, height, downscaled: false }
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
    downscaled: true,
  }
}

export const images = {
  list: method(
    z
      .strictObject({
        /** The page starts after this image (the `next` of the page before); absent: the first page. */
        after: id.optional(),
        limit: z.int().min(1).max(MAX_PAGE).default(200),
        status: imageStatus.optional(),
        /** Only images whose path contains this, ignoring case. */
        name: z.string().max(MAX_NAME_FILTER).optional(),
      })
      // No argument: the first page of every image.
      .prefault({}),
    result<ImagePage>(),
  ),
  get: method(z.strictObject({ imageId: id }), result<ProjectImage>()),
  urls: method(z.strictObject({ imageId: id }), result<ImageUrls>()),
  setStatus: method(z.strictObject({ imageId: id, status: imageStatus }), result<ProjectImage>()),
}
